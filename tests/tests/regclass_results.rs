//! A `regclass` result column as PostgreSQL 15 sends it: described as
//! `regclass` (OID 2205), the relation's name in the text format (psql,
//! the simple protocol) and its OID in the binary format (tokio-postgres),
//! also in each branch of a set operation.

use patina_tests::Oracle;
use patina_tests::tokio_postgres::Client;
use patina_tests::tokio_postgres::types::{FromSql, Type};
use patina_tests::tokio_postgres::{SimpleQueryMessage, SimpleQueryRow};

/// A binary `regclass` value: the relation's OID.
struct RegclassOid(u32);

impl<'a> FromSql<'a> for RegclassOid {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 4] = raw.try_into()?;
        Ok(RegclassOid(u32::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::REGCLASS
    }
}

async fn text_rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let messages = client.simple_query(sql).await.expect(sql);
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(cells(&row)),
            _ => None,
        })
        .collect()
}

fn cells(row: &SimpleQueryRow) -> Vec<Option<String>> {
    (0..row.len())
        .map(|i| row.get(i).map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn regclass_results_are_typed_and_print_names() {
    let Oracle {
        postgres: _postgres,
        patina: _patina,
        pg,
        node,
    } = Oracle::start(
        "CREATE TABLE \"Odd Name\" (id int PRIMARY KEY); CREATE TABLE plain (id int PRIMARY KEY)",
    )
    .await;
    let sql = "SELECT 'plain'::regclass AS r, '\"Odd Name\"'::regclass, 'pg_class'::regclass::oid::regclass";
    for client in [&pg, &node] {
        let statement = client.prepare(sql).await.expect("prepare");
        let types: Vec<u32> = statement
            .columns()
            .iter()
            .map(|c| c.type_().oid())
            .collect();
        assert_eq!(types, [2205, 2205, 2205]);
        let row = client.query_one(&statement, &[]).await.expect("binary");
        let oid = |name: &'static str| async move {
            client
                .query_one("SELECT oid FROM pg_class WHERE relname = $1", &[&name])
                .await
                .expect("oid")
                .get::<_, u32>(0)
        };
        assert_eq!(row.get::<_, RegclassOid>(0).0, oid("plain").await);
        assert_eq!(row.get::<_, RegclassOid>(2).0, oid("pg_class").await);
        assert_eq!(
            text_rows(client, sql).await,
            [
                [Some("plain"), Some("\"Odd Name\""), Some("pg_class")]
                    .map(|c| c.map(str::to_owned))
            ]
        );
        let union = "SELECT 'plain'::regclass UNION ALL SELECT c.oid::regclass FROM pg_class AS c \
                     WHERE c.relname = 'Odd Name'";
        let mut names = text_rows(client, union).await;
        names.sort();
        assert_eq!(
            names,
            [
                vec![Some("\"Odd Name\"".to_owned())],
                vec![Some("plain".to_owned())]
            ]
        );
    }
}
