//! The catalog queries drivers send, prepared and run as the drivers do
//! (extended protocol, binary results), answered by patina as by
//! PostgreSQL 15: tokio-postgres's type lookup for an OID it does not know
//! (pg_type joined with pg_range and pg_namespace, then pg_enum and
//! pg_attribute), sqlx's `oid::regtype::text`, SQLAlchemy's `has_table`,
//! and `::regclass` both ways.

use patina_tests::tokio_postgres::Client;
use patina_tests::tokio_postgres::types::Oid;
use patina_tests::{Oracle, Patina};

/// tokio-postgres 0.7's `TYPEINFO_QUERY` (src/prepare.rs).
const TYPEINFO_QUERY: &str = "\
SELECT t.typname, t.typtype, t.typelem, r.rngsubtype, t.typbasetype, n.nspname, t.typrelid
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
INNER JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid
WHERE t.oid = $1
";

/// tokio-postgres 0.7's `TYPEINFO_ENUM_QUERY`.
const TYPEINFO_ENUM_QUERY: &str = "\
SELECT enumlabel
FROM pg_catalog.pg_enum
WHERE enumtypid = $1
ORDER BY enumsortorder
";

/// SQLAlchemy 2's `has_table` (PGDialect.has_table), with its parameters
/// bound.
const HAS_TABLE: &str = "SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class \
    JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \
    WHERE pg_catalog.pg_class.relname = $1 \
    AND pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) \
    AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) \
    AND pg_catalog.pg_namespace.nspname != 'pg_catalog'";

/// What the type lookup answers for `oid`, as tokio-postgres reads it.
async fn type_info(client: &Client, oid: Oid) -> Vec<String> {
    let statement = client.prepare(TYPEINFO_QUERY).await.expect("prepare");
    let rows = client
        .query(&statement, &[&oid])
        .await
        .expect("type lookup");
    let mut out: Vec<String> = rows
        .iter()
        .map(|row| {
            let name: String = row.get(0);
            let kind: i8 = row.get(1);
            let element: Oid = row.get(2);
            let range: Option<Oid> = row.get(3);
            let base: Oid = row.get(4);
            let schema: String = row.get(5);
            let relid: Oid = row.get(6);
            format!(
                "{name} {} {element} {range:?} {base} {schema} {relid}",
                kind as u8 as char
            )
        })
        .collect();
    let enums = client.prepare(TYPEINFO_ENUM_QUERY).await.expect("prepare");
    for row in client.query(&enums, &[&oid]).await.expect("enum lookup") {
        out.push(row.get(0));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn driver_catalog_queries_answer_as_postgres() {
    let Oracle {
        postgres: _postgres,
        patina: _patina,
        pg,
        node,
    } = Oracle::start(
        "CREATE TABLE gadgets (id serial PRIMARY KEY, name varchar(40) NOT NULL DEFAULT '')",
    )
    .await;

    // built-in scalars and arrays, object identifiers, and an OID no type has
    for oid in [
        16, 23, 1007, 1043, 1015, 2205, 3802, 3807, 19, 26, 12_345_678,
    ] {
        assert_eq!(
            type_info(&node, oid).await,
            type_info(&pg, oid).await,
            "type lookup of {oid}"
        );
    }

    // sqlx names a type by `oid::regtype::text`
    for client in [&pg, &node] {
        let row = client
            .query_one("SELECT $1::oid::regtype::text", &[&1007u32])
            .await
            .expect("regtype");
        assert_eq!(row.get::<_, String>(0), "integer[]");
    }

    for name in ["gadgets", "nope"] {
        let on_pg = pg
            .query(HAS_TABLE, &[&name])
            .await
            .expect("has_table on PostgreSQL");
        let on_node = node
            .query(HAS_TABLE, &[&name])
            .await
            .expect("has_table on patina");
        assert_eq!(on_node.len(), on_pg.len(), "has_table({name})");
    }

    // regclass: a name in, the name out, the OID the catalog has
    for client in [&pg, &node] {
        let row = client
            .query_one(
                "SELECT 'gadgets'::regclass::text, 'gadgets'::regclass::oid = \
                 (SELECT oid FROM pg_class WHERE relname = 'gadgets'), \
                 (SELECT count(*) FROM pg_attribute WHERE attrelid = 'gadgets'::regclass AND attnum > 0)",
                &[],
            )
            .await
            .expect("regclass");
        assert_eq!(row.get::<_, String>(0), "gadgets");
        assert!(row.get::<_, bool>(1));
        assert_eq!(row.get::<_, i64>(2), 2);
    }
    let error = node
        .query_one("SELECT 'no_such_table'::regclass", &[])
        .await
        .expect_err("an unknown relation");
    assert_eq!(error.code().map(|c| c.code()), Some("42P01"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn oids_are_the_same_on_every_node_and_restart() {
    let schema = "CREATE TABLE widgets (id integer PRIMARY KEY, label text); \
                  CREATE INDEX widgets_label ON widgets (label)";
    let oids = "SELECT relname, oid FROM pg_class WHERE relnamespace = 2200 ORDER BY relname";
    let (mut first, second) = tokio::join!(Patina::start(), Patina::start());
    let (a, b) = tokio::join!(first.connect(), second.connect());
    a.batch_execute(schema).await.expect("schema");
    b.batch_execute(schema).await.expect("schema");
    let listed = |rows: Vec<patina_tests::tokio_postgres::Row>| -> Vec<(String, Oid)> {
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    };
    let on_first = listed(a.query(oids, &[]).await.expect("oids"));
    let on_second = listed(b.query(oids, &[]).await.expect("oids"));
    assert_eq!(on_first.len(), 3, "{on_first:?}");
    assert_eq!(on_first, on_second);
    assert!(on_first.iter().all(|(_, oid)| *oid >= 16384));
    drop(a);
    first.restart().await.expect("restart");
    let again = first.connect().await;
    assert_eq!(
        listed(again.query(oids, &[]).await.expect("oids")),
        on_first
    );
}
