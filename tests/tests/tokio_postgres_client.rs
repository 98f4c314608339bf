//! tokio-postgres against a running node: the simple protocol (text
//! results) and the extended one (named statements, Parse + Describe + Sync,
//! binary parameters and results), prepared and typed statements,
//! transactions and savepoints, portals with max_rows, pipelining, error
//! codes and the connection after each error, concurrent clients.
//!
//! Every case is an `async fn(port)`. Each runs against a patina node of its
//! own (`patina::<case>`), and all of them run once, one after the other,
//! against a real PostgreSQL 15 (`all_cases_against_postgres`): the
//! expectations are PostgreSQL's behaviour. Needs `target/debug/patina`
//! (`cargo build -p patina-cli`) and the PostgreSQL 15 server binaries.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{TryStreamExt, future};
use patina_tests::tokio_postgres::error::SqlState;
use patina_tests::tokio_postgres::types::{FromSql, ToSql, Type};
use patina_tests::tokio_postgres::{Client, Error, IsolationLevel, SimpleQueryMessage};
use patina_tests::{connect, describe_error};

// --- helpers -------------------------------------------------------------------

/// A table name no other test uses (also across runs on one server).
fn new_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{:x}{:x}{n}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

/// The table most cases use. patina's rules: a primary key on every table,
/// NOT NULL columns outside the key need a DEFAULT, no UNIQUE outside the
/// key, no FOREIGN KEY.
async fn make_table(c: &Client) -> String {
    let t = new_name("t");
    c.batch_execute(&format!(
        "CREATE TABLE {t} (
            id integer PRIMARY KEY,
            name text,
            qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0),
            price numeric(10,2),
            tags text[],
            big bigint,
            created timestamptz,
            flag boolean
        )"
    ))
    .await
    .unwrap_or_else(|e| panic!("CREATE TABLE {t}: {}", describe_error(&e)));
    t
}

/// Unwraps a result, panicking with the server's SQLSTATE and message.
#[track_caller]
fn ok<T>(r: Result<T, Error>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {}", describe_error(&e)),
    }
}

/// The SQLSTATE of an expected error.
#[track_caller]
fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => match e.as_db_error() {
            Some(db) => db.code().code().to_owned(),
            None => panic!("expected a server error, got: {}", describe_error(&e)),
        },
    }
}

async fn count(c: &Client, t: &str) -> i64 {
    ok(c.query_one(&format!("SELECT count(*) FROM {t}"), &[]).await).get(0)
}

