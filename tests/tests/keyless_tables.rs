//! Tables created without a primary key, and the maintenance statements
//! pgbench sends, on patina and PostgreSQL 15 side by side: the same
//! answers and SQLSTATEs for `ALTER TABLE … ADD PRIMARY KEY` (over NULLs,
//! duplicates, a second key), `TRUNCATE` in and out of a transaction,
//! `VACUUM` inside a block, `ANALYZE`, and `DROP TABLE` of several tables.
//! patina also warns that the keyless table is local. Needs
//! `target/debug/patina` and the PostgreSQL 15 binaries.

use patina_tests::tokio_postgres::{Client, SimpleQueryMessage};
use patina_tests::{Patina, Postgres};

/// Each statement's outcome: its rows (as text) or its SQLSTATE.
async fn outcomes(client: &Client) -> Vec<String> {
    let statements = [
        "CREATE TABLE h (a int, b text, c int DEFAULT 7)",
        "CREATE INDEX h_b ON h (b)",
        "INSERT INTO h (a, b) VALUES (1, 'x'), (1, 'y'), (NULL, 'z')",
        "ALTER TABLE h ADD PRIMARY KEY (a)",
        "DELETE FROM h WHERE b = 'y'",
        "ALTER TABLE h ADD PRIMARY KEY (a)",
        "ALTER TABLE h ADD PRIMARY KEY (nope)",
        "DELETE FROM h WHERE a IS NULL",
        "ALTER TABLE h ADD PRIMARY KEY (a)",
        "ALTER TABLE h ADD PRIMARY KEY (b)",
        "INSERT INTO h (a, b) VALUES (1, 'again')",
        "INSERT INTO h (a, b) VALUES (2, 'two')",
        "SELECT a, b, c FROM h ORDER BY a",
        "BEGIN",
        "TRUNCATE TABLE h",
        "SELECT count(*) FROM h",
        "ROLLBACK",
        "SELECT count(*) FROM h",
        "BEGIN",
        "VACUUM h",
        "ROLLBACK",
        "VACUUM ANALYZE h",
        "ANALYZE",
        "VACUUM nope",
        "TRUNCATE h, nope",
        "CREATE TABLE l1 (x int)",
        "CREATE TABLE l2 (x int)",
        "DROP TABLE l1, l2",
        "SELECT count(*) FROM l1",
        "TRUNCATE h",
        "SELECT count(*) FROM h",
    ];
    let mut all = Vec::new();
    for sql in statements {
        all.push(match client.simple_query(sql).await {
            Ok(messages) => {
                let rows: Vec<String> = messages
                    .iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).unwrap_or("NULL").to_owned())
                                .collect::<Vec<_>>()
                                .join("|"),
                        ),
                        _ => None,
                    })
                    .collect();
                format!("{sql}: ok {rows:?}")
            }
            Err(error) => format!(
                "{sql}: {}",
                error
                    .as_db_error()
                    .map_or_else(|| error.to_string(), |e| e.code().code().to_owned())
            ),
        });
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_tables_and_maintenance_answer_as_postgres() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let ours = outcomes(&node.connect().await).await;
    let theirs = outcomes(&server.connect().await).await;
    assert_eq!(ours, theirs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyless_table_is_created_local_with_a_warning() {
    let node = Patina::start().await;
    let conninfo = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        node.port()
    );
    let run = patina_tests::psql(&conninfo, None, "CREATE TABLE loose (a int)").await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "WARNING:  table \"loose\" has no primary key: it is local to this node and not replicated"
        ),
        "{}",
        run.stderr
    );
}
