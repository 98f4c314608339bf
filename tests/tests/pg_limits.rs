//! A listener's connection limit: past it a new client gets FATAL 53300
//! `sorry, too many clients already` (PostgreSQL 15's answer past
//! `max_connections`), the clients already in keep working, a cancel
//! request still gets through, and a slot frees when a client leaves.
//! Needs the PostgreSQL 15 binaries (psql).

use std::time::Duration;

use patina_pg::server::ListenerConfig;
use patina_tests::tokio_postgres::error::SqlState;
use patina_tests::tokio_postgres::{Client, NoTls};
use patina_tests::{ServedListener, connect, describe_error, psql, try_connect};

/// A query that never ends on its own.
const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

async fn select(client: &Client, n: i32) {
    let row = client
        .query_one("SELECT $1::int4", &[&n])
        .await
        .unwrap_or_else(|e| panic!("a query: {}", describe_error(&e)));
    assert_eq!(row.get::<_, i32>(0), n);
}

async fn assert_too_many(server: &ServedListener) {
    let error = match try_connect(server.port()).await {
        Ok(_) => panic!("a client past the limit got in"),
        Err(error) => error,
    };
    assert_eq!(
        describe_error(&error),
        "53300: sorry, too many clients already"
    );
    let conninfo = format!("host=127.0.0.1 port={} user=postgres", server.port());
    let run = psql(&conninfo, None, "SELECT 1").await;
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("FATAL:  sorry, too many clients already"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_limit_clients_are_refused_and_the_others_unaffected() {
    let server = ServedListener::start(ListenerConfig {
        max_connections: 2,
        ..ListenerConfig::trust()
    })
    .await;
    let first = connect(server.port()).await;
    let second = connect(server.port()).await;
    assert_too_many(&server).await;
    select(&first, 1).await;
    select(&second, 2).await;

    // A cancel request needs no slot: it ends the first client's query
    // while both slots are taken. One sent before the query started is
    // ignored (as by PostgreSQL), so it is sent again until the query ends.
    let token = first.cancel_token();
    let mut running = tokio::spawn(async move {
        let error = first
            .simple_query(ENDLESS)
            .await
            .expect_err("the query was canceled");
        (first, error)
    });
    let mut canceled = None;
    for _ in 0..50 {
        token
            .cancel_query(NoTls)
            .await
            .unwrap_or_else(|e| panic!("the cancel request: {}", describe_error(&e)));
        if let Ok(done) = tokio::time::timeout(Duration::from_millis(500), &mut running).await {
            canceled = Some(done.expect("the query task"));
            break;
        }
    }
    let (first, error) = canceled.expect("the query ended after a cancel request");
    assert_eq!(
        error.as_db_error().map(|e| e.code()),
        Some(&SqlState::QUERY_CANCELED),
        "{}",
        describe_error(&error)
    );
    select(&first, 3).await;
    assert_too_many(&server).await;

    // A client that leaves frees its slot (once its connection has ended).
    drop(second);
    let mut third = None;
    for _ in 0..100 {
        match try_connect(server.port()).await {
            Ok(client) => {
                third = Some(client);
                break;
            }
            Err(error) => {
                assert_eq!(
                    describe_error(&error),
                    "53300: sorry, too many clients already"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    let third = third.expect("a slot freed when a client left");
    select(&third, 4).await;
    select(&first, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_listener_counts_its_own_clients() {
    let one = ServedListener::start(ListenerConfig {
        max_connections: 1,
        ..ListenerConfig::trust()
    })
    .await;
    let other = one
        .beside(ListenerConfig {
            max_connections: 1,
            ..ListenerConfig::trust()
        })
        .await;
    let a = connect(one.port()).await;
    let b = connect(other.port()).await;
    assert_too_many(&one).await;
    assert_too_many(&other).await;
    select(&a, 1).await;
    select(&b, 2).await;
}
