//! A read-only listener: reads work, every write gets 25006 with the
//! message PostgreSQL 15 gives under `default_transaction_read_only = on`,
//! and the client cannot turn it off (`SET … = off`, `BEGIN READ WRITE` and
//! `SET TRANSACTION READ WRITE` are refused with 25006, as on a hot
//! standby). Needs the PostgreSQL 15 binaries.

use patina_pg::server::ListenerConfig;
use patina_tests::tokio_postgres::Client;
use patina_tests::{Postgres, ServedListener, connect, describe_error};

async fn error_of(client: &Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql} succeeded"),
        Err(error) => describe_error(&error),
    }
}

async fn show(client: &Client, name: &str) -> String {
    let rows = client
        .simple_query(&format!("SHOW {name}"))
        .await
        .unwrap_or_else(|e| panic!("SHOW {name}: {}", describe_error(&e)));
    rows.iter()
        .find_map(|m| match m {
            patina_tests::tokio_postgres::SimpleQueryMessage::Row(row) => {
                row.get(0).map(str::to_owned)
            }
            _ => None,
        })
        .expect("a value")
}

const WRITES: [&str; 3] = [
    "INSERT INTO t VALUES (2, 'two')",
    "UPDATE t SET v = 'uno'",
    "CREATE TABLE u (id int PRIMARY KEY)",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_listener_refuses_every_write() {
    let writable = ServedListener::start(ListenerConfig::trust()).await;
    let writer = connect(writable.port()).await;
    writer
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')",
        )
        .await
        .expect("a table");
    let read_only = writable
        .beside(ListenerConfig {
            read_only: true,
            ..ListenerConfig::trust()
        })
        .await;
    let client = connect(read_only.port()).await;

    // What PostgreSQL 15 answers the same writes in a read-only session.
    let postgres = Postgres::start().await;
    let oracle = postgres.connect().await;
    oracle
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one');
             SET default_transaction_read_only = on",
        )
        .await
        .expect("the oracle's table");

    let row = client
        .query_one("SELECT v FROM t WHERE id = 1", &[])
        .await
        .expect("a read");
    assert_eq!(row.get::<_, String>(0), "one");
    assert_eq!(show(&client, "default_transaction_read_only").await, "on");
    for sql in WRITES {
        let expected = error_of(&oracle, sql).await;
        assert!(expected.starts_with("25006: "), "{expected}");
        assert_eq!(error_of(&client, sql).await, expected, "{sql}");
    }

    for sql in [
        "SET default_transaction_read_only = off",
        "SET transaction_read_only = off",
        "SET default_transaction_read_only TO false",
    ] {
        let error = error_of(&client, sql).await;
        assert_eq!(
            error, "25006: cannot set transaction read-write mode on a read-only listener",
            "{sql}"
        );
    }
    for sql in [
        "RESET ALL",
        "SET default_transaction_read_only = DEFAULT",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    ] {
        client.batch_execute(sql).await.expect(sql);
        let error = error_of(&client, "INSERT INTO t VALUES (3, 'three')").await;
        assert_eq!(
            error, "25006: cannot execute INSERT in a read-only transaction",
            "after {sql}"
        );
    }

    let error = error_of(&client, "BEGIN READ WRITE").await;
    assert_eq!(
        error,
        "25006: cannot set transaction read-write mode on a read-only listener"
    );
    assert_eq!(show(&client, "transaction_read_only").await, "on");
    let error = error_of(
        &client,
        "BEGIN; SET TRANSACTION READ WRITE; INSERT INTO t VALUES (3, 'three')",
    )
    .await;
    assert!(error.starts_with("25006: "), "{error}");
    client.batch_execute("ROLLBACK").await.expect("ROLLBACK");

    let count = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .expect("a read");
    assert_eq!(count.get::<_, i64>(0), 1);
    // The writable listener on the same database still writes.
    writer
        .batch_execute("INSERT INTO t VALUES (2, 'two')")
        .await
        .expect("a write");
}
