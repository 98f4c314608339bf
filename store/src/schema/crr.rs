//! A replicated table's machinery: its clock table, the triggers that
//! capture local writes into it and into the version log, and the SQL that
//! merge and extraction run against it.
//!
//! The clock table `__patina_clock_<table>` has one row per row of the
//! table (alive or deleted), keyed like it: the row's causal length
//! `__patina_cl` with the db_version and site ordinal of the write that set
//! it (`__patina_cl_dbv`, `__patina_cl_site`), then per replicated column
//! `c` its col_version `__patina_cv_c` (0 = no clock: a deleted row's, or a
//! column added after the row was written) and the db_version and site of
//! its last write (`__patina_dbv_c`, `__patina_site_c`). Site ordinal 0 is
//! this node.
//!
//! The version log `__patina_log (site, dbv, tbl, pk, seq)` has one entry per
//! row written per version, so a peer's request for a range of one site's
//! versions is a range scan. Entries outlive the cells they point at
//! (extraction checks the clocks) until compaction removes them; this
//! node's highest entry is never removed, so it is the last committed
//! db_version.

use rusqlite::Connection;

use crate::capture::{ASSIGN_DB_VERSION, TXN_VERSION};
use crate::sql::{column_list, columns_match, ident, params_match};

/// Clock column names of value column `c`: col_version, db_version, site.
pub(crate) fn clock_columns(column: &str) -> [String; 3] {
    ["cv", "dbv", "site"].map(|part| format!("__patina_{part}_{column}"))
}

/// The declarations of a value column's clock columns: its col_version,
/// and the db_version and site of its last write.
fn clock_column_defs(column: &str) -> [String; 3] {
    let [cv, dbv, site] = clock_columns(column);
    [
        format!("{} INTEGER NOT NULL DEFAULT 0", ident(&cv)),
        format!("{} INTEGER", ident(&dbv)),
        format!("{} INTEGER", ident(&site)),
    ]
}

#[derive(Debug)]
pub(crate) struct TableInfo {
    /// This node's number for the table in the version log.
    pub id: i64,
    pub name: String,
    pub pk: Vec<String>,
    /// Declared types of the key columns: the clock table declares its key
    /// the same way, so comparisons between the two keep their affinity and
    /// use the clock's primary key (a typeless key column would make the
    /// triggers' `key = NEW.key` a full scan).
    pk_types: Vec<String>,
    pub columns: Vec<String>,
    pub clock: String,
    pub sql: TableSql,
}

/// Statements merge, extraction and compaction prepare (and cache) for one
/// table. Key values bind to `?1..?k`, in key order.
#[derive(Debug)]
pub(crate) struct TableSql {
    /// `cl, cl_dbv, cl_site`, then `cv, dbv, site` per column, then the
    /// column values (NULL for a deleted row).
    pub row_state: String,
    /// Sets the row's life to `?k+1` (written by db_version `?k+2` of site
    /// `?k+3`) and clears its column clocks, creating the clock row if needed.
    pub life_put: String,
    pub row_create: String,
    pub row_delete: String,
    /// [`values_update`] and [`clocks_update`] of every value column.
    pub values_put: String,
    pub clocks_put: String,
    /// [`row_upsert`] of every value column.
    pub row_put: String,
    /// The whole clock row: the life `?k+1` written by db_version `?k+2`
    /// of site `?k+3`, then per column its col_version, db_version and site
    /// (0, NULL, NULL for no clock).
    pub clock_row_put: String,
}

/// `INSERT INTO t (key, columns) VALUES (?1…?k, ?k+1…) ON CONFLICT DO
/// UPDATE SET columns`: the row with `columns` set, whether it exists or
/// not (other columns keep their value or get their default).
pub(crate) fn row_upsert(table: &str, pk: &[String], columns: &[&String]) -> String {
    let names: Vec<String> = pk
        .iter()
        .chain(columns.iter().copied())
        .map(|c| ident(c))
        .collect();
    let params: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let sets: Vec<String> = columns
        .iter()
        .map(|c| format!("{0} = excluded.{0}", ident(c)))
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO UPDATE SET {}",
        ident(table),
        names.join(", "),
        params.join(", "),
        sets.join(", ")
    )
}

fn clock_row_upsert(clock: &str, pk: &[String], columns: &[String]) -> String {
    let mut names = vec![
        "__patina_cl".to_owned(),
        "__patina_cl_dbv".to_owned(),
        "__patina_cl_site".to_owned(),
    ];
    for column in columns {
        names.extend(clock_columns(column));
    }
    let names: Vec<String> = names.iter().map(|n| ident(n)).collect();
    let params: Vec<String> = (1..=pk.len() + names.len())
        .map(|i| format!("?{i}"))
        .collect();
    let sets: Vec<String> = names
        .iter()
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    format!(
        "INSERT INTO {} ({}, {}) VALUES ({}) ON CONFLICT DO UPDATE SET {}",
        ident(clock),
        column_list("", pk),
        names.join(", "),
        params.join(", "),
        sets.join(", ")
    )
}

