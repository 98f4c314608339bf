//! psql's meta-commands against patina print what they print against
//! PostgreSQL 15 for the same schema. psql sends the same catalog queries
//! to both (it picks them by server version), so this compares the whole
//! pg_catalog emulation as psql reads it: relations, columns with their
//! types, NOT NULL and defaults, primary keys and indexes, schemas,
//! roles, databases and functions.
//!
//! Documented differences, normalised before comparing: the port in
//! `\conninfo`, the time `\timing` prints, and `\l`, which lists only the
//! connected database (patina has no template databases), so it is asked
//! for `\l postgres`. patina's one role is named `postgres`, like the
//! harness's PostgreSQL superuser, so owners print alike.

use std::process::Command;

use patina_tests::{Oracle, Patina, pg_bin_dir};

/// The schema both servers get: integers, text, varchar(n),
/// numeric(p,s), booleans, timestamptz, jsonb, arrays, a serial key,
/// defaults, NOT NULL, CHECK constraints, a composite key, plain and
/// multi-column indexes, a descending index (no UNIQUE index besides the
/// keys: patina refuses them on replicated tables, as they cannot hold
/// across replicas).
const SCHEMA: &str = "
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL DEFAULT '',
    sku varchar(32) NOT NULL DEFAULT 'x', price numeric(10,2) DEFAULT 9.99,
    qty integer NOT NULL DEFAULT 1, big bigint, active boolean DEFAULT true,
    created timestamptz DEFAULT now(), meta jsonb, tags text[]);
CREATE INDEX items_sku_idx ON items (sku);
CREATE INDEX items_name_idx ON items (name);
CREATE TABLE order_lines (order_id bigint NOT NULL DEFAULT 0,
    line integer NOT NULL DEFAULT 0 CHECK (line >= 0), item_id integer, note text DEFAULT 'none',
    PRIMARY KEY (order_id, line), CONSTRAINT order_positive CHECK (order_id >= 0));
CREATE TABLE labels (id bigint PRIMARY KEY, label text, code varchar(8) DEFAULT 'ab',
    ratio real DEFAULT 1.5, born date DEFAULT '2020-01-02');
CREATE INDEX labels_born_desc ON labels (born DESC, id);
CREATE INDEX labels_label_id ON labels (label, id);
";

/// What psql printed (stdout, then stderr) for `commands`, run in order
/// in one session against the server on `port`.
fn psql(port: u16, commands: &[&str]) -> String {
    let mut command = Command::new(pg_bin_dir().join("psql"));
    command
        .args(["-X", "-w", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres"])
        .env("PGCONNECT_TIMEOUT", "10")
        .env("PAGER", "")
        .env_remove("PGPASSWORD");
    for c in commands {
        command.args(["-c", c]);
    }
    let output = command.output().expect("psql runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    normalise(&text, port)
}

/// Replaces the documented differences: the server's port, and timings.
fn normalise(text: &str, port: u16) -> String {
    text.replace(&format!("port \"{port}\""), "port \"<port>\"")
        .lines()
        .map(|line| match line.strip_prefix("Time: ") {
            Some(_) => "Time: <elapsed>".to_owned(),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn meta_commands_print_as_on_postgres() {
    let Oracle {
        postgres, patina, ..
    } = Oracle::start(SCHEMA).await;
    let cases: &[&[&str]] = &[
        &["\\dt"],
        &["\\d"],
        &["\\d items"],
        &["\\d order_lines"],
        &["\\d labels"],
        &["\\d+ items"],
        &["\\d+ labels"],
        &["\\d items_pkey"],
        &["\\d+ labels_born_desc"],
        &["\\d nope"],
        &["\\dt labels"],
        &["\\di"],
        &["\\dv"],
        &["\\l postgres"],
        &["\\dn"],
        &["\\du"],
        &["\\df"],
        &["\\conninfo"],
        &["\\x", "\\d order_lines", "\\dt"],
        &["\\timing on", "SELECT count(*) FROM items"],
    ];
    let (pg_port, patina_port) = (postgres.port(), patina.port());
    let outputs = tokio::task::spawn_blocking(move || {
        cases
            .iter()
            .map(|commands| {
                (
                    commands,
                    psql(pg_port, commands),
                    psql(patina_port, commands),
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("psql runs");
    let mut differences = Vec::new();
    for (commands, expected, actual) in outputs {
        assert!(
            !expected.contains("ERROR"),
            "{commands:?} on PostgreSQL: {expected}"
        );
        if expected != actual {
            differences.push(format!(
                "{commands:?}\n--- PostgreSQL 15:\n{expected}\n--- patina:\n{actual}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn meta_commands_see_ddl_of_the_session() {
    let patina = Patina::start().await;
    let client = patina.connect().await;
    // an open session (psql's) sees a table created after it connected
    let port = patina.port();
    let before = tokio::task::spawn_blocking(move || psql(port, &["\\dt"]))
        .await
        .expect("psql");
    assert!(before.contains("Did not find any relations."), "{before}");
    client
        .batch_execute("CREATE TABLE later (id integer PRIMARY KEY, note text)")
        .await
        .expect("create");
    let rows = client
        .query(
            "SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
             WHERE c.relname = 'later' AND a.attnum > 0 ORDER BY a.attnum",
            &[],
        )
        .await
        .expect("catalog query");
    let columns: Vec<(String, String)> = rows.iter().map(|r| (r.get(1), r.get(2))).collect();
    assert_eq!(
        columns,
        [
            ("id".to_owned(), "integer".to_owned()),
            ("note".to_owned(), "text".to_owned())
        ]
    );
    // patina's bookkeeping never shows
    let hidden = client
        .query_one(
            "SELECT count(*) FROM pg_catalog.pg_class \
             WHERE relname LIKE '\\_\\_%' OR relname LIKE 'sqlite%'",
            &[],
        )
        .await
        .expect("count");
    assert_eq!(hidden.get::<_, i64>(0), 0);
}
