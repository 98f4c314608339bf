//! Queries through the simple and extended protocols: text and binary results, prepared and typed statements, pipelining, portals.

use super::*;

pub(crate) async fn simple_query_returns_text_rows_and_counts(port: u16) {
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

pub(crate) async fn extended_binary_round_trip(port: u16) {
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

pub(crate) async fn binary_numeric_and_nulls(port: u16) {
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

pub(crate) async fn prepare_describes_parameters_and_columns(port: u16) {
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

pub(crate) async fn prepared_statement_reused(port: u16) {
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

pub(crate) async fn query_typed_one_opt_and_raw(port: u16) {
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

pub(crate) async fn pipelined_queries(port: u16) {
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

pub(crate) async fn portal_with_max_rows(port: u16) {
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
pub(crate) const ERROR_CASES: &[(&str, &str)] = &[
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

pub(crate) async fn simple_and_extended_text_of_types(port: u16) {
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