/// `UPDATE t SET c = ?k+1, d = ?k+2, … WHERE key`: new values of `columns`.
pub(crate) fn values_update(table: &str, pk: &[String], columns: &[&String]) -> String {
    let k = pk.len();
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ?{}", ident(c), k + 1 + i))
        .collect();
    format!(
        "UPDATE {} SET {} WHERE {}",
        ident(table),
        sets.join(", "),
        params_match("", pk, 1)
    )
}

/// Sets the clocks of `columns` in the clock table `clock`, all written by
/// db_version `?k+1` of site `?k+2`, with col_versions `?k+3, ?k+4, …`.
pub(crate) fn clocks_update(clock: &str, pk: &[String], columns: &[&String]) -> String {
    let k = pk.len();
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let [cv, dbv, site] = clock_columns(c).map(|n| ident(&n));
            format!(
                "{cv} = ?{}, {dbv} = ?{}, {site} = ?{}",
                k + 3 + i,
                k + 1,
                k + 2
            )
        })
        .collect();
    format!(
        "UPDATE {} SET {} WHERE {}",
        ident(clock),
        sets.join(", "),
        params_match("", pk, 1)
    )
}

/// `UPDATE clock SET` the recorded writer of the row's life (`?k+1` its
/// db_version, `?k+2` its site) `WHERE key`: the life itself and the
/// column clocks stay.
pub(crate) fn life_writer_update(clock: &str, pk: &[String]) -> String {
    let k = pk.len();
    format!(
        "UPDATE {} SET __patina_cl_dbv = ?{}, __patina_cl_site = ?{} WHERE {}",
        ident(clock),
        k + 1,
        k + 2,
        params_match("", pk, 1)
    )
}

impl TableInfo {
    pub fn new(
        id: i64,
        name: String,
        pk: Vec<(String, String)>,
        columns: Vec<String>,
    ) -> TableInfo {
        let clock = format!("__patina_clock_{name}");
        let (pk, pk_types): (Vec<String>, Vec<String>) = pk.into_iter().unzip();
        let sql = TableSql::new(&name, &clock, &pk, &columns);
        TableInfo {
            id,
            name,
            pk,
            pk_types,
            columns,
            clock,
            sql,
        }
    }