async fn ids(c: &Client, t: &str) -> Vec<i32> {
    ok(c.query(&format!("SELECT id FROM {t} ORDER BY id"), &[])
        .await)
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The rows of a simple query, each column as text (None for NULL).
fn text_rows(msgs: &[SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect()
}

/// The command-complete row counts of a simple query.
fn completions(msgs: &[SimpleQueryMessage]) -> Vec<u64> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

/// A column's raw binary bytes, whatever its type.
#[derive(Debug, PartialEq)]
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

// --- cases -----------------------------------------------------------------------

async fn simple_query_returns_text_rows_and_counts(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    let msgs = ok(c
        .simple_query(&format!(
            "INSERT INTO {t} (id, name, price, tags, flag) VALUES \
             (1, 'a', 9.9, ARRAY['x','y z'], true), (2, NULL, 1, '{{}}', false); \
             SELECT id, name, price, tags, flag, qty FROM {t} ORDER BY id"
        ))
        .await);
    assert_eq!(completions(&msgs), vec![2, 2]);
    assert_eq!(
        text_rows(&msgs),
        vec![
            vec![s("1"), s("a"), s("9.90"), s("{x,\"y z\"}"), s("t"), s("0")],
            vec![s("2"), None, s("1.00"), s("{}"), s("f"), s("0")],
        ]
    );
    let desc = msgs.iter().find_map(|m| match m {
        SimpleQueryMessage::RowDescription(cols) => {
            Some(cols.iter().map(|c| c.name().to_owned()).collect::<Vec<_>>())
        }
        _ => None,
    });
    assert_eq!(
        desc,
        Some(
            vec!["id", "name", "price", "tags", "flag", "qty"]
                .into_iter()
                .map(String::from)
                .collect()
        )
    );
}

async fn simple_query_string_is_one_implicit_transaction(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    let r = c
        .simple_query(&format!(
            "INSERT INTO {t} (id) VALUES (1); INSERT INTO {t} (id) VALUES (2); \
             SELECT 1/0; INSERT INTO {t} (id) VALUES (3)"
        ))
        .await;
    assert_eq!(code(r), "22012");
    assert_eq!(count(&c, &t).await, 0);
    let r = c
        .batch_execute(&format!(
            "INSERT INTO {t} (id) VALUES (1); INSERT INTO {t} (id) VALUES (1)"
        ))
        .await;
    assert_eq!(code(r), "23505");
    assert_eq!(count(&c, &t).await, 0);
    // an explicit COMMIT inside the string keeps what came before it
    let r = c
        .batch_execute(&format!(
            "BEGIN; INSERT INTO {t} (id) VALUES (1); COMMIT; INSERT INTO {t} (id) VALUES (2); SELECT 1/0"
        ))
        .await;
    assert_eq!(code(r), "22012");
    assert_eq!(ids(&c, &t).await, vec![1]);
}

async fn extended_binary_round_trip(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    let created = UNIX_EPOCH + Duration::from_micros(1_704_157_445_678_000);
    let tags = vec!["a".to_owned(), "b c".to_owned()];
    let row = ok(c
        .query_one(
            &format!(
                "INSERT INTO {t} (id, name, qty, tags, big, created, flag) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 RETURNING id, name, qty, tags, big, created, flag"
            ),
            &[
                &1i32,
                &"widget",
                &3i32,
                &tags,
                &(1i64 << 40),
                &created,
                &true,
            ],
        )
        .await);
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(row.get::<_, String>(1), "widget");
    assert_eq!(row.get::<_, i32>(2), 3);
    assert_eq!(row.get::<_, Vec<String>>(3), tags);
    assert_eq!(row.get::<_, i64>(4), 1 << 40);
    assert_eq!(row.get::<_, SystemTime>(5), created);
    assert!(row.get::<_, bool>(6));
    let types: Vec<Type> = row.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        vec![
            Type::INT4,
            Type::TEXT,
            Type::INT4,
            Type::TEXT_ARRAY,
            Type::INT8,
            Type::TIMESTAMPTZ,
            Type::BOOL
        ]
    );

    let n = ok(c
        .execute(
            &format!("UPDATE {t} SET name = $1, qty = qty + $2 WHERE id = $3"),
            &[&"gadget", &2i32, &1i32],
        )
        .await);
    assert_eq!(n, 1);
    let row = ok(c
        .query_one(
            &format!("SELECT name, qty FROM {t} WHERE id = $1"),
            &[&1i32],
        )
        .await);
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i32>(1)),
        ("gadget".to_owned(), 5)
    );
    assert_eq!(
        ok(
            c.execute(&format!("DELETE FROM {t} WHERE id = $1"), &[&1i32])
                .await
        ),
        1
    );
    assert_eq!(count(&c, &t).await, 0);
}

async fn binary_numeric_and_nulls(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    ok(c.batch_execute(&format!(
        "INSERT INTO {t} (id, price) VALUES (1, 9.9), (2, NULL)"
    ))
    .await);
    let rows = ok(c
        .query(&format!("SELECT price, name FROM {t} ORDER BY id"), &[])
        .await);
    // numeric 9.90 in binary: ndigits 2, weight 0, sign +, dscale 2, digits 9 9000
    assert_eq!(
        rows[0].get::<_, Option<Raw>>(0),
        Some(Raw(vec![0, 2, 0, 0, 0, 0, 0, 2, 0, 9, 0x23, 0x28]))
    );
    assert_eq!(rows[1].get::<_, Option<Raw>>(0), None);
    assert_eq!(rows[0].get::<_, Option<String>>(1), None);
    let row = ok(c
        .query_one(
            "SELECT $1::int8 + 1, $2::float8 * 2, $3::int2, $4::bytea, $5::text IS NULL",
            &[&41i64, &1.25f64, &7i16, &vec![0u8, 255], &None::<String>],
        )
        .await);
    assert_eq!(row.get::<_, i64>(0), 42);
    assert!((row.get::<_, f64>(1) - 2.5).abs() < f64::EPSILON);
    assert_eq!(row.get::<_, i16>(2), 7);
    assert_eq!(row.get::<_, Vec<u8>>(3), vec![0, 255]);
    assert!(row.get::<_, bool>(4));
}

