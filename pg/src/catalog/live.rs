//! The system relations over a real SQLite database: PostgreSQL queries
//! (psql's among them) translated and run as a session would, with the
//! answers PostgreSQL 15 gives for the same schema.

use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::types::Value;

use crate::functions::{self, SessionClock};
use crate::server::catalog::{self as columns, Tables};
use crate::translate::translate;
use crate::values::text::to_pg_text;

/// A database with the schema the tests share, created through the
/// translator as a session would.
fn database() -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    functions::register(&conn, Arc::new(SessionClock::new(0))).expect("functions");
    conn.execute_batch(columns::CREATE).expect("columns table");
    for sql in [
        "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL DEFAULT '', \
         sku varchar(32) NOT NULL DEFAULT 'x', price numeric(10,2) DEFAULT 9.99, \
         qty integer NOT NULL DEFAULT 1, active boolean DEFAULT true, \
         created timestamptz DEFAULT now(), tags text[])",
        "CREATE UNIQUE INDEX items_sku_key ON items (sku)",
        "CREATE INDEX items_name_idx ON items (name)",
        "CREATE TABLE order_lines (order_id bigint NOT NULL DEFAULT 0, line integer NOT NULL DEFAULT 0, \
         note text UNIQUE, PRIMARY KEY (order_id, line), CONSTRAINT line_positive CHECK (line > 0))",
    ] {
        let tables = Tables::load(&conn).expect("tables");
        for statement in translate(sql, &tables).expect(sql) {
            conn.execute_batch(&statement.sql).expect(&statement.sql);
            if let Some(ddl) = &statement.ddl {
                columns::record(&conn, statement.kind, ddl).expect("record");
            }
        }
    }
    conn
}

/// The rows of a PostgreSQL query, printed as PostgreSQL's text output
/// (`NULL` for NULL), columns joined by `|`.
fn rows(conn: &Connection, sql: &str) -> Vec<String> {
    let tables = Tables::load(conn).expect("tables");
    let translated = translate(sql, &tables).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let statement = translated.last().expect("a statement");
    super::ensure(conn, statement.views).expect("views");
    let mut stmt = conn
        .prepare(&statement.sql)
        .unwrap_or_else(|e| panic!("{}: {e}", statement.sql));
    let mut rows = stmt.query([]).expect("query");
    let mut out = Vec::new();
    while let Some(row) = rows
        .next()
        .unwrap_or_else(|e| panic!("{}: {e}", statement.sql))
    {
        let fields: Vec<String> = statement
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let value: Value = row.get(i).expect("value");
                to_pg_text(&value, column.ty).unwrap_or_else(|| "NULL".into())
            })
            .collect();
        out.push(fields.join("|"));
    }
    out
}

#[test]
fn psql_lists_tables_like_postgres() {
    let conn = database();
    // psql 15 `\dt`
    let listed = rows(
        &conn,
        "SELECT n.nspname as \"Schema\",
  c.relname as \"Name\",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",
  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','v','m','S','f','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;",
    );
    assert_eq!(
        listed,
        [
            "public|items|table|postgres",
            "public|items_id_seq|sequence|postgres",
            "public|order_lines|table|postgres",
        ]
    );
}

#[test]
fn psql_describes_columns_and_indexes_like_postgres() {
    let conn = database();
    let oid = rows(
        &conn,
        "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(items)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3;",
    );
    assert_eq!(oid.len(), 1, "{oid:?}");
    let oid = oid[0].split('|').next().expect("oid").to_owned();
    let attributes = rows(
        &conn,
        &format!(
            "SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '{oid}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;"
        ),
    );
    // the same query on PostgreSQL 15
    assert_eq!(
        attributes,
        [
            "id|integer|nextval('items_id_seq'::regclass)|t|NULL||",
            "name|text|''::text|t|NULL||",
            "sku|character varying(32)|'x'::character varying|t|NULL||",
            "price|numeric(10,2)|9.99|f|NULL||",
            "qty|integer|1|t|NULL||",
            "active|boolean|true|f|NULL||",
            "created|timestamp with time zone|now()|f|NULL||",
            "tags|text[]|NULL|f|NULL||",
        ]
    );
    let indexes = rows(
        &conn,
        &format!(
            "SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '{oid}' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;"
        ),
    );
    assert_eq!(
        indexes,
        [
            "items_pkey|t|t|f|t|CREATE UNIQUE INDEX items_pkey ON public.items USING btree (id)|PRIMARY KEY (id)|p|f|f|f|0",
            "items_name_idx|f|f|f|t|CREATE INDEX items_name_idx ON public.items USING btree (name)|NULL|NULL|NULL|NULL|f|0",
            "items_sku_key|f|t|f|t|CREATE UNIQUE INDEX items_sku_key ON public.items USING btree (sku)|NULL|NULL|NULL|NULL|f|0",
        ]
    );
}

