//! Translated statements run on a real in-memory SQLite with patina's
//! functions registered; every expected row is what PostgreSQL 15.18
//! (`TimeZone=UTC`, `psql -At`) printed for the same statements.

use std::collections::HashMap;
use std::sync::Arc;

use patina_pg::functions::{self, SessionClock};
use patina_pg::values::text::to_pg_text;
use patina_pg::{PgType, StatementKind, translate};
use rusqlite::Connection;
use rusqlite::types::Value;

/// A connection and the catalog the caller keeps beside it.
struct Db {
    conn: Connection,
    catalog: HashMap<String, Vec<(String, PgType)>>,
}

impl Db {
    fn new() -> Db {
        let conn = Connection::open_in_memory().expect("open");
        // 2024-05-17 12:34:56.789 UTC, the start of every transaction here
        let clock = Arc::new(SessionClock::new(1_715_949_296_789_000));
        functions::register(&conn, clock).expect("register");
        Db {
            conn,
            catalog: HashMap::new(),
        }
    }

    /// Runs a query string; returns each result row as `psql -At` prints
    /// it (`|`-separated, NULL empty).
    fn run(&mut self, sql: &str) -> Vec<String> {
        self.try_run(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn try_run(&mut self, sql: &str, params: &[Value]) -> Result<Vec<String>, String> {
        let statements =
            translate(sql, &self.catalog).map_err(|e| format!("[{}] {e}", e.sqlstate()))?;
        let mut rows = Vec::new();
        for statement in statements {
            let mut prepared = self
                .conn
                .prepare(&statement.sql)
                .map_err(|e| format!("{}: {e}", statement.sql))?;
            let bound: Vec<&dyn rusqlite::ToSql> = params
                .iter()
                .take(statement.params.len())
                .map(|p| p as &dyn rusqlite::ToSql)
                .collect();
            let mut result = prepared
                .query(bound.as_slice())
                .map_err(|e| e.to_string())?;
            while let Some(row) = result.next().map_err(|e| runtime_error(&e))? {
                let mut fields = Vec::with_capacity(statement.columns.len());
                for (index, column) in statement.columns.iter().enumerate() {
                    let value: Value = row.get(index).map_err(|e| e.to_string())?;
                    fields.push(to_pg_text(&value, column.ty).unwrap_or_default());
                }
                rows.push(fields.join("|"));
            }
            if let Some(ddl) = statement.ddl {
                if let Some(old) = ddl.renamed_from {
                    self.catalog.remove(&old);
                }
                if statement.kind == StatementKind::DropTable {
                    self.catalog.remove(&ddl.table);
                } else {
                    self.catalog.insert(ddl.table, ddl.columns);
                }
            }
        }
        Ok(rows)
    }
}

fn runtime_error(error: &rusqlite::Error) -> String {
    match functions::sqlstate_of(error) {
        Some((code, message)) => format!("[{code}] {message}"),
        None => error.to_string(),
    }
}

const ITEMS: &str = "CREATE TABLE items (id serial PRIMARY KEY, name varchar(20) NOT NULL, \
    price numeric(10,2) NOT NULL DEFAULT 0, qty int DEFAULT 1, active boolean DEFAULT true, \
    created timestamptz DEFAULT '2024-01-01 00:00:00+00', tags text[], doc jsonb, ratio float8)";

const FILL: &str = r#"INSERT INTO items (name, price, qty, active, created, tags, doc, ratio) VALUES
    ('apple', 9.9, 3, true, '2024-03-01 10:00:00+02', '{red,fruit}', '{"color":"red","n":1}', 0.5),
    ('Banana', 10, 12, false, '2024-03-02 12:30:00.25+00', '{yellow}', '{"color":"yellow","n":2,"tags":["a","b"]}', 1.25),
    ('cherry', 0.5, 100, true, '2024-02-29 23:59:59+00', NULL, NULL, NULL) RETURNING id, name, price"#;

fn items() -> Db {
    let mut db = Db::new();
    assert!(db.run(ITEMS).is_empty());
    assert_eq!(
        db.run(FILL),
        ["1|apple|9.90", "2|Banana|10.00", "3|cherry|0.50"]
    );
    db
}

#[test]
fn filters_and_orders_like_postgres() {
    let mut db = items();
    assert_eq!(
        db.run("SELECT id, name, price FROM items WHERE price > 5 ORDER BY price DESC"),
        ["2|Banana|10.00", "1|apple|9.90"]
    );
    assert_eq!(
        db.run("SELECT name FROM items WHERE name LIKE 'b%'"),
        Vec::<String>::new()
    );
    assert_eq!(
        db.run("SELECT name FROM items WHERE name ILIKE 'b%'"),
        ["Banana"]
    );
    assert_eq!(
        db.run("SELECT name FROM items WHERE name ~ '^[a-c]' ORDER BY name"),
        ["apple", "cherry"]
    );
    assert_eq!(
        db.run("SELECT name FROM items WHERE name ~* '^B' ORDER BY 1"),
        ["Banana"]
    );
    assert_eq!(
        db.run("SELECT ratio FROM items ORDER BY ratio NULLS FIRST"),
        ["", "0.5", "1.25"]
    );
    assert_eq!(
        db.run("SELECT ratio FROM items ORDER BY ratio"),
        ["0.5", "1.25", ""]
    );
    assert_eq!(
        db.run("SELECT ratio FROM items ORDER BY ratio DESC"),
        ["", "1.25", "0.5"]
    );
}

#[test]
fn aggregates_and_arithmetic_like_postgres() {
    let mut db = items();
    assert_eq!(
        db.run("SELECT count(*), sum(qty), sum(price), avg(qty), avg(price), max(price), min(created) FROM items"),
        ["3|115|20.40|38.3333333333333333|6.8000000000000000|10.00|2024-02-29 23:59:59+00"]
    );
    assert_eq!(
        db.run("SELECT name, price * qty, price + 1, qty / 2, qty % 7, ratio * 2 FROM items ORDER BY id"),
        ["apple|29.70|10.90|1|3|1", "Banana|120.00|11.00|6|5|2.5", "cherry|50.00|1.50|50|2|"]
    );
    assert_eq!(
        db.run("SELECT name, active, NOT active FROM items ORDER BY id"),
        ["apple|t|f", "Banana|f|t", "cherry|t|f"]
    );
    assert_eq!(
        db.run("SELECT CASE WHEN price > 5 THEN 'dear' ELSE 'cheap' END, coalesce(ratio, -1) FROM items ORDER BY id"),
        ["dear|0.5", "dear|1.25", "cheap|-1"]
    );
    assert_eq!(
        db.run("SELECT 1.5 * 2, 7 / 2, 7.0 / 2, 'a' || 1, 10 % 3, -7 / 2"),
        ["3.0|3|3.5000000000000000|a1|1|-3"]
    );
    assert_eq!(
        db.run(
            "SELECT greatest(1, NULL, 3), least(2.50, 10, NULL), greatest(NULL::int, NULL), least('b', 'a'), \
             ARRAY[]::int[], (ARRAY[5,6])[2], cardinality(ARRAY[]::int[])"
        ),
        ["3|2.50||a|{}|6|0"]
    );
    // SELECT interval '1 day' = interval '24 hours', interval '1 mon' > interval '29 days'
    assert_eq!(
        db.run(
            "SELECT interval '1 day' = interval '24 hours', interval '1 mon' > interval '29 days'"
        ),
        ["t|t"]
    );
}

#[test]
fn json_and_arrays_like_postgres() {
    let mut db = items();
    assert_eq!(
        db.run("SELECT name, doc -> 'color', doc ->> 'color', doc #>> '{tags,1}', doc -> 'tags' -> 0 FROM items ORDER BY id"),
        ["apple|\"red\"|red||", "Banana|\"yellow\"|yellow|b|\"a\"", "cherry||||"]
    );
    assert_eq!(
        db.run(r#"SELECT name FROM items WHERE doc @> '{"color":"red"}'"#),
        ["apple"]
    );
    assert_eq!(
        db.run("SELECT name FROM items WHERE 'fruit' = ANY(tags)"),
        ["apple"]
    );
    assert_eq!(
        db.run("SELECT name, tags FROM items ORDER BY id"),
        ["apple|{red,fruit}", "Banana|{yellow}", "cherry|"]
    );
    assert_eq!(
        db.run("SELECT id FROM items WHERE id = ANY(ARRAY[1,3]) ORDER BY id"),
        ["1", "3"]
    );
}

#[test]
fn dates_and_strings_like_postgres() {
    let mut db = items();
    assert_eq!(
        db.run(
            "SELECT date_trunc('month', created), extract(year from created), date_part('day', created), \
             created + interval '1 month 2 hours' FROM items ORDER BY id"
        ),
        [
            "2024-03-01 00:00:00+00|2024|1|2024-04-01 10:00:00+00",
            "2024-03-01 00:00:00+00|2024|2|2024-04-02 14:30:00.25+00",
            "2024-02-01 00:00:00+00|2024|29|2024-03-30 01:59:59+00",
        ]
    );
    assert_eq!(
        db.run("SELECT created - timestamptz '2024-01-01 00:00:00+00' FROM items ORDER BY id"),
        [
            "60 days 08:00:00",
            "61 days 12:30:00.25",
            "59 days 23:59:59"
        ]
    );
    assert_eq!(
        db.run(
            "SELECT name || '-' || qty, upper(name), length(name), substring(name from 2 for 3), \
             position('an' in name), trim('  x  ') FROM items ORDER BY id"
        ),
        [
            "apple-3|APPLE|5|ppl|0|x",
            "Banana-12|BANANA|6|ana|2|x",
            "cherry-100|CHERRY|6|her|0|x"
        ]
    );
    assert_eq!(
        db.run(
            "SELECT interval '1 day' * 3, date '2024-01-31' + 1, date '2024-03-01' - date '2024-02-01', \
             timestamp '2024-01-31 10:00' + interval '1 month'"
        ),
        ["3 days|2024-02-01|29|2024-02-29 10:00:00"]
    );
    assert_eq!(
        db.run(
            r#"SELECT '{"b":1,"a":[1,2]}'::jsonb, '{"b":1,"a":[1,2]}'::json, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid, '1.50'::numeric, 3::numeric(5,2), true::text, 1::boolean"#
        ),
        [r#"{"a": [1, 2], "b": 1}|{"b":1,"a":[1,2]}|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|1.50|3.00|true|t"#]
    );
}

#[test]
fn writes_with_returning_and_upsert_like_postgres() {
    let mut db = items();
    assert_eq!(
        db.run("UPDATE items SET price = price * 2, qty = qty + 1 WHERE name = 'cherry' RETURNING id, price, qty"),
        ["3|1.00|101"]
    );
    assert_eq!(
        db.run(
            "INSERT INTO items (id, name, price) VALUES (1, 'apple2', 1.234) ON CONFLICT (id) \
             DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price RETURNING id, name, price"
        ),
        ["1|apple2|1.23"]
    );
    assert!(db.run("INSERT INTO items (id, name) VALUES (1, 'dup') ON CONFLICT (id) DO NOTHING RETURNING id").is_empty());
    assert_eq!(
        db.run("DELETE FROM items WHERE qty > 50 RETURNING name"),
        ["cherry"]
    );
    assert_eq!(db.run("SELECT count(*) FROM items"), ["2"]);
    // serial: the next id after the highest, as PostgreSQL's sequence gives here
    assert_eq!(
        db.run(
            "INSERT INTO items (name) VALUES ('date') RETURNING id, price, qty, active, created"
        ),
        ["4|0.00|1|t|2024-01-01 00:00:00+00"]
    );
}

#[test]
fn parameters_bind_as_postgres_text() {
    let mut db = items();
    let params = [Value::Text("2".into()), Value::Text("Banana".into())];
    assert_eq!(
        db.try_run(
            "SELECT price FROM items WHERE id = $1 AND name = $2",
            &params
        ),
        Ok(vec!["10.00".to_string()])
    );
    let params = [Value::Text("{1,3}".into())];
    assert_eq!(
        db.try_run(
            "SELECT name FROM items WHERE id = ANY($1) ORDER BY id",
            &params
        ),
        Ok(vec!["apple".into(), "cherry".into()])
    );
    let params = [Value::Text("2024-03-01".into())];
    assert_eq!(
        db.try_run("SELECT count(*) FROM items WHERE created >= $1", &params),
        Ok(vec!["2".into()])
    );
}

#[test]
fn errors_like_postgres() {
    let mut db = items();
    // ERROR:  value too long for type character varying(20)
    assert_eq!(
        db.try_run(
            "INSERT INTO items (name) VALUES ('abcdefghijklmnopqrstuvwxyz')",
            &[]
        ),
        Err("[22001] value too long for type character varying(20)".into())
    );
    // ERROR:  division by zero
    assert_eq!(
        db.try_run("SELECT qty / 0 FROM items", &[]),
        Err("[22012] division by zero".into())
    );
    // ERROR:  invalid input syntax for type integer: "x"
    assert_eq!(
        db.try_run("SELECT 'x'::int", &[]),
        Err("[22P02] invalid input syntax for type integer: \"x\"".into())
    );
    let params = [Value::Text("nope".into())];
    assert_eq!(
        db.try_run("SELECT name FROM items WHERE id = $1", &params),
        Err("[22P02] invalid input syntax for type integer: \"nope\"".into())
    );
}

#[test]
fn now_is_the_injected_transaction_start() {
    let mut db = Db::new();
    assert_eq!(
        db.run("SELECT now(), current_timestamp, current_date, date_trunc('hour', now())"),
        ["2024-05-17 12:34:56.789+00|2024-05-17 12:34:56.789+00|2024-05-17|2024-05-17 12:00:00+00"]
    );
    db.run("CREATE TABLE ev (id bigint PRIMARY KEY, at timestamptz DEFAULT now(), u uuid DEFAULT gen_random_uuid())");
    assert_eq!(
        db.run("INSERT INTO ev (id) VALUES (7) RETURNING id, at"),
        ["7|2024-05-17 12:34:56.789+00"]
    );
    let uuids = db.run("INSERT INTO ev (id) VALUES (8), (9) RETURNING u");
    assert_eq!(uuids.len(), 2);
    assert_ne!(uuids[0], uuids[1]);
    // bigint PRIMARY KEY is the rowid alias: a NULL id gets assigned, never stored
    assert_eq!(
        db.run("INSERT INTO ev (id) VALUES (NULL) RETURNING id"),
        ["10"]
    );
}

fn shop() -> Db {
    let mut db = Db::new();
    db.run(
        "CREATE TABLE c (id int PRIMARY KEY, name text, region char(4)); \
         CREATE TABLE o (id bigserial PRIMARY KEY, cust int REFERENCES c(id), total numeric(8,2), placed date, note text)",
    );
    db.run("INSERT INTO c VALUES (1, 'ann', 'eu'), (2, 'bob', 'us'), (3, 'cy', NULL)");
    db.run(
        "INSERT INTO o (cust, total, placed, note) VALUES (1, 10.5, '2024-01-05', E'a\\tb'), \
         (1, 99.99, '2024-02-10', $$it's$$), (2, 5, '2024-02-11', NULL)",
    );
    db
}

#[test]
fn joins_groups_and_subqueries_like_postgres() {
    let mut db = shop();
    assert_eq!(
        db.run(
            "SELECT c.name, count(o.id) AS n, sum(o.total) AS spent FROM c LEFT JOIN o ON o.cust = c.id \
             GROUP BY c.name ORDER BY spent DESC NULLS LAST, c.name"
        ),
        ["ann|2|110.49", "bob|1|5.00", "cy|0|"]
    );
    assert_eq!(
        db.run("SELECT name, region, region || '|' FROM c ORDER BY id"),
        ["ann|eu  |eu|", "bob|us  |us|", "cy||"]
    );
    assert_eq!(
        db.run("SELECT name FROM c WHERE id IN (SELECT cust FROM o WHERE total > 50)"),
        ["ann"]
    );
    assert_eq!(
        db.run("SELECT name FROM c WHERE EXISTS (SELECT 1 FROM o WHERE o.cust = c.id AND o.placed >= '2024-02-01') ORDER BY name"),
        ["ann", "bob"]
    );
    assert_eq!(
        db.run(
            "WITH big AS (SELECT cust, total FROM o WHERE total BETWEEN 5 AND 20) \
             SELECT c.name, big.total FROM big JOIN c ON c.id = big.cust ORDER BY big.total"
        ),
        ["bob|5.00", "ann|10.50"]
    );
    assert_eq!(
        db.run("SELECT DISTINCT cust FROM o ORDER BY cust"),
        ["1", "2"]
    );
    assert_eq!(
        db.run("SELECT string_agg(name, ',') FROM (SELECT name FROM c ORDER BY name) s"),
        ["ann,bob,cy"]
    );
    assert_eq!(
        db.run("SELECT name FROM c UNION SELECT note FROM o WHERE note IS NOT NULL ORDER BY 1"),
        ["a\tb", "ann", "bob", "cy", "it's"]
    );
    assert_eq!(
        db.run("SELECT id, name FROM c ORDER BY id LIMIT 2 OFFSET 1"),
        ["2|bob", "3|cy"]
    );
    assert_eq!(
        db.run("SELECT cust, max(total) FROM o GROUP BY cust HAVING count(*) > 1"),
        ["1|99.99"]
    );
    assert_eq!(
        db.run("SELECT count(*) FILTER (WHERE total > 6), count(DISTINCT cust) FROM o"),
        ["2|2"]
    );
    assert_eq!(
        db.run("SELECT o.* FROM o WHERE id = 1"),
        ["1|1|10.50|2024-01-05|a\tb"]
    );
}

#[test]
fn scalar_expressions_like_postgres() {
    let mut db = shop();
    assert_eq!(
        db.run("SELECT total, total IN (10.50, 5), total IS DISTINCT FROM 5 FROM o ORDER BY id"),
        ["10.50|t|t", "99.99|f|t", "5.00|t|f"]
    );
    assert_eq!(
        db.run("SELECT placed, placed + 30, placed - date '2024-01-01', extract(dow from placed) FROM o ORDER BY id"),
        ["2024-01-05|2024-02-04|4|5", "2024-02-10|2024-03-11|40|6", "2024-02-11|2024-03-12|41|0"]
    );
    assert_eq!(
        db.run("SELECT coalesce(region, 'none'), nullif(name, 'ann') FROM c ORDER BY id"),
        ["eu  |", "us  |bob", "none|cy"]
    );
    assert_eq!(
        db.run("SELECT name FROM c WHERE name NOT LIKE '%n%' ORDER BY 1"),
        ["bob", "cy"]
    );
    assert_eq!(
        db.run(
            "SELECT round(total), round(total, 1), abs(-3), cardinality(ARRAY['a','b']), array_length(ARRAY[1,2,3], 1) \
             FROM o ORDER BY id"
        ),
        ["11|10.5|3|2|3", "100|100.0|3|2|3", "5|5.0|3|2|3"]
    );
}

#[test]
fn update_from_like_postgres() {
    let mut db = shop();
    assert_eq!(
        db.run("UPDATE o SET note = c.name FROM c WHERE c.id = o.cust AND c.region = 'us' RETURNING o.id, o.note"),
        ["3|bob"]
    );
    assert_eq!(
        db.run("SELECT note, length(note), upper(note) FROM o ORDER BY id"),
        ["a\tb|3|A\tB", "it's|4|IT'S", "bob|3|BOB"]
    );
}

#[test]
fn defaults_values_aliases_and_schema_changes_like_postgres() {
    let mut db = Db::new();
    db.run(
        "CREATE TABLE t (id serial PRIMARY KEY, v text DEFAULT 'dflt', n numeric, ts timestamp)",
    );
    db.run("INSERT INTO t DEFAULT VALUES");
    db.run("INSERT INTO t (id, v, n, ts) VALUES (DEFAULT, 'x', 2.50, '2024-01-01 10:00')");
    db.run("INSERT INTO t (v, n) SELECT v || '2', n * 2 FROM t WHERE n IS NOT NULL");
    assert_eq!(
        db.run("SELECT id, v, n, ts FROM t ORDER BY id"),
        ["1|dflt||", "2|x|2.50|2024-01-01 10:00:00", "3|x2|5.00|"]
    );
    assert_eq!(
        db.run("SELECT x, y FROM (VALUES (1, 'a'), (2, 'b')) AS v(x, y) ORDER BY x DESC"),
        ["2|b", "1|a"]
    );
    db.run("CREATE UNIQUE INDEX t_lower_v ON t (lower(v))");
    db.run("ALTER TABLE t ADD COLUMN flag boolean DEFAULT false");
    assert_eq!(
        db.run("SELECT id, flag FROM t ORDER BY id"),
        ["1|f", "2|f", "3|f"]
    );
    assert_eq!(db.run("SELECT v FROM t WHERE lower(v) = 'x2'"), ["x2"]);
    assert_eq!(
        db.run("SELECT ts - '2024-01-01', ts::date, ts::time, date_trunc('day', ts) FROM t WHERE ts IS NOT NULL"),
        ["10:00:00|2024-01-01|10:00:00|2024-01-01 00:00:00"]
    );
    assert_eq!(
        db.run("SELECT -n, n / 3, n::int, (n > 1)::text FROM t WHERE n IS NOT NULL ORDER BY id"),
        [
            "-2.50|0.83333333333333333333|3|true",
            "-5.00|1.6666666666666667|5|true"
        ]
    );
    // ERROR:  duplicate key value violates unique constraint "t_lower_v"
    assert!(db.try_run("INSERT INTO t (v) VALUES ('X2')", &[]).is_err());
}