async fn prepare_describes_parameters_and_columns(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    let stmt = ok(c
        .prepare(&format!(
            "SELECT id, name, price, created, qty::bigint AS n FROM {t} WHERE id = $1 AND name = $2 AND qty > $3"
        ))
        .await);
    assert_eq!(stmt.params(), &[Type::INT4, Type::TEXT, Type::INT4]);
    let cols: Vec<(&str, &Type)> = stmt
        .columns()
        .iter()
        .map(|c| (c.name(), c.type_()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("id", &Type::INT4),
            ("name", &Type::TEXT),
            ("price", &Type::NUMERIC),
            ("created", &Type::TIMESTAMPTZ),
            ("n", &Type::INT8)
        ]
    );
    assert!(ok(c.query(&stmt, &[&1i32, &"x", &0i32]).await).is_empty());
    let ins = ok(c
        .prepare(&format!(
            "INSERT INTO {t} (id, name, qty, flag, big) VALUES ($1, $2, $3, $4, $5)"
        ))
        .await);
    assert_eq!(
        ins.params(),
        &[Type::INT4, Type::TEXT, Type::INT4, Type::BOOL, Type::INT8]
    );
    assert!(ins.columns().is_empty());
}

async fn prepared_statement_reused(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    let ins = ok(c
        .prepare(&format!("INSERT INTO {t} (id, qty) VALUES ($1, $2)"))
        .await);
    for i in 0..20i32 {
        assert_eq!(ok(c.execute(&ins, &[&i, &(i * 2)]).await), 1);
    }
    let sel = ok(c
        .prepare(&format!("SELECT qty FROM {t} WHERE id = $1"))
        .await);
    for i in 0..20i32 {
        assert_eq!(ok(c.query_one(&sel, &[&i]).await).get::<_, i32>(0), i * 2);
    }
    // the statement survives an error on the connection
    assert_eq!(code(c.execute(&ins, &[&1i32, &1i32]).await), "23505");
    assert_eq!(ok(c.execute(&ins, &[&100i32, &1i32]).await), 1);
    let typed = ok(c
        .prepare_typed(
            &format!("SELECT count(*) FROM {t} WHERE qty >= $1"),
            &[Type::INT4],
        )
        .await);
    assert_eq!(
        ok(c.query_one(&typed, &[&20i32]).await).get::<_, i64>(0),
        10
    );
}

async fn query_typed_one_opt_and_raw(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    ok(c.batch_execute(&format!(
        "INSERT INTO {t} (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"
    ))
    .await);
    // unnamed statement with the client's own parameter types
    let rows = ok(c
        .query_typed(
            &format!("SELECT name FROM {t} WHERE id >= $1 ORDER BY id"),
            &[(&2i32, Type::INT4)],
        )
        .await);
    assert_eq!(
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>(),
        vec!["b", "c"]
    );
    assert!(
        ok(
            c.query_opt(&format!("SELECT name FROM {t} WHERE id = $1"), &[&9i32])
                .await
        )
        .is_none()
    );
    // query_one on zero rows is a client-side error, not a server error
    let e = c
        .query_one(&format!("SELECT name FROM {t} WHERE id = $1"), &[&9i32])
        .await
        .expect_err("no row");
    assert!(e.as_db_error().is_none());
    let params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(1i32), Box::new("z")];
    let stream = ok(c
        .query_raw(
            &format!("SELECT id, name FROM {t} WHERE id > $1 AND name < $2 ORDER BY id"),
            params.iter().map(|b| b.as_ref() as &(dyn ToSql + Sync)),
        )
        .await);
    let rows: Vec<_> = ok(stream.try_collect::<Vec<_>>().await);
    assert_eq!(
        rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let n = ok(c
        .execute_raw(
            &format!("UPDATE {t} SET qty = $1"),
            [&5i32 as &(dyn ToSql + Sync)],
        )
        .await);
    assert_eq!(n, 3);
}