#[test]
fn regclass_reads_and_prints_names() {
    let conn = database();
    let oid = rows(
        &conn,
        "SELECT 'items'::regclass::oid, 'public.items'::regclass",
    );
    assert_eq!(oid.len(), 1);
    let (number, name) = oid[0].split_once('|').expect("two columns");
    assert_eq!(name, "items");
    assert_eq!(
        rows(
            &conn,
            &format!("SELECT relname FROM pg_class WHERE oid = {number}")
        ),
        ["items"]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'order_lines'::regclass"
        ),
        ["3"]
    );
    let tables = Tables::load(&conn).expect("tables");
    let error = translate("SELECT 'nope'::regclass", &tables)
        .map(|t| {
            super::ensure(&conn, t[0].views).expect("views");
            conn.prepare(&t[0].sql)
                .and_then(|mut s| s.query_row([], |r| r.get::<_, Value>(0)))
        })
        .expect("translates");
    let error = error.expect_err("no such relation");
    assert_eq!(
        functions::sqlstate_of(&error).map(|(code, _)| code),
        Some("42P01")
    );
}

#[test]
fn information_schema_lists_columns_and_keys() {
    let conn = database();
    assert_eq!(
        rows(
            &conn,
            "SELECT table_name, table_type FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1"
        ),
        ["items|BASE TABLE", "order_lines|BASE TABLE"]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT column_name, data_type, character_maximum_length, numeric_precision, \
             numeric_scale, is_nullable, udt_name FROM information_schema.columns \
             WHERE table_name = 'items' AND ordinal_position IN (3, 4, 8) ORDER BY ordinal_position"
        ),
        [
            "sku|character varying|32|NULL|NULL|NO|varchar",
            "price|numeric|NULL|10|2|YES|numeric",
            "tags|ARRAY|NULL|NULL|NULL|YES|_text",
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT tc.constraint_name, tc.constraint_type, kcu.column_name, kcu.ordinal_position \
             FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name \
             WHERE tc.table_name = 'order_lines' ORDER BY 1, 4"
        ),
        [
            "order_lines_note_key|UNIQUE|note|1",
            "order_lines_pkey|PRIMARY KEY|order_id|1",
            "order_lines_pkey|PRIMARY KEY|line|2",
        ]
    );
}

#[test]
fn bookkeeping_never_shows() {
    let conn = database();
    assert_eq!(
        rows(
            &conn,
            "SELECT count(*) FROM pg_class WHERE relname LIKE '\\_\\_%' OR relname LIKE 'sqlite%'"
        ),
        ["0"]
    );
    assert_eq!(
        rows(&conn, "SELECT tablename FROM pg_tables ORDER BY 1"),
        ["items", "order_lines"]
    );
}

#[test]
fn types_and_arrays_have_their_oids() {
    let conn = database();
    assert_eq!(
        rows(
            &conn,
            "SELECT t.typname, t.typelem, t.typarray, format_type(t.oid, NULL) FROM pg_type t \
             WHERE t.oid IN (23, 1007, 2205, 1043) ORDER BY t.oid"
        ),
        [
            "int4|0|1007|integer",
            "_int4|23|0|integer[]",
            "varchar|0|1015|character varying",
            "regclass|0|2210|regclass",
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT array(SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY 1)"
        ),
        ["{items,order_lines}"]
    );
}

/// The tables of [`database`] and some session settings.
struct WithSettings(Tables);

impl crate::translate::Catalog for WithSettings {
    fn columns(&self, table: &str) -> Option<Vec<(String, crate::types::PgType)>> {
        self.0.columns(table)
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("TimeZone".into(), "UTC".into()),
            ("application_name".into(), "it's".into()),
        ]
    }
}

#[test]
fn pg_settings_lists_the_session_settings() {
    let conn = database();
    let catalog = WithSettings(Tables::load(&conn).expect("tables"));
    let sql = "SELECT s.name, setting, reset_val, enumvals, pending_restart \
               FROM pg_catalog.pg_settings s ORDER BY name";
    let translated = translate(sql, &catalog).expect("translates");
    super::ensure(&conn, translated[0].views).expect("views");
    let mut stmt = conn.prepare(&translated[0].sql).expect("prepares");
    let rows: Vec<String> = stmt
        .query_map([], |row| {
            Ok((0..5)
                .map(|i| {
                    let value: Value = row.get(i)?;
                    Ok(to_pg_text(&value, translated[0].columns[i].ty)
                        .unwrap_or_else(|| "NULL".into()))
                })
                .collect::<rusqlite::Result<Vec<_>>>()?
                .join("|"))
        })
        .expect("runs")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(
        rows,
        [
            "TimeZone|UTC|UTC|NULL|f",
            "application_name|it's|it's|NULL|f"
        ]
    );
    // without settings, the relation is there and empty
    assert!(rows_of_empty_settings(&conn).is_empty());
}

