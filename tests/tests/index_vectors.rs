//! `pg_index.indkey` / `indoption` (int2vector) and `indclass` (oidvector)
//! as tokio-postgres reads them in binary: arrays with subscripts from 0,
//! the same on patina and PostgreSQL 15. Needs `target/debug/patina`
//! (`cargo build -p patina-cli`) and the PostgreSQL 15 binaries.

use patina_tests::tokio_postgres::Client;
use patina_tests::tokio_postgres::types::Type;
use patina_tests::{Patina, Postgres, describe_error};

/// The index's indkey and indoption (binary), the types of the three
/// vector columns, and how many operator classes indclass lists.
async fn index_vectors(client: &Client) -> (Vec<i16>, Vec<i16>, Vec<Type>, usize) {
    client
        .batch_execute(
            "CREATE TABLE iv (id int PRIMARY KEY, label text NOT NULL DEFAULT '', qty int NOT NULL DEFAULT 0); \
             CREATE INDEX iv_label_qty ON iv (label DESC, qty)",
        )
        .await
        .unwrap_or_else(|e| panic!("{}", describe_error(&e)));
    let row = client
        .query_one(
            "SELECT indkey, indoption, indclass FROM pg_index WHERE indexrelid = 'iv_label_qty'::regclass",
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{}", describe_error(&e)));
    let types = row.columns().iter().map(|c| c.type_().clone()).collect();
    let classes: Vec<u32> = row.get(2);
    (row.get(0), row.get(1), types, classes.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_reads_index_vectors_like_postgres() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let ours = index_vectors(&node.connect().await).await;
    let theirs = index_vectors(&server.connect().await).await;
    assert_eq!(ours, theirs);
    assert_eq!(
        theirs,
        (
            vec![2, 3],
            vec![3, 0],
            vec![Type::INT2_VECTOR, Type::INT2_VECTOR, Type::OID_VECTOR],
            2
        )
    );
}