async fn pipelined_queries(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    let ins = ok(c
        .prepare(&format!("INSERT INTO {t} (id, name) VALUES ($1, $2)"))
        .await);
    let names: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
    // Every query goes out before the first answer is read.
    let results = future::join_all((0..100i32).map(|i| {
        let c = &c;
        let ins = &ins;
        let name = &names[usize::try_from(i).expect("small")];
        async move { c.execute(ins, &[&i, name]).await }
    }))
    .await;
    assert!(results.iter().all(|r| matches!(r, Ok(1))), "{results:?}");
    assert_eq!(count(&c, &t).await, 100);

    // an error in the middle of a pipeline fails only its own query
    let count_sql = format!("SELECT count(*) FROM {t}");
    let (a, b, d) = tokio::join!(
        c.execute(&ins, &[&1000i32, &"x"]),
        c.execute(&ins, &[&0i32, &"dup"]),
        c.query_one(&count_sql, &[]),
    );
    assert_eq!(ok(a), 1);
    assert_eq!(code(b), "23505");
    assert_eq!(ok(d).get::<_, i64>(0), 101);
}

async fn transactions_commit_rollback(port: u16) {
    let mut c = connect(port).await;
    let other = connect(port).await;
    let t = make_table(&c).await;
    let tx = ok(c.transaction().await);
    ok(tx
        .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&1i32])
        .await);
    assert_eq!(count(&other, &t).await, 0);
    ok(tx.commit().await);
    assert_eq!(count(&other, &t).await, 1);
    let tx = ok(c.transaction().await);
    ok(tx
        .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&2i32])
        .await);
    ok(tx.rollback().await);
    assert_eq!(ids(&c, &t).await, vec![1]);
    // dropping a Transaction rolls it back
    {
        let tx = ok(c.transaction().await);
        ok(tx
            .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&3i32])
            .await);
    }
    assert_eq!(ids(&c, &t).await, vec![1]);
}

async fn savepoints(port: u16) {
    let mut c = connect(port).await;
    let t = make_table(&c).await;
    let mut tx = ok(c.transaction().await);
    ok(tx
        .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&1i32])
        .await);
    {
        let sp = ok(tx.savepoint("s1").await);
        ok(sp
            .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&2i32])
            .await);
        assert_eq!(
            code(
                sp.execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&1i32])
                    .await
            ),
            "23505"
        );
        assert_eq!(code(sp.query("SELECT 1", &[]).await), "25P02");
        ok(sp.rollback().await);
    }
    {
        let nested = ok(tx.transaction().await);
        ok(nested
            .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&3i32])
            .await);
        ok(nested.commit().await);
    }
    ok(tx.commit().await);
    assert_eq!(ids(&c, &t).await, vec![1, 3]);
}

async fn failed_transaction_is_25p02_until_rollback(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    ok(c.batch_execute("BEGIN").await);
    ok(
        c.execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&1i32])
            .await,
    );
    assert_eq!(code(c.query("SELECT $1::int / 0", &[&1i32]).await), "22012");
    assert_eq!(code(c.query("SELECT 1", &[]).await), "25P02");
    assert_eq!(code(c.simple_query("SELECT 1").await), "25P02");
    // COMMIT of a failed transaction rolls back
    let msgs = ok(c.simple_query("COMMIT").await);
    assert_eq!(completions(&msgs), vec![0]);
    assert_eq!(count(&c, &t).await, 0);
}

async fn isolation_levels_and_read_only(port: u16) {
    let mut c = connect(port).await;
    let t = make_table(&c).await;
    let show = "SHOW transaction_isolation";
    {
        let tx = ok(c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()
            .await);
        assert_eq!(
            text_rows(&ok(tx.simple_query(show).await)),
            vec![vec![s("repeatable read")]]
        );
        ok(tx.commit().await);
    }
    {
        let tx = ok(c
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable)
            .read_only(true)
            .start()
            .await);
        assert_eq!(
            text_rows(&ok(tx.simple_query(show).await)),
            vec![vec![s("serializable")]]
        );
        assert_eq!(
            code(
                tx.execute(&format!("INSERT INTO {t} (id) VALUES (1)"), &[])
                    .await
            ),
            "25006"
        );
        ok(tx.rollback().await);
    }
    ok(
        c.batch_execute("BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .await,
    );
    assert_eq!(
        text_rows(&ok(c.simple_query(show).await)),
        vec![vec![s("repeatable read")]]
    );
    ok(c.batch_execute("COMMIT").await);
    assert_eq!(
        text_rows(&ok(c.simple_query(show).await)),
        vec![vec![s("read committed")]]
    );
}

