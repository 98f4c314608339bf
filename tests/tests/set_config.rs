//! `set_config(name, value, is_local)` against a real PostgreSQL 15 and
//! patina: it returns the value and acts as SET (or SET LOCAL, which lasts
//! until the end of the block, and no longer than the statement outside
//! one), custom `class.name` settings included. Needs the patina binary and
//! the PostgreSQL 15 binaries.

use patina_tests::tokio_postgres::Client;
use patina_tests::{Patina, Postgres, describe_error};

async fn one(client: &Client, sql: &str) -> String {
    match client.simple_query(sql).await {
        Ok(messages) => messages
            .iter()
            .find_map(|m| match m {
                patina_tests::tokio_postgres::SimpleQueryMessage::Row(row) => {
                    Some(row.get(0).unwrap_or_default().to_owned())
                }
                _ => None,
            })
            .unwrap_or_default(),
        Err(error) => format!("error {}", describe_error(&error)),
    }
}

async fn script(client: &Client) -> Vec<String> {
    let mut seen = Vec::new();
    for sql in [
        "SELECT set_config('application_name', 'first', false)",
        "SHOW application_name",
        "BEGIN",
        "SELECT set_config('application_name', 'in block', true)",
        "SHOW application_name",
        "COMMIT",
        "SHOW application_name",
        "SELECT set_config('application_name', 'statement only', true)",
        "SHOW application_name",
        "SELECT set_config('myapp.tenant', '42', false)",
        "SHOW myapp.tenant",
    ] {
        seen.push(format!("{sql} -> {}", one(client, sql).await));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_config_acts_as_set() {
    let postgres = Postgres::start().await;
    let expected = script(&postgres.connect().await).await;
    assert!(expected[1].ends_with("-> first"), "{expected:?}");
    let patina = Patina::start().await;
    let got = script(&patina.connect().await).await;
    assert_eq!(got, expected);
}
