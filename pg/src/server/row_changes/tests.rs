use super::*;

struct Fixture {
    store: Store,
    capture: Arc<Capture>,
    seen: Arc<Mutex<Vec<Arc<Committed>>>>,
}

fn fixture(ddl: &str) -> Fixture {
    let mut store = Store::open(":memory:").expect("a store");
    let capture = Arc::new(Capture::default());
    capture.install(store.conn()).expect("capture");
    store.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    store.apply_ddl(ddl).expect("ddl");
    store.conn().execute_batch("COMMIT").unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    capture.add_consumer(Arc::new(move |committed: &Arc<Committed>| {
        sink.lock().unwrap().push(committed.clone());
    }));
    Fixture {
        store,
        capture,
        seen,
    }
}

impl Fixture {
    /// Runs `sql` as the writer's holder would, then lets go of it.
    fn run(&self, sql: &str) -> Vec<Vec<RowChange>> {
        let ran = self.store.conn().execute_batch(sql);
        if ran.is_err() && !self.store.conn().is_autocommit() {
            self.store.conn().execute_batch("ROLLBACK").unwrap();
        }
        self.capture.settle(&self.store, Origin::Local);
        self.take()
    }

    fn take(&self) -> Vec<Vec<RowChange>> {
        std::mem::take(&mut *self.seen.lock().unwrap())
            .iter()
            .map(|c| c.rows.clone())
            .collect()
    }

    fn site(&self) -> String {
        self.store.site_id().to_string()
    }
}

fn pairs(items: &[(&str, Value)]) -> Vec<(String, Value)> {
    items
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn change(
    op: RowOp,
    id: i64,
    columns: &[(&str, Value)],
    origin: &str,
    db_version: u64,
) -> RowChange {
    RowChange {
        table: "t".to_owned(),
        op,
        pk: pairs(&[("id", Value::Integer(id))]),
        columns: pairs(columns),
        origin: origin.to_owned(),
        db_version,
    }
}

const T: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)";

#[test]
fn inserts_updates_and_deletes_in_commit_order() {
    let f = fixture(T);
    let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
    let site = f.site();
    assert_eq!(
        f.run("INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 20)"),
        [vec![
            change(
                RowOp::Insert,
                1,
                &[
                    ("id", Value::Integer(1)),
                    ("a", text("x")),
                    ("b", Value::Integer(10))
                ],
                &site,
                2
            ),
            change(
                RowOp::Insert,
                2,
                &[
                    ("id", Value::Integer(2)),
                    ("a", text("y")),
                    ("b", Value::Integer(20))
                ],
                &site,
                2
            ),
        ]]
    );
    // Only columns whose value changed; a row left as it was is no change.
    assert_eq!(
        f.run("UPDATE t SET a = 'z', b = b WHERE id = 1; UPDATE t SET b = 20 WHERE id = 2"),
        [vec![change(
            RowOp::Update,
            1,
            &[("a", text("z"))],
            &site,
            3
        )]]
    );
    assert_eq!(
        f.run(
            "BEGIN; DELETE FROM t WHERE id = 2; UPDATE t SET b = 11 WHERE id = 1; \
               UPDATE t SET b = 12 WHERE id = 1; COMMIT"
        ),
        [vec![
            change(RowOp::Delete, 2, &[], &site, 4),
            change(RowOp::Update, 1, &[("b", Value::Integer(12))], &site, 4),
        ]]
    );
}

#[test]
fn rollbacks_and_savepoints_undo_what_they_cover() {
    let f = fixture(T);
    let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
    let site = f.site();
    assert!(
        f.run("BEGIN; INSERT INTO t VALUES (1, 'x', 1); ROLLBACK")
            .is_empty()
    );
    // A failed statement (the second row collides) leaves nothing.
    f.run("INSERT INTO t VALUES (5, 'x', 1)");
    assert!(
        f.run("INSERT INTO t VALUES (6, 'x', 1), (5, 'dup', 1)")
            .is_empty()
    );
    assert_eq!(
        f.run(
            "BEGIN; INSERT INTO t VALUES (1, 'a', 1); SAVEPOINT s; \
               INSERT INTO t VALUES (2, 'b', 2); UPDATE t SET a = 'c' WHERE id = 1; \
               ROLLBACK TO s; RELEASE s; INSERT INTO t VALUES (3, 'd', 3); COMMIT"
        ),
        [vec![
            change(
                RowOp::Insert,
                1,
                &[
                    ("id", Value::Integer(1)),
                    ("a", text("a")),
                    ("b", Value::Integer(1))
                ],
                &site,
                3
            ),
            change(
                RowOp::Insert,
                3,
                &[
                    ("id", Value::Integer(3)),
                    ("a", text("d")),
                    ("b", Value::Integer(3))
                ],
                &site,
                3
            ),
        ]]
    );
    // Inserted then deleted within the transaction: nothing happened.
    assert!(
        f.run("BEGIN; INSERT INTO t VALUES (9, 'a', 1); DELETE FROM t WHERE id = 9; COMMIT")
            .is_empty()
    );
}