async fn portal_with_max_rows(port: u16) {
    let mut c = connect(port).await;
    let t = make_table(&c).await;
    ok(c.batch_execute(&format!(
        "INSERT INTO {t} (id) VALUES (1), (2), (3), (4), (5), (6), (7)"
    ))
    .await);
    let tx = ok(c.transaction().await);
    let stmt = ok(tx
        .prepare(&format!("SELECT id FROM {t} WHERE id > $1 ORDER BY id"))
        .await);
    let portal = ok(tx.bind(&stmt, &[&1i32]).await);
    // Execute with max_rows = 2: PortalSuspended until the last batch; an
    // exhausted portal then gives no rows (CommandComplete "SELECT 0")
    let mut batches = Vec::new();
    for _ in 0..5 {
        let rows = ok(tx.query_portal(&portal, 2).await);
        batches.push(rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>());
    }
    assert_eq!(
        batches,
        vec![vec![2, 3], vec![4, 5], vec![6, 7], vec![], vec![]]
    );
    let stream = ok(tx
        .query_portal_raw(&ok(tx.bind(&stmt, &[&5i32]).await), 1)
        .await);
    let first: Vec<i32> = ok(stream.map_ok(|r| r.get::<_, i32>(0)).try_collect().await);
    assert_eq!(first, vec![6]);
    ok(tx.commit().await);
}

/// Every SQLSTATE of the issue: (sqlstate, statement) against a table {t}
/// holding id = 1; {u} is a missing table.
const ERROR_CASES: &[(&str, &str)] = &[
    ("23505", "INSERT INTO {t} (id, name) VALUES (1, 'again')"),
    ("23502", "INSERT INTO {t} (id, qty) VALUES (2, NULL)"),
    (
        "23502",
        "INSERT INTO {t} (id, name) VALUES (NULL, 'no key')",
    ),
    ("23514", "INSERT INTO {t} (id, qty) VALUES (3, -1)"),
    ("23514", "UPDATE {t} SET qty = -5 WHERE id = 1"),
    ("42601", "SELEC 1"),
    ("42P01", "SELECT * FROM {u}"),
    ("42703", "SELECT no_such_column FROM {t}"),
    ("22012", "SELECT 1/0"),
    ("22P02", "SELECT 'abc'::int"),
    ("0A000", "SELECT * FROM other_db.public.{t}"),
    ("0A000", "SELECT count(*) FROM {t} FOR UPDATE"),
];

async fn error_codes_and_connection_survives(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    ok(
        c.batch_execute(&format!("INSERT INTO {t} (id, name) VALUES (1, 'first')"))
            .await,
    );
    let u = new_name("missing");
    let mut wrong = Vec::new();
    for (expected, sql) in ERROR_CASES {
        let sql = sql.replace("{t}", &t).replace("{u}", &u);
        let simple = c.simple_query(&sql).await;
        let extended = c.query(&sql, &[]).await;
        let prepared = c.prepare(&sql).await.map(|_| ());
        for (how, got) in [
            ("simple", simple.map(|_| ())),
            ("extended", extended.map(|_| ())),
            ("prepare", prepared),
        ] {
            let got = match got {
                Ok(()) => "success".to_owned(),
                Err(e) => e
                    .code()
                    .map_or_else(|| describe_error(&e), |c| c.code().to_owned()),
            };
            // Parse-time errors (syntax, names) come at prepare; run-time
            // ones (constraints, division, casts of literals) may come only
            // at execution.
            let must_fail_at_prepare = matches!(*expected, "42601" | "42P01" | "42703" | "0A000");
            if got != *expected && (how != "prepare" || must_fail_at_prepare || got != "success") {
                wrong.push(format!("{how}: {sql}: expected {expected}, got {got}"));
            }
        }
        // the connection works and the failed statements changed nothing
        let rows = ok(c
            .query(&format!("SELECT id, name, qty FROM {t} ORDER BY id"), &[])
            .await);
        let rows: Vec<(i32, String, i32)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if rows != vec![(1, "first".to_owned(), 0)] {
            wrong.push(format!("after {sql}: the table holds {rows:?}"));
            ok(c.batch_execute(&format!(
                "DELETE FROM {t} WHERE id <> 1; UPDATE {t} SET name = 'first', qty = 0"
            ))
            .await);
        }
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}

async fn error_fields(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    ok(
        c.execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&1i32])
            .await,
    );
    let e = c
        .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&1i32])
        .await
        .expect_err("duplicate");
    let db = e.as_db_error().expect("a server error");
    assert_eq!(db.code(), &SqlState::UNIQUE_VIOLATION);
    assert_eq!(db.severity(), "ERROR");
    assert_eq!(
        db.message(),
        format!("duplicate key value violates unique constraint \"{t}_pkey\"")
    );
    // No DETAIL ("Key (id)=(1) already exists."): see tests/clients/README.md.
    assert_eq!(
        (db.schema(), db.table(), db.constraint()),
        (
            Some("public"),
            Some(t.as_str()),
            Some(format!("{t}_pkey").as_str())
        )
    );
    let e = c
        .execute(
            &format!("INSERT INTO {t} (id, qty) VALUES ($1, $2)"),
            &[&2i32, &None::<i32>],
        )
        .await
        .expect_err("null");
    let db = e.as_db_error().expect("a server error");
    assert_eq!(db.code(), &SqlState::NOT_NULL_VIOLATION);
    assert_eq!((db.table(), db.column()), (Some(t.as_str()), Some("qty")));
    let e = c.query("SELECT 1 FROM", &[]).await.expect_err("syntax");
    let db = e.as_db_error().expect("a server error");
    assert_eq!(db.code(), &SqlState::SYNTAX_ERROR);
    assert_eq!(db.message(), "syntax error at end of input");
}