    pub fn column_index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// Creates the clock table.
    pub fn create_clock(&self, conn: &Connection) -> rusqlite::Result<()> {
        let keys = column_list("", &self.pk);
        let typed_keys = self
            .pk
            .iter()
            .zip(&self.pk_types)
            .map(|(name, ty)| format!("{} {ty}", ident(name)))
            .collect::<Vec<_>>()
            .join(", ");
        // The columns are declared here, not added one by one: every ALTER
        // TABLE makes SQLite re-read the whole schema.
        let value_clocks: String = self
            .columns
            .iter()
            .flat_map(|column| clock_column_defs(column))
            .map(|def| def + ", ")
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE {} ({typed_keys}, __patina_cl INTEGER NOT NULL, \
               __patina_cl_dbv INTEGER NOT NULL, __patina_cl_site INTEGER NOT NULL, \
               {value_clocks}PRIMARY KEY ({keys})) WITHOUT ROWID",
            ident(&self.clock),
        ))
    }

    /// Adds the clock columns of value columns that have none yet.
    pub fn add_clock_columns(&self, conn: &Connection) -> rusqlite::Result<()> {
        let existing: Vec<String> = conn
            .prepare_cached("SELECT name FROM pragma_table_info(?1)")?
            .query_map([&self.clock], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let clock = ident(&self.clock);
        let mut batch = String::new();
        for column in &self.columns {
            let [cv, ..] = clock_columns(column);
            if !existing.iter().any(|e| e.eq_ignore_ascii_case(&cv)) {
                for def in clock_column_defs(column) {
                    batch += &format!("ALTER TABLE {clock} ADD COLUMN {def};\n");
                }
            }
        }
        conn.execute_batch(&batch)
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
    /// Changes are detected byte for byte (`COLLATE BINARY`): under a
    /// column's own collation `'9.9'` and `'9.90'` may compare equal, and
    /// the new bytes would never replicate.
    pub fn create_triggers(&self, conn: &Connection) -> rusqlite::Result<()> {
        self.drop_triggers(conn)?;
        let table = ident(&self.name);
        let key_moved = self
            .pk
            .iter()
            .map(|c| format!("OLD.{0} IS NOT NEW.{0} COLLATE BINARY", ident(c)))
            .collect::<Vec<_>>()
            .join(" OR ");
        let mut batch = format!(
            "CREATE TRIGGER {} AFTER INSERT ON {table} WHEN patina_capture() BEGIN\n\
             {ASSIGN_DB_VERSION};\n{}{}END;\n",
            self.trigger_name("ins"),
            self.log("NEW"),
            self.row_alive("NEW"),
        );
        batch += &format!(
            "CREATE TRIGGER {} AFTER DELETE ON {table} WHEN patina_capture() BEGIN\n\
             {ASSIGN_DB_VERSION};\n{}{}END;\n",
            self.trigger_name("del"),
            self.log("OLD"),
            self.row_dead("OLD"),
        );
        batch += &format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {table} WHEN patina_capture() AND ({key_moved}) \
             BEGIN\n{ASSIGN_DB_VERSION};\n{}{}{}{}END;\n",
            self.trigger_name("updpk"),
            self.log("OLD"),
            self.row_dead("OLD"),
            self.log("NEW"),
            self.row_alive("NEW"),
        );
        if !self.columns.is_empty() {
            let changed = |c: &String| format!("OLD.{0} IS NOT NEW.{0} COLLATE BINARY", ident(c));
            let any_changed = self
                .columns
                .iter()
                .map(changed)
                .collect::<Vec<_>>()
                .join(" OR ");
            let sets: Vec<String> = self
                .columns
                .iter()
                .flat_map(|c| {
                    let [cv, dbv, site] = clock_columns(c).map(|n| ident(&n));
                    let when = changed(c);
                    [
                        format!("{cv} = CASE WHEN {when} THEN {cv} + 1 ELSE {cv} END"),
                        format!("{dbv} = CASE WHEN {when} THEN {TXN_VERSION} ELSE {dbv} END"),
                        format!("{site} = CASE WHEN {when} THEN 0 ELSE {site} END"),
                    ]
                })
                .collect();
            batch += &format!(
                "CREATE TRIGGER {} AFTER UPDATE ON {table} \
                 WHEN patina_capture() AND NOT ({key_moved}) AND ({any_changed}) BEGIN\n\
                 {ASSIGN_DB_VERSION};\n{}UPDATE {} SET {} WHERE {};\nEND;\n",
                self.trigger_name("upd"),
                self.log("NEW"),
                ident(&self.clock),
                sets.join(", "),
                self.key_is("NEW"),
            );
        }
        conn.execute_batch(&batch)
    }

    /// Clocks the existing rows of a table that just became replicated, as
    /// one local transaction's writes (none if the table is empty).
    pub fn backfill(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(&format!(
            "{ASSIGN_DB_VERSION} AND EXISTS (SELECT 1 FROM {});\n\
             INSERT INTO __patina_log (site, dbv, tbl, pk, seq) \
             SELECT 0, {TXN_VERSION}, {}, patina_pack({}), patina_seq() FROM {} WHERE true \
             ON CONFLICT DO NOTHING;\n\
             {} FROM {} WHERE true ON CONFLICT DO NOTHING;",
            ident(&self.name),
            self.id,
            column_list("", &self.pk),
            ident(&self.name),
            self.insert_clock_row(""),
            ident(&self.name),
        ))
    }

    /// `INSERT INTO clock (…) SELECT <row>.key, 1, …` for a fresh live row
    /// with every column clocked at 1 by this transaction (whose version a
    /// log insert has set already).
    fn insert_clock_row(&self, row: &str) -> String {
        let mut names = vec![
            "__patina_cl".to_owned(),
            "__patina_cl_dbv".to_owned(),
            "__patina_cl_site".to_owned(),
        ];
        let mut values = vec!["1".to_owned(), TXN_VERSION.to_owned(), "0".to_owned()];
        for column in &self.columns {
            names.extend(clock_columns(column));
            values.extend(["1".to_owned(), TXN_VERSION.to_owned(), "0".to_owned()]);
        }
        let names: Vec<String> = names.iter().map(|n| ident(n)).collect();
        format!(
            "INSERT INTO {} ({}, {}) SELECT {}, {}",
            ident(&self.clock),
            column_list("", &self.pk),
            names.join(", "),
            column_list(&row_prefix(row), &self.pk),
            values.join(", "),
        )
    }

    /// The row lives (created, resurrected, or replaced): a deleted row's
    /// causal length becomes odd again; every column is clocked once more.
    fn row_alive(&self, row: &str) -> String {
        let mut sets = vec![
            "__patina_cl_dbv = CASE WHEN __patina_cl % 2 = 0 THEN excluded.__patina_cl_dbv \
             ELSE __patina_cl_dbv END"
                .to_owned(),
            "__patina_cl_site = CASE WHEN __patina_cl % 2 = 0 THEN 0 ELSE __patina_cl_site END"
                .to_owned(),
            "__patina_cl = __patina_cl + (__patina_cl % 2 = 0)".to_owned(),
        ];
        for column in &self.columns {
            let [cv, dbv, site] = clock_columns(column).map(|n| ident(&n));
            sets.push(format!("{cv} = {cv} + 1"));
            sets.push(format!("{dbv} = excluded.{dbv}"));
            sets.push(format!("{site} = 0"));
        }
        format!(
            "{} WHERE true ON CONFLICT DO UPDATE SET {};\n",
            self.insert_clock_row(row),
            sets.join(", ")
        )
    }

    /// The row dies: its causal length becomes even and its column clocks
    /// are cleared, so a later insert starts every column afresh.
    fn row_dead(&self, row: &str) -> String {
        let mut sets = vec![
            "__patina_cl = __patina_cl + 1".to_owned(),
            format!("__patina_cl_dbv = {TXN_VERSION}"),
            "__patina_cl_site = 0".to_owned(),
        ];
        sets.extend(clear_column_clocks(&self.columns));
        format!(
            "UPDATE {} SET {} WHERE {} AND __patina_cl % 2 = 1;\n",
            ident(&self.clock),
            sets.join(", "),
            self.key_is(row),
        )
    }

    fn log(&self, row: &str) -> String {
        format!(
            "INSERT INTO __patina_log (site, dbv, tbl, pk, seq) \
             VALUES (0, {TXN_VERSION}, {}, patina_pack({}), patina_seq()) ON CONFLICT DO NOTHING;\n",
            self.id,
            column_list(&row_prefix(row), &self.pk),
        )
    }

    /// `k1 = NEW.k1 AND …`.
    fn key_is(&self, row: &str) -> String {
        self.pk
            .iter()
            .map(|c| format!("{0} = {row}.{0}", ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

fn row_prefix(row: &str) -> String {
    if row.is_empty() {
        String::new()
    } else {
        format!("{row}.")
    }
}

fn clear_column_clocks(columns: &[String]) -> Vec<String> {
    columns
        .iter()
        .flat_map(|column| {
            let [cv, dbv, site] = clock_columns(column).map(|n| ident(&n));
            [
                format!("{cv} = 0"),
                format!("{dbv} = NULL"),
                format!("{site} = NULL"),
            ]
        })
        .collect()
}

impl TableSql {
    fn new(name: &str, name_clock: &str, pk: &[String], columns: &[String]) -> TableSql {
        let table = ident(name);
        let clock = ident(name_clock);
        let all: Vec<&String> = columns.iter().collect();
        let k = pk.len();
        let key = params_match("", pk, 1);
        let keys = column_list("", pk);
        let key_params = (1..=k)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut state = vec![
            "c.__patina_cl".to_owned(),
            "c.__patina_cl_dbv".to_owned(),
            "c.__patina_cl_site".to_owned(),
        ];
        for column in columns {
            state.extend(clock_columns(column).map(|n| format!("c.{}", ident(&n))));
        }
        state.extend(columns.iter().map(|c| format!("t.{}", ident(c))));
        let mut life_sets = vec![
            "__patina_cl = excluded.__patina_cl".to_owned(),
            "__patina_cl_dbv = excluded.__patina_cl_dbv".to_owned(),
            "__patina_cl_site = excluded.__patina_cl_site".to_owned(),
        ];
        life_sets.extend(clear_column_clocks(columns));
        TableSql {
            row_state: format!(
                "SELECT {} FROM {clock} c LEFT JOIN {table} t ON {} WHERE {}",
                state.join(", "),
                columns_match("t", "c", pk),
                params_match("c.", pk, 1),
            ),
            life_put: format!(
                "INSERT INTO {clock} ({keys}, __patina_cl, __patina_cl_dbv, __patina_cl_site) \
                 VALUES ({key_params}, ?{}, ?{}, ?{}) ON CONFLICT DO UPDATE SET {}",
                k + 1,
                k + 2,
                k + 3,
                life_sets.join(", ")
            ),
            row_create: format!("INSERT OR IGNORE INTO {table} ({keys}) VALUES ({key_params})"),
            row_delete: format!("DELETE FROM {table} WHERE {key}"),
            values_put: values_update(name, pk, &all),
            clocks_put: clocks_update(name_clock, pk, &all),
            row_put: row_upsert(name, pk, &all),
            clock_row_put: clock_row_upsert(name_clock, pk, columns),
        }
    }
}
