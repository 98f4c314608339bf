//! A replicated table's machinery: its clock table, the triggers that
//! capture local writes into it, and the SQL that merge and extraction run
//! against it.
//!
//! The clock table `__patina_clock_<table>` has the table's key columns plus
//! `__patina_cid` (the column name, `''` for the row's causal length),
//! `__patina_cv` (col_version, or the causal length for `''`),
//! `__patina_dbv` and `__patina_site` (db_version and site ordinal of the
//! write; ordinal 0 is this node) and `__patina_seq`. It is indexed by
//! (site, db_version) so a peer's request for a range of versions is a seek.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::sql::{column_list, columns_match, ident, literal, params_match};

/// Where the transaction's db_version lives, and the statement that moves it
/// forward once per transaction (see `capture`).
const BUMP_DB_VERSION: &str =
    "UPDATE __patina_db_version SET v = v + 1, txn = patina_txn() WHERE txn IS NOT patina_txn()";

#[derive(Debug)]
pub(crate) struct TableInfo {
    pub name: String,
    pub pk: Vec<String>,
    pub columns: Vec<String>,
    pub clock: String,
    pub sql: TableSql,
}

/// Statements merge and extraction prepare (and cache) for one table.
/// Key values bind to `?1..?k`, in key order.
#[derive(Debug)]
pub(crate) struct TableSql {
    /// `(cid, cv, site)` of the row's causal length and of column `?k+1`.
    pub clocks_of: String,
    /// Upsert a clock: `?k+1` cid, then cv, dbv, site, seq.
    pub clock_put: String,
    pub clock_drop_columns: String,
    pub row_create: String,
    pub row_delete: String,
    /// Changes of site `?1` in db_versions `?2..=?3`.
    pub extract: String,
    value_get: HashMap<String, String>,
    value_set: HashMap<String, String>,
}

impl TableSql {
    /// `SELECT col FROM t WHERE key`.
    pub fn value_get(&self, column: &str) -> Option<&str> {
        self.value_get.get(column).map(String::as_str)
    }

    /// `UPDATE t SET col = ?k+1 WHERE key`.
    pub fn value_set(&self, column: &str) -> Option<&str> {
        self.value_set.get(column).map(String::as_str)
    }
}

impl TableInfo {
    pub fn new(name: String, pk: Vec<String>, columns: Vec<String>) -> TableInfo {
        let clock = format!("__patina_clock_{name}");
        let sql = TableSql::new(&name, &clock, &pk, &columns);
        TableInfo {
            name,
            pk,
            columns,
            clock,
            sql,
        }
    }