async fn parameter_errors(port: u16) {
    let c = connect(port).await;
    let t = make_table(&c).await;
    // a text parameter for an integer column: the statement wants int4 and
    // the client refuses to serialize a &str for it
    let e = c
        .execute(&format!("INSERT INTO {t} (id) VALUES ($1)"), &[&"abc"])
        .await
        .expect_err("type");
    assert!(e.as_db_error().is_none(), "{e}");
    // the server parses a text-typed parameter cast to int
    assert_eq!(
        code(c.query_one("SELECT $1::text::int", &[&"abc"]).await),
        "22P02"
    );
    assert_eq!(
        code(
            c.query_one("SELECT $1::int / $2::int", &[&1i32, &0i32])
                .await
        ),
        "22012"
    );
    assert_eq!(
        ok(c.query_one("SELECT $1::int / $2::int", &[&6i32, &3i32])
            .await)
        .get::<_, i32>(0),
        2
    );
    // a wrong number of parameters never reaches the server
    let stmt = ok(c.prepare_typed("SELECT $1::int", &[Type::INT4]).await);
    let e = c.query(&stmt, &[]).await.expect_err("missing parameter");
    assert!(
        e.as_db_error().is_none(),
        "the client checks the count: {e}"
    );
    assert_eq!(count(&c, &t).await, 0);
}

async fn foreign_key_enforced_or_refused(port: u16) {
    // PostgreSQL enforces a FOREIGN KEY (23503); patina cannot across
    // replicas and refuses it at CREATE TABLE with 0A000. Accepting it
    // without enforcing it would be wrong.
    let c = connect(port).await;
    let parent = new_name("parent");
    let child = new_name("child");
    ok(
        c.batch_execute(&format!("CREATE TABLE {parent} (id integer PRIMARY KEY)"))
            .await,
    );
    match c
        .batch_execute(&format!(
            "CREATE TABLE {child} (id integer PRIMARY KEY, p integer REFERENCES {parent} (id))"
        ))
        .await
    {
        Err(e) => {
            let db = e
                .as_db_error()
                .unwrap_or_else(|| panic!("{}", describe_error(&e)));
            assert_eq!(
                db.code(),
                &SqlState::FEATURE_NOT_SUPPORTED,
                "{}",
                db.message()
            );
            assert!(db.message().contains("FOREIGN KEY"), "{}", db.message());
            assert_eq!(ok(c.query_one("SELECT 1", &[]).await).get::<_, i32>(0), 1);
        }
        Ok(()) => {
            ok(
                c.batch_execute(&format!("INSERT INTO {parent} (id) VALUES (1)"))
                    .await,
            );
            ok(c.execute(
                &format!("INSERT INTO {child} (id, p) VALUES ($1, $2)"),
                &[&1i32, &1i32],
            )
            .await);
            assert_eq!(
                code(
                    c.execute(
                        &format!("INSERT INTO {child} (id, p) VALUES ($1, $2)"),
                        &[&2i32, &2i32]
                    )
                    .await
                ),
                "23503"
            );
        }
    }
}

