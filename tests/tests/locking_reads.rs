//! Locking reads: a `SELECT … FOR UPDATE` in an open transaction makes
//! another session's `UPDATE` of the row wait until the transaction ends,
//! on patina (whose locking reads hold the single writer) as on
//! PostgreSQL 15 (row locks). Needs `target/debug/patina`
//! (`cargo build -p patina-cli`) and the PostgreSQL 15 server binaries.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use patina_tests::tokio_postgres::Client;
use patina_tests::{Patina, Postgres, describe_error};

#[track_caller]
fn ok<T>(r: Result<T, patina_tests::tokio_postgres::Error>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {}", describe_error(&e)))
}

async fn balance(client: &Client) -> i32 {
    ok(client
        .query_one("SELECT balance FROM lr_accounts WHERE id = 1", &[])
        .await)
    .get(0)
}

/// The case, against a server reached by `first` and `second`.
async fn update_waits_for_the_locking_transaction(first: Client, second: Client) {
    ok(first
        .batch_execute(
            "CREATE TABLE lr_accounts (id integer PRIMARY KEY, balance integer NOT NULL DEFAULT 0);
             INSERT INTO lr_accounts VALUES (1, 100), (2, 50)",
        )
        .await);

    ok(first.batch_execute("BEGIN").await);
    let locked = ok(first
        .query_one(
            "SELECT balance FROM lr_accounts WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await);
    assert_eq!(locked.get::<_, i32>(0), 100);

    let done = Arc::new(AtomicBool::new(false));
    let (sent, sent_rx) = tokio::sync::oneshot::channel();
    let update = tokio::spawn({
        let done = Arc::clone(&done);
        async move {
            let mut update = Box::pin(second.execute(
                "UPDATE lr_accounts SET balance = balance * 2 WHERE id = 1",
                &[],
            ));
            // one poll puts the request on its way
            let early = std::future::poll_fn(|cx| match update.as_mut().poll(cx) {
                Poll::Ready(result) => Poll::Ready(Some(result)),
                Poll::Pending => Poll::Ready(None),
            })
            .await;
            let _ = sent.send(early.is_some());
            let changed = match early {
                Some(result) => ok(result),
                None => ok(update.as_mut().await),
            };
            drop(update);
            done.store(true, Ordering::SeqCst);
            (changed, second)
        }
    });
    assert!(
        !sent_rx.await.expect("update task"),
        "the UPDATE finished at once"
    );

    // the first transaction goes on reading (a read that takes no lock of
    // its own); the update must still be waiting
    assert_eq!(balance(&first).await, 100);
    assert!(
        !done.load(Ordering::SeqCst),
        "the UPDATE ran while a SELECT … FOR UPDATE transaction held the row"
    );

    ok(first.batch_execute("COMMIT").await);
    let (changed, second) = update.await.expect("update task");
    assert_eq!(changed, 1);
    // the waiting update applied after the commit, to the committed row
    assert_eq!(balance(&second).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patina_update_waits_for_select_for_update() {
    let node = Patina::start().await;
    update_waits_for_the_locking_transaction(node.connect().await, node.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_update_waits_for_select_for_update() {
    let server = Postgres::start().await;
    update_waits_for_the_locking_transaction(server.connect().await, server.connect().await).await;
}