#[test]
fn a_key_update_is_a_delete_and_an_insert() {
    let f = fixture(T);
    let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
    let site = f.site();
    f.run("INSERT INTO t VALUES (1, 'x', 10)");
    assert_eq!(
        f.run("UPDATE t SET id = 7 WHERE id = 1"),
        [vec![
            change(RowOp::Delete, 1, &[], &site, 3),
            change(
                RowOp::Insert,
                7,
                &[
                    ("id", Value::Integer(7)),
                    ("a", text("x")),
                    ("b", Value::Integer(10))
                ],
                &site,
                3
            ),
        ]]
    );
    // Deleted and inserted again: an update of every column.
    assert_eq!(
        f.run("BEGIN; DELETE FROM t WHERE id = 7; INSERT INTO t VALUES (7, 'y', 10); COMMIT"),
        [vec![change(
            RowOp::Update,
            7,
            &[
                ("id", Value::Integer(7)),
                ("a", text("y")),
                ("b", Value::Integer(10))
            ],
            &site,
            4
        )]]
    );
}

#[test]
fn capture_stops_with_the_last_guard_and_follows_new_columns() {
    let mut f = fixture(T);
    let one = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
    let two = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
    drop(one);
    assert_eq!(f.run("INSERT INTO t VALUES (1, 'x', 10)").len(), 1);
    f.store.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    f.store
        .apply_ddl("ALTER TABLE t ADD COLUMN c TEXT")
        .expect("add a column");
    f.store.conn().execute_batch("COMMIT").unwrap();
    f.capture.settle(&f.store, Origin::Local);
    let site = f.site();
    assert_eq!(
        f.run("UPDATE t SET c = 'new' WHERE id = 1"),
        [vec![change(
            RowOp::Update,
            1,
            &[("c", text("new"))],
            &site,
            4
        )]]
    );
    // A column added in the transaction that writes it.
    f.store.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    f.store
        .apply_ddl("ALTER TABLE t ADD COLUMN d TEXT")
        .unwrap();
    f.store
        .conn()
        .execute_batch(
            "UPDATE t SET d = 'dd' WHERE id = 1; INSERT INTO t (id, d) VALUES (5, 'e'); COMMIT",
        )
        .unwrap();
    f.capture.settle(&f.store, Origin::Local);
    let null = Value::Null;
    assert_eq!(
        f.take(),
        [vec![
            change(RowOp::Update, 1, &[("d", text("dd"))], &site, 5),
            change(
                RowOp::Insert,
                5,
                &[
                    ("id", Value::Integer(5)),
                    ("a", null.clone()),
                    ("b", null.clone()),
                    ("c", null),
                    ("d", text("e"))
                ],
                &site,
                5
            ),
        ]]
    );
    drop(two);
    // The triggers go at the next settle; writes after it are not seen.
    assert_eq!(f.run("INSERT INTO t (id) VALUES (2)").len(), 1);
    assert!(f.run("INSERT INTO t (id) VALUES (3)").is_empty());
    let unknown = f.capture.watch(&f.store, &["T".to_owned()]).unwrap_err();
    assert_eq!(unknown.code, "42P01");
}

#[test]
fn merged_rows_carry_their_origin() {
    let f = fixture(T);
    let mut other = Store::open(":memory:").expect("a store");
    other.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    other.apply_ddl(T).unwrap();
    other.conn().execute_batch("COMMIT").unwrap();
    other
        .conn()
        .execute_batch("INSERT INTO t VALUES (1, 'x', 10); INSERT INTO t VALUES (2, 'y', 20)")
        .unwrap();
    other
        .conn()
        .execute_batch("UPDATE t SET a = 'w' WHERE id = 1")
        .unwrap();
    let origin = other.site_id();
    let batch = other.changes(origin, 1..=4).unwrap();
    let _watch = f.capture.watch(&f.store, &["t".to_owned()]).unwrap();
    let mut store = f.store;
    store.merge(&batch).unwrap();
    f.capture.settle(&store, Origin::Merged(&batch));
    let rows: Vec<RowChange> = std::mem::take(&mut *f.seen.lock().unwrap())
        .iter()
        .flat_map(|c| c.rows.clone())
        .collect();
    let origin = origin.to_string();
    assert_eq!(
        rows,
        [
            change(
                RowOp::Insert,
                1,
                &[
                    ("id", Value::Integer(1)),
                    ("a", text("w")),
                    ("b", Value::Integer(10))
                ],
                &origin,
                4
            ),
            change(
                RowOp::Insert,
                2,
                &[
                    ("id", Value::Integer(2)),
                    ("a", text("y")),
                    ("b", Value::Integer(20))
                ],
                &origin,
                3
            ),
        ]
    );
}