fn rows_of_empty_settings(conn: &Connection) -> Vec<String> {
    rows(conn, "SELECT name FROM pg_settings")
}

#[test]
fn colliding_names_get_distinct_oids_in_name_order() {
    let conn = database();
    // FNV-1a puts both names on OID 255626800
    assert_eq!(
        super::object_oid("pg_class", "t65908"),
        super::object_oid("pg_class", "t413304")
    );
    let tables = Tables::load(&conn).expect("tables");
    for table in ["t65908", "t413304"] {
        let sql = format!("CREATE TABLE {table} (id integer PRIMARY KEY)");
        for statement in translate(&sql, &tables).expect("create") {
            conn.execute_batch(&statement.sql).expect("runs");
            if let Some(ddl) = &statement.ddl {
                columns::record(&conn, statement.kind, ddl).expect("record");
            }
        }
    }
    assert_eq!(
        rows(
            &conn,
            "SELECT relname, oid FROM pg_class WHERE relname IN ('t65908', 't413304') ORDER BY oid"
        ),
        ["t413304|255626800", "t65908|255626801"]
    );
}

#[test]
fn check_constraints_list_as_psql_reads_them() {
    let conn = database();
    assert_eq!(
        rows(
            &conn,
            "SELECT c.relchecks FROM pg_class c WHERE c.relname = 'order_lines'"
        ),
        ["1"]
    );
    // psql 15's `\\d` query for check constraints
    assert_eq!(
        rows(
            &conn,
            "SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true)
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = 'order_lines'::regclass AND r.contype = 'c'
ORDER BY 1;"
        ),
        ["line_positive|CHECK (line > 0)"]
    );
}

/// The names of the views on `conn`.
fn views_on(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM temp.sqlite_schema WHERE type = 'view' ORDER BY name")
        .expect("temp schema");
    stmt.query_map([], |row| row.get(0))
        .expect("runs")
        .collect::<rusqlite::Result<_>>()
        .expect("names")
}

#[test]
fn a_connection_creates_only_the_views_its_statements_read() {
    let conn = database();
    assert!(views_on(&conn).is_empty());
    assert_eq!(rows(&conn, "SELECT count(*) FROM items"), ["0"]);
    assert!(views_on(&conn).is_empty());
    assert_eq!(
        rows(&conn, "SELECT nspname FROM pg_namespace WHERE oid = 11"),
        ["pg_catalog"]
    );
    assert_eq!(views_on(&conn), ["pg_catalog.pg_namespace"]);
    // pg_tables reads pg_class, which reads the helpers
    assert_eq!(rows(&conn, "SELECT count(*) FROM pg_tables"), ["2"]);
    assert!(views_on(&conn).len() > 3);
    // DDL after the views were created shows at once
    let tables = Tables::load(&conn).expect("tables");
    for statement in translate("CREATE TABLE later (id int PRIMARY KEY)", &tables).expect("create")
    {
        conn.execute_batch(&statement.sql).expect("runs");
        if let Some(ddl) = &statement.ddl {
            columns::record(&conn, statement.kind, ddl).expect("record");
        }
    }
    assert_eq!(rows(&conn, "SELECT count(*) FROM pg_tables"), ["3"]);
}

/// Every system relation and helper view answers on a connection that
/// created only what it reads: a view reading one its set lacks fails
/// here. (patina's own relations read the store's tables and the node:
/// `tests/tests/catalog_fresh.rs` runs them on a real node.)
#[test]
fn every_view_answers_on_a_fresh_connection() {
    for relation in super::relations().filter(|r| r.schema != "patina") {
        let conn = database();
        let sql = format!(
            "SELECT * FROM {}.{} LIMIT 0",
            relation.schema, relation.name
        );
        let tables = Tables::load(&conn).expect("tables");
        let translated = translate(&sql, &tables).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let names: Vec<&str> = translated[0]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let expected: Vec<&str> = relation.columns.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, expected, "{sql}");
        assert!(rows(&conn, &sql).is_empty(), "{sql}");
        assert_eq!(views_on(&conn).len(), translated[0].views.len(), "{sql}");
        rows(
            &conn,
            &format!("SELECT count(*) FROM {}.{}", relation.schema, relation.name),
        );
    }
    for (name, reads) in super::install::every_view() {
        if name.starts_with("patina.") {
            continue;
        }
        let conn = database();
        super::ensure(&conn, reads).expect("views");
        assert_eq!(views_on(&conn).len(), reads.len(), "{name}");
        conn.query_row(&format!("SELECT count(*) FROM \"{name}\""), [], |row| {
            row.get::<_, i64>(0)
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