async fn session_statements(port: u16) {
    let c = connect(port).await;
    let show = |name: &'static str| {
        let c = &c;
        async move { text_rows(&ok(c.simple_query(&format!("SHOW {name}")).await)) }
    };
    let v = show("server_version").await;
    assert!(
        v[0][0].as_deref().is_some_and(|v| v.starts_with("15.")),
        "{v:?}"
    );
    assert_eq!(show("client_encoding").await, vec![vec![s("UTF8")]]);
    assert_eq!(
        show("standard_conforming_strings").await,
        vec![vec![s("on")]]
    );
    ok(c.batch_execute("SET application_name = 'tokio'").await);
    assert_eq!(show("application_name").await, vec![vec![s("tokio")]]);
    ok(c.batch_execute("RESET ALL").await);
    assert_eq!(show("application_name").await, vec![vec![s("")]]);
    ok(c.batch_execute("SET application_name = 'again'").await);
    ok(c.batch_execute("DISCARD ALL").await);
    assert_eq!(show("application_name").await, vec![vec![s("")]]);
    // DISCARD ALL dropped the named statements; the client's cache is stale,
    // so use fresh ones
    let stmt = ok(c.prepare("SELECT $1::int + 1").await);
    assert_eq!(ok(c.query_one(&stmt, &[&1i32]).await).get::<_, i32>(0), 2);
    ok(c.batch_execute("DEALLOCATE ALL").await);
    assert_eq!(code(c.query_one(&stmt, &[&1i32]).await), "26000");
    assert_eq!(ok(c.query_one("SELECT 3", &[]).await).get::<_, i32>(0), 3);
}

async fn concurrent_clients(port: u16) {
    let setup = connect(port).await;
    let t = make_table(&setup).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(connect(port).await);
    }
    let work = clients.iter().enumerate().map(|(k, c)| {
        let t = &t;
        async move {
            let k = i32::try_from(k).expect("small");
            for i in 0..10i32 {
                c.execute(
                    &format!("INSERT INTO {t} (id, qty) VALUES ($1, $2)"),
                    &[&(k * 100 + i), &k],
                )
                .await?;
                c.query_one(&format!("SELECT count(*) FROM {t}"), &[])
                    .await?;
            }
            Ok::<_, Error>(())
        }
    });
    for r in future::join_all(work).await {
        ok(r);
    }
    let rows = ok(setup
        .query(
            &format!("SELECT qty, count(*) FROM {t} GROUP BY qty ORDER BY qty"),
            &[],
        )
        .await);
    let got: Vec<(i32, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![(0, 10), (1, 10), (2, 10), (3, 10)]);
}

async fn reads_do_not_wait_for_a_write_transaction(port: u16) {
    let mut writer = connect(port).await;
    let reader = connect(port).await;
    let t = make_table(&writer).await;
    ok(writer
        .execute(&format!("INSERT INTO {t} (id, qty) VALUES (1, 1)"), &[])
        .await);
    let tx = ok(writer.transaction().await);
    ok(tx
        .execute(&format!("UPDATE {t} SET qty = 2 WHERE id = 1"), &[])
        .await);
    ok(tx
        .execute(&format!("INSERT INTO {t} (id) VALUES (2)"), &[])
        .await);
    // the write transaction is open: readers see the committed state at once
    let row = ok(reader
        .query_one(&format!("SELECT qty FROM {t} WHERE id = 1"), &[])
        .await);
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(count(&reader, &t).await, 1);
    let msgs = ok(reader.simple_query(&format!("SELECT qty FROM {t}")).await);
    assert_eq!(text_rows(&msgs), vec![vec![s("1")]]);
    ok(tx.commit().await);
    assert_eq!(ids(&reader, &t).await, vec![1, 2]);
}

