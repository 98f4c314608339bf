//! Transactions: implicit ones, commit and rollback, savepoints, failed blocks, isolation levels, readers beside a writer, a client gone mid-transaction.

use super::*;

pub(crate) async fn simple_query_string_is_one_implicit_transaction(port: u16) {
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

pub(crate) async fn transactions_commit_rollback(port: u16) {
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

pub(crate) async fn savepoints(port: u16) {
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

pub(crate) async fn failed_transaction_is_25p02_until_rollback(port: u16) {
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

pub(crate) async fn isolation_levels_and_read_only(port: u16) {
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

pub(crate) async fn reads_do_not_wait_for_a_write_transaction(port: u16) {
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

pub(crate) async fn disconnect_mid_transaction_loses_only_it(port: u16) {
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