    pub fn has_column(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c == column)
    }

    /// Creates the clock table and its index.
    pub fn create_clock(&self, conn: &Connection) -> rusqlite::Result<()> {
        let clock = ident(&self.clock);
        let keys = column_list("", &self.pk);
        conn.execute_batch(&format!(
            "CREATE TABLE {clock} ({keys}, __patina_cid TEXT NOT NULL, \
               __patina_cv INTEGER NOT NULL, __patina_dbv INTEGER NOT NULL, \
               __patina_site INTEGER NOT NULL, __patina_seq INTEGER NOT NULL, \
               PRIMARY KEY ({keys}, __patina_cid)) WITHOUT ROWID;
             CREATE INDEX {} ON {clock} (__patina_site, __patina_dbv);",
            ident(&format!("{}_by_version", self.clock)),
        ))
    }

    fn trigger_name(&self, kind: &str) -> String {
        ident(&format!("__patina_{kind}_{}", self.name))
    }

    pub fn drop_triggers(&self, conn: &Connection) -> rusqlite::Result<()> {
        let batch: String = ["ins", "upd", "updpk", "del"]
            .iter()
            .map(|kind| format!("DROP TRIGGER IF EXISTS {};\n", self.trigger_name(kind)))
            .collect();
        conn.execute_batch(&batch)
    }

    /// (Re)creates the capture triggers for the table's current columns.
    pub fn create_triggers(&self, conn: &Connection) -> rusqlite::Result<()> {
        self.drop_triggers(conn)?;
        let table = ident(&self.name);
        let trigger = |kind: &str| self.trigger_name(kind);
        let mut batch = String::new();
        let key_moved = self
            .pk
            .iter()
            .map(|c| format!("OLD.{0} IS NOT NEW.{0}", ident(c)))
            .collect::<Vec<_>>()
            .join(" OR ");
        let all_columns: String = self
            .columns
            .iter()
            .map(|c| self.clock_column("NEW", c, "true"))
            .collect();

        batch += &format!(
            "CREATE TRIGGER {} AFTER INSERT ON {table} WHEN patina_capture() BEGIN\n\
             {BUMP_DB_VERSION};\n{}{all_columns}END;\n",
            trigger("ins"),
            self.row_alive("NEW"),
        );
        batch += &format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {table} WHEN patina_capture() AND ({key_moved}) BEGIN\n\
             {BUMP_DB_VERSION};\n{}{}{}{all_columns}END;\n",
            trigger("updpk"),
            self.row_dead("OLD"),
            self.drop_column_clocks("OLD"),
            self.row_alive("NEW"),
        );
        batch += &format!(
            "CREATE TRIGGER {} AFTER DELETE ON {table} WHEN patina_capture() BEGIN\n\
             {BUMP_DB_VERSION};\n{}{}END;\n",
            trigger("del"),
            self.row_dead("OLD"),
            self.drop_column_clocks("OLD"),
        );
        if !self.columns.is_empty() {
            let changed = |c: &String| format!("OLD.{0} IS NOT NEW.{0}", ident(c));
            let any_changed = self
                .columns
                .iter()
                .map(changed)
                .collect::<Vec<_>>()
                .join(" OR ");
            let each_changed: String = self
                .columns
                .iter()
                .map(|c| self.clock_column("NEW", c, &changed(c)))
                .collect();
            batch += &format!(
                "CREATE TRIGGER {} AFTER UPDATE ON {table} WHEN patina_capture() AND NOT ({key_moved}) BEGIN\n\
                 {BUMP_DB_VERSION} AND ({any_changed});\n{each_changed}END;\n",
                trigger("upd"),
            );
        }
        conn.execute_batch(&batch)
    }

    /// Clocks the existing rows of a table that just became replicated, as
    /// one local transaction's writes.
    pub fn backfill(&self, conn: &Connection) -> rusqlite::Result<()> {
        let table = ident(&self.name);
        let clock = ident(&self.clock);
        let keys = column_list("", &self.pk);
        let mut batch = format!("{BUMP_DB_VERSION} AND EXISTS (SELECT 1 FROM {table});\n");
        for cid in std::iter::once("").chain(self.columns.iter().map(String::as_str)) {
            batch += &format!(
                "INSERT INTO {clock} ({keys}, __patina_cid, __patina_cv, __patina_dbv, \
                   __patina_site, __patina_seq) \
                 SELECT {keys}, {}, 1, (SELECT v FROM __patina_db_version), 0, patina_seq() \
                 FROM {table} WHERE true ON CONFLICT DO NOTHING;\n",
                literal(cid),
            );
        }
        conn.execute_batch(&batch)
    }

    fn insert_clock(&self, row: &str, cid: &str, cv: u8, condition: &str) -> String {
        format!(
            "INSERT INTO {} ({}, __patina_cid, __patina_cv, __patina_dbv, __patina_site, __patina_seq) \
             SELECT {}, {}, {cv}, v, 0, patina_seq() FROM __patina_db_version WHERE {condition} ",
            ident(&self.clock),
            column_list("", &self.pk),
            column_list(&format!("{row}."), &self.pk),
            literal(cid),
        )
    }

    /// Clocks a write of `column`: a fresh clock starts at 1, an existing one
    /// moves up by one.
    fn clock_column(&self, row: &str, column: &str, condition: &str) -> String {
        format!(
            "{}ON CONFLICT DO UPDATE SET __patina_cv = __patina_cv + 1, \
             __patina_dbv = excluded.__patina_dbv, __patina_site = 0, \
             __patina_seq = excluded.__patina_seq;\n",
            self.insert_clock(row, column, 1, condition)
        )
    }

    /// Makes the row's causal length odd (created or resurrected); a live row
    /// (INSERT OR REPLACE) keeps its causal length.
    fn row_alive(&self, row: &str) -> String {
        format!(
            "{}ON CONFLICT DO UPDATE SET __patina_cv = __patina_cv + 1, \
             __patina_dbv = excluded.__patina_dbv, __patina_site = 0, \
             __patina_seq = excluded.__patina_seq WHERE __patina_cv % 2 = 0;\n",
            self.insert_clock(row, "", 1, "true")
        )
    }

    /// Makes the row's causal length even (deleted).
    fn row_dead(&self, row: &str) -> String {
        format!(
            "{}ON CONFLICT DO UPDATE SET __patina_cv = __patina_cv + 1, \
             __patina_dbv = excluded.__patina_dbv, __patina_site = 0, \
             __patina_seq = excluded.__patina_seq WHERE __patina_cv % 2 = 1;\n",
            self.insert_clock(row, "", 2, "true")
        )
    }

    /// A deleted row keeps only its causal length: a later insert starts
    /// every column's clock afresh.
    fn drop_column_clocks(&self, row: &str) -> String {
        let key = self
            .pk
            .iter()
            .map(|c| format!("{0} = {row}.{0}", ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!(
            "DELETE FROM {} WHERE {key} AND __patina_cid != '';\n",
            ident(&self.clock)
        )
    }
}

impl TableSql {
    fn new(name: &str, clock: &str, pk: &[String], columns: &[String]) -> TableSql {
        let table = ident(name);
        let clock = ident(clock);
        let k = pk.len();
        let key = params_match("", pk, 1);
        let keys = column_list("", pk);
        let key_params = (1..=k)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let value_of_cid = if columns.is_empty() {
            "NULL".to_owned()
        } else {
            let arms: String = columns
                .iter()
                .map(|c| format!(" WHEN {} THEN t.{}", literal(c), ident(c)))
                .collect();
            format!("CASE c.__patina_cid{arms} END")
        };
        TableSql {
            clocks_of: format!(
                "SELECT __patina_cid, __patina_cv, __patina_site FROM {clock} \
                 WHERE {key} AND __patina_cid IN ('', ?{})",
                k + 1
            ),
            clock_put: format!(
                "INSERT INTO {clock} ({keys}, __patina_cid, __patina_cv, __patina_dbv, \
                   __patina_site, __patina_seq) VALUES ({key_params}, ?{}, ?{}, ?{}, ?{}, ?{}) \
                 ON CONFLICT DO UPDATE SET __patina_cv = excluded.__patina_cv, \
                   __patina_dbv = excluded.__patina_dbv, __patina_site = excluded.__patina_site, \
                   __patina_seq = excluded.__patina_seq",
                k + 1,
                k + 2,
                k + 3,
                k + 4,
                k + 5
            ),
            clock_drop_columns: format!("DELETE FROM {clock} WHERE {key} AND __patina_cid != ''"),
            row_create: format!("INSERT OR IGNORE INTO {table} ({keys}) VALUES ({key_params})"),
            row_delete: format!("DELETE FROM {table} WHERE {key}"),
            extract: format!(
                "SELECT {}, c.__patina_cid, c.__patina_cv, c.__patina_dbv, c.__patina_seq, \
                   {value_of_cid}, CASE c.__patina_cid WHEN '' THEN c.__patina_cv ELSE s.__patina_cv END \
                 FROM {clock} c \
                 LEFT JOIN {table} t ON {} \
                 LEFT JOIN {clock} s ON {} AND s.__patina_cid = '' \
                 WHERE c.__patina_site = ?1 AND c.__patina_dbv BETWEEN ?2 AND ?3",
                column_list("c.", pk),
                columns_match("t", "c", pk),
                columns_match("s", "c", pk),
            ),
            value_get: columns
                .iter()
                .map(|c| {
                    (
                        c.clone(),
                        format!("SELECT {} FROM {table} WHERE {key}", ident(c)),
                    )
                })
                .collect(),
            value_set: columns
                .iter()
                .map(|c| {
                    (
                        c.clone(),
                        format!("UPDATE {table} SET {} = ?{} WHERE {key}", ident(c), k + 1),
                    )
                })
                .collect(),
        }
    }
}
