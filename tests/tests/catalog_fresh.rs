//! The system relations are created on a connection when a statement first
//! reads them (`pg/src/catalog/install.rs`). Here, on a real node: every
//! system relation answers the first query of a fresh connection, described
//! with PostgreSQL 15's columns and types; a view created inside a
//! transaction that rolls back is created again; DDL made after a view was
//! created shows at once.

use patina_tests::tokio_postgres::Client;
use patina_tests::{Oracle, Patina};

/// Where patina's column type is not PostgreSQL's (see
/// `pg/src/catalog/pg_catalog.rs`): the PostgreSQL type, and the one
/// patina gives.
const STAND_INS: &[(&str, &str)] = &[
    ("regproc", "text"),
    ("_aclitem", "_text"),
    ("pg_node_tree", "text"),
    ("xid", "oid"),
    ("int2vector", "_int2"),
    ("oidvector", "_oid"),
];

/// The columns `SELECT * FROM relation LIMIT 0` describes, as (name,
/// type name), after running it.
async fn columns(client: &Client, relation: &str) -> Vec<(String, String)> {
    let sql = format!("SELECT * FROM {relation} LIMIT 0");
    let statement = client
        .prepare(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = client
        .query(&statement, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert!(rows.is_empty(), "{sql}");
    statement
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), c.type_().name().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_system_relation_answers_a_fresh_connection_as_postgres() {
    let oracle = Oracle::start("CREATE TABLE gadgets (id serial PRIMARY KEY, name text)").await;
    for relation in patina_pg::catalog::relations() {
        let name = format!("{}.{}", relation.schema, relation.name);
        let fresh = oracle.patina.connect().await;
        let on_patina = columns(&fresh, &name).await;
        let declared: Vec<&str> = relation.columns.iter().map(|(column, _)| *column).collect();
        let names: Vec<&str> = on_patina
            .iter()
            .map(|(column, _)| column.as_str())
            .collect();
        assert_eq!(names, declared, "{name}");
        if relation.schema == "patina" {
            continue;
        }
        // each of patina's columns is PostgreSQL's, in its order, of its type
        let on_postgres = columns(&oracle.pg, &name).await;
        let mut remaining = on_postgres.iter();
        for (column, ty) in &on_patina {
            let Some((_, pg_type)) = remaining.find(|(pg_column, _)| pg_column == column) else {
                panic!("{name}.{column}: not in PostgreSQL's {on_postgres:?}");
            };
            assert!(
                ty == pg_type || STAND_INS.contains(&(pg_type.as_str(), ty.as_str())),
                "{name}.{column}: {ty}, PostgreSQL {pg_type}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn views_dropped_by_a_rollback_are_created_again() {
    let patina = Patina::start().await;
    let client = patina.connect().await;
    client
        .batch_execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        .await
        .expect("table");
    // after a write the block holds the writer: the catalog query runs
    // there, inside the transaction
    let in_block = "BEGIN; INSERT INTO notes VALUES (1, 'a'); \
                    SELECT count(*) FROM pg_class WHERE relname = 'notes'";
    client.batch_execute(in_block).await.expect("first");
    client.batch_execute("ROLLBACK").await.expect("rollback");
    client.batch_execute(in_block).await.expect("again");
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'notes'::regclass AND attnum > 0",
            &[],
        )
        .await
        .expect("in the same block");
    assert_eq!(row.get::<_, i64>(0), 2);
    client.batch_execute("COMMIT").await.expect("commit");
    let count = client
        .query_one("SELECT count(*) FROM notes", &[])
        .await
        .expect("count");
    assert_eq!(count.get::<_, i64>(0), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ddl_after_a_view_was_created_shows_at_once() {
    let patina = Patina::start().await;
    let (reader, writer) = tokio::join!(patina.connect(), patina.connect());
    let tables = "SELECT tablename FROM pg_tables ORDER BY 1";
    let listed = |rows: Vec<patina_tests::tokio_postgres::Row>| -> Vec<String> {
        rows.iter().map(|row| row.get(0)).collect()
    };
    assert!(listed(reader.query(tables, &[]).await.expect("none")).is_empty());
    writer
        .batch_execute("CREATE TABLE later (id int PRIMARY KEY)")
        .await
        .expect("create");
    assert_eq!(
        listed(reader.query(tables, &[]).await.expect("one")),
        ["later"]
    );
    let columns = "SELECT column_name FROM information_schema.columns \
                   WHERE table_name = 'later' ORDER BY ordinal_position";
    assert_eq!(
        listed(reader.query(columns, &[]).await.expect("columns")),
        ["id"]
    );
    writer
        .batch_execute("ALTER TABLE later ADD COLUMN note text")
        .await
        .expect("alter");
    assert_eq!(
        listed(reader.query(columns, &[]).await.expect("columns")),
        ["id", "note"]
    );
}
