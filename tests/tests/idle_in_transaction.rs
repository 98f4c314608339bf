//! `idle_in_transaction_session_timeout`: a session that opens a write
//! transaction and goes quiet holds patina's single writer; with the
//! timeout set it is ended (FATAL 25P03, its transaction rolled back) and
//! the writers waiting behind it proceed — as PostgreSQL ends such a
//! session. Needs `target/debug/patina` (`cargo build -p patina-cli`).

use patina_tests::tokio_postgres::error::SqlState;
use patina_tests::{Patina, connect, describe_error};

#[track_caller]
fn ok<T>(r: Result<T, patina_tests::tokio_postgres::Error>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {}", describe_error(&e)))
}

#[tokio::test]
async fn an_idle_transaction_is_ended_and_frees_the_writer() {
    let node = Patina::start().await;
    let idle = connect(node.port()).await;
    let writer = connect(node.port()).await;
    ok(idle
        .batch_execute("CREATE TABLE it_rows (id integer PRIMARY KEY)")
        .await);

    ok(idle
        .batch_execute(
            "SET idle_in_transaction_session_timeout = '200ms';
             BEGIN; INSERT INTO it_rows VALUES (1)",
        )
        .await);
    // This write waits for the writer the idle transaction holds, until
    // the timeout ends that session.
    ok(writer.execute("INSERT INTO it_rows VALUES (2)", &[]).await);

    let error = idle
        .execute("INSERT INTO it_rows VALUES (3)", &[])
        .await
        .expect_err("the idle session was ended");
    if let Some(db) = error.as_db_error() {
        assert_eq!(db.code(), &SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT);
    } else {
        assert!(error.is_closed(), "unexpected error: {error}");
    }
    let ids: Vec<i32> = ok(writer
        .query("SELECT id FROM it_rows ORDER BY id", &[])
        .await)
    .iter()
    .map(|row| row.get(0))
    .collect();
    assert_eq!(ids, [2], "the idle transaction's insert was rolled back");
}
