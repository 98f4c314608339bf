//! The test support itself: a throwaway PostgreSQL starts, answers, and is
//! gone after drop.

use std::time::Duration;

use patina_tests::{Postgres, try_connect};

#[tokio::test]
async fn postgres_starts_answers_and_is_removed_on_drop() {
    let pg = Postgres::start().await;
    let client = pg.connect().await;
    let row = client
        .query_one("SELECT version(), current_setting('fsync')", &[])
        .await
        .unwrap();
    let version: String = row.get(0);
    let fsync: String = row.get(1);
    assert!(version.starts_with("PostgreSQL 15."), "{version}");
    assert_eq!(fsync, "off");

    let port = pg.port();
    let dir = pg.dir().to_path_buf();
    drop(client);
    drop(pg);
    assert!(!dir.exists(), "{} is still there", dir.display());
    let refused = tokio::time::timeout(Duration::from_secs(10), try_connect(port)).await;
    assert!(
        matches!(refused, Ok(Err(_))),
        "something still answers on port {port}"
    );
}