async fn disconnect_mid_transaction_loses_only_it(port: u16) {
    let mut c = connect(port).await;
    let t = make_table(&c).await;
    ok(c.execute(
        &format!("INSERT INTO {t} (id, name) VALUES (1, 'kept')"),
        &[],
    )
    .await);
    let tx = ok(c.transaction().await);
    ok(tx
        .execute(
            &format!("INSERT INTO {t} (id, name) VALUES (2, 'lost')"),
            &[],
        )
        .await);
    ok(tx
        .execute(
            &format!("UPDATE {t} SET name = 'changed' WHERE id = 1"),
            &[],
        )
        .await);
    std::mem::forget(tx); // no ROLLBACK sent
    drop(c); // the connection closes without COMMIT
    let c2 = connect(port).await;
    // The same key can go in once the server has dropped the abandoned
    // transaction (PostgreSQL makes the insert wait for it).
    ok(c2
        .execute(
            &format!("INSERT INTO {t} (id, name) VALUES (2, 'new')"),
            &[],
        )
        .await);
    let rows = ok(c2
        .query(&format!("SELECT id, name FROM {t} ORDER BY id"), &[])
        .await);
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![(1, "kept".to_owned()), (2, "new".to_owned())]);
}

async fn simple_and_extended_text_of_types(port: u16) {
    // the same values through the simple protocol (text) and the extended
    // one (binary)
    let c = connect(port).await;
    let q = "SELECT 1::int2, 2::int4, 3::int8, 1.5::float8, true, 'x'::text, 12.30::numeric(5,2), \
             ARRAY[1,2]::int4[], '2024-01-02 03:04:05+00'::timestamptz";
    ok(c.batch_execute("SET TIME ZONE 'UTC'").await);
    let text = text_rows(&ok(c.simple_query(q).await));
    assert_eq!(
        text,
        vec![vec![
            s("1"),
            s("2"),
            s("3"),
            s("1.5"),
            s("t"),
            s("x"),
            s("12.30"),
            s("{1,2}"),
            s("2024-01-02 03:04:05+00")
        ]]
    );
    let row = ok(c.query_one(q, &[]).await);
    assert_eq!(row.get::<_, i16>(0), 1);
    assert_eq!(row.get::<_, i32>(1), 2);
    assert_eq!(row.get::<_, i64>(2), 3);
    assert!((row.get::<_, f64>(3) - 1.5).abs() < f64::EPSILON);
    assert!(row.get::<_, bool>(4));
    assert_eq!(row.get::<_, String>(5), "x");
    assert_eq!(
        row.get::<_, Raw>(6),
        Raw(vec![0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x0b, 0xb8])
    );
    assert_eq!(row.get::<_, Vec<i32>>(7), vec![1, 2]);
    assert_eq!(
        row.get::<_, SystemTime>(8),
        UNIX_EPOCH + Duration::from_secs(1_704_164_645)
    );
}

/// Fails a case that hangs (a server that never answers) instead of
/// blocking the whole run. Not a timing expectation: every case takes a few
/// seconds at most.
async fn within_hang_guard(case: impl Future<Output = ()>) {
    if tokio::time::timeout(Duration::from_secs(300), case)
        .await
        .is_err()
    {
        panic!("the case hung: no answer from the server for 300 s");
    }
}

// --- the test functions --------------------------------------------------------

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        /// Each case against a patina node of its own.
        mod patina {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let node = patina_tests::Patina::start().await;
                    super::within_hang_guard(super::$case(node.port())).await;
                }
            )*
        }

        /// All cases against one real PostgreSQL 15: the expectations are
        /// PostgreSQL's behaviour.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn all_cases_against_postgres() {
            let pg = patina_tests::Postgres::start().await;
            $(
                within_hang_guard($case(pg.port())).await;
            )*
        }
    };
}

cases!(
    simple_query_returns_text_rows_and_counts,
    simple_query_string_is_one_implicit_transaction,
    extended_binary_round_trip,
    binary_numeric_and_nulls,
    prepare_describes_parameters_and_columns,
    prepared_statement_reused,
    query_typed_one_opt_and_raw,
    pipelined_queries,
    transactions_commit_rollback,
    savepoints,
    failed_transaction_is_25p02_until_rollback,
    isolation_levels_and_read_only,
    portal_with_max_rows,
    error_codes_and_connection_survives,
    error_fields,
    parameter_errors,
    foreign_key_enforced_or_refused,
    session_statements,
    concurrent_clients,
    reads_do_not_wait_for_a_write_transaction,
    disconnect_mid_transaction_loses_only_it,
    simple_and_extended_text_of_types,
);
