//! Interrupting a running statement: a CancelRequest (tokio-postgres'
//! `CancelToken`) and `statement_timeout` both end it with 57014, and the
//! connection goes on working — on patina as on PostgreSQL 15. Needs
//! `target/debug/patina` (`cargo build -p patina-cli`) and the PostgreSQL
//! 15 server binaries.

use std::time::Duration;

use patina_tests::tokio_postgres::error::SqlState;
use patina_tests::tokio_postgres::{Client, NoTls};
use patina_tests::{Patina, Postgres, describe_error};

/// A query that never ends on its own.
const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[track_caller]
fn ok<T>(r: Result<T, patina_tests::tokio_postgres::Error>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {}", describe_error(&e)))
}

async fn assert_canceled(client: &Client, query: &str, message: &str) {
    let error = client
        .simple_query(query)
        .await
        .expect_err("the query was interrupted");
    let db = error
        .as_db_error()
        .unwrap_or_else(|| panic!("not a server error: {error}"));
    assert_eq!(db.code(), &SqlState::QUERY_CANCELED);
    assert_eq!(db.message(), message);
}

async fn cancel_and_timeout(client: Client) {
    let token = client.cancel_token();
    let running = tokio::spawn(async move {
        assert_canceled(&client, ENDLESS, "canceling statement due to user request").await;
        client
    });
    // Cancel, then wait for the query to end; a cancel that arrived before
    // the query started is ignored (as PostgreSQL ignores it), so try again,
    // a bounded number of times. No cancel is sent once one worked.
    let mut running = running;
    let mut client = None;
    for _ in 0..50 {
        ok(token.cancel_query(NoTls).await);
        if let Ok(done) = tokio::time::timeout(Duration::from_millis(500), &mut running).await {
            client = Some(done.expect("query task"));
            break;
        }
    }
    let client = client.expect("the query ended after a cancel request");
    assert_eq!(
        ok(client.query_one("SELECT 1", &[]).await).get::<_, i32>(0),
        1
    );

    ok(client
        .batch_execute("SET statement_timeout = '100ms'")
        .await);
    assert_canceled(
        &client,
        ENDLESS,
        "canceling statement due to statement timeout",
    )
    .await;
    ok(client.batch_execute("RESET statement_timeout").await);
    assert_eq!(
        ok(client.query_one("SELECT 2", &[]).await).get::<_, i32>(0),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patina_interrupts_statements() {
    let node = Patina::start().await;
    cancel_and_timeout(node.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_interrupts_statements() {
    let server = Postgres::start().await;
    cancel_and_timeout(server.connect().await).await;
}
