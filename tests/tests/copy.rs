//! COPY against patina and PostgreSQL 15 side by side: COPY TO STDOUT
//! gives the same bytes in text, CSV and binary (NULLs, tabs, newlines,
//! backslashes, quotes, unicode, numerics, timestamps, booleans, arrays);
//! COPY FROM STDIN (text, CSV, binary) stores the same rows; bad input
//! fails the whole COPY with PostgreSQL's SQLSTATE and context and inserts
//! nothing; CopyFail aborts with 57014; COPY follows the transaction it is
//! in; COPY TO streams a large table and can be canceled while it does;
//! COPY FREEZE needs a table created or truncated in the current
//! subtransaction; psql's `\copy` works both ways. Needs `target/debug/patina`
//! (`cargo build -p patina-cli`) and the PostgreSQL 15 binaries.

use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, TryStreamExt};
use patina_tests::tokio_postgres::binary_copy::BinaryCopyInWriter;
use patina_tests::tokio_postgres::types::Type;
use patina_tests::tokio_postgres::{Client, Error};
use patina_tests::wire::{RawConn, frontend};
use patina_tests::{Patina, Postgres, describe_error, pg_bin_dir, psql};

#[track_caller]
fn ok<T>(r: Result<T, Error>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {}", describe_error(&e)))
}

const TABLE: &str = "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), \
     at timestamp, ok boolean, tags text[], ratio float8)";

/// Rows with every kind of character COPY must escape or quote.
const ROWS: &str = "INSERT INTO items VALUES \
     (1, E'tab\\there', 9.90, '2024-01-02 03:04:05', true, ARRAY['a', 'b c', NULL], 1.5), \
     (2, E'new\\nline\\r\\\\back', -0.5, '1999-12-31 23:59:59.5', false, '{}', -2), \
     (3, NULL, NULL, NULL, NULL, NULL, NULL), \
     (4, 'quote \"x\", comma', 1e6, '2024-02-29', true, ARRAY['x,y', 'q\"'], 0.1), \
     (5, 'ünïcødé ✓', 0, '2000-01-01', false, ARRAY['\\\\'], 1.5e10), \
     (6, '', 12345678.12, '2024-01-02', true, ARRAY[''], 0), \
     (7, '\\.', 1, '2024-01-02', true, NULL, NULL), \
     (8, '\\N', 1, '2024-01-02', true, NULL, NULL)";

async fn copy_out(client: &Client, sql: &str) -> Vec<u8> {
    let stream = ok(client.copy_out(sql).await);
    let chunks: Vec<Bytes> = ok(pin!(stream).try_collect().await);
    chunks.concat()
}

async fn copy_in(client: &Client, sql: &str, data: &[u8]) -> Result<u64, Error> {
    let sink = client.copy_in(sql).await?;
    let mut sink = pin!(sink);
    // In pieces that cut lines, quotes and escapes.
    for chunk in data.chunks(7) {
        sink.send(Bytes::copy_from_slice(chunk)).await?;
    }
    sink.finish().await
}

/// The statements of COPY TO whose output is compared.
const COPY_TO: &[&str] = &[
    "COPY items TO STDOUT",
    "COPY items (name, id) TO STDOUT WITH (FORMAT csv, HEADER)",
    "COPY items TO STDOUT WITH CSV HEADER",
    "COPY items TO STDOUT (FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', ESCAPE '\\', FORCE_QUOTE (name))",
    "COPY items TO STDOUT (FORMAT text, DELIMITER '|', NULL '', HEADER)",
    "COPY (SELECT id, name || '!', price * 2 AS doubled FROM items WHERE id > 1 ORDER BY id DESC) TO STDOUT (FORMAT csv, FORCE_QUOTE *)",
    "COPY items TO STDOUT (FORMAT binary)",
];

async fn outputs(client: &Client) -> Vec<Vec<u8>> {
    ok(client.batch_execute(TABLE).await);
    ok(client.batch_execute(ROWS).await);
    let mut all = Vec::new();
    for sql in COPY_TO {
        all.push(copy_out(client, sql).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_prints_what_postgres_prints() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let patina = outputs(&node.connect().await).await;
    let postgres = outputs(&server.connect().await).await;
    for ((sql, ours), theirs) in COPY_TO.iter().zip(&patina).zip(&postgres) {
        if sql.contains("binary") {
            assert_eq!(ours, theirs, "{sql}");
        } else {
            assert_eq!(
                String::from_utf8_lossy(ours),
                String::from_utf8_lossy(theirs),
                "{sql}"
            );
        }
    }
}

/// Loads data through COPY FROM in several formats, then dumps the table.
async fn loaded(client: &Client) -> Vec<u8> {
    ok(client.batch_execute(TABLE).await);
    let text = b"1\ttab\\there\t9.90\t2024-01-02 03:04:05\tt\t{a,\"b c\",NULL}\t1.5\n\
2\tnew\\nline\\r\\\\back\\101\\x42\t-0.5\t\\N\tf\t{}\t-2\n\
3\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n\\.\n";
    assert_eq!(ok(copy_in(client, "COPY items FROM STDIN", text).await), 3);
    let csv =
        b"id,name,ratio\n4,\"quote \"\"x\"\", comma\n and a newline\",0.25\n5,,\n6,\"\",1e10\n";
    assert_eq!(
        ok(copy_in(
            client,
            "COPY items (id, name, ratio) FROM STDIN WITH (FORMAT csv, HEADER true)",
            csv
        )
        .await),
        3
    );
    let old = b"7;'a;b';x\n8;;'{}'\n";
    assert_eq!(
        ok(copy_in(
            client,
            "COPY items (id, name, tags) FROM STDIN WITH CSV DELIMITER ';' QUOTE '''' NULL 'x' FORCE NOT NULL name",
            old
        )
        .await),
        2
    );
    let sink = ok(client
        .copy_in("COPY items (id, name, ok, ratio) FROM STDIN (FORMAT binary)")
        .await);
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT4, Type::TEXT, Type::BOOL, Type::FLOAT8]);
    let mut writer = pin!(writer);
    ok(writer
        .as_mut()
        .write(&[&9i32, &"binary ✓", &true, &0.5f64])
        .await);
    ok(writer
        .as_mut()
        .write(&[&10i32, &None::<&str>, &None::<bool>, &-1e-3f64])
        .await);
    assert_eq!(ok(writer.finish().await), 2);
    let rows = (100..2100)
        .map(|i| format!("{i}\trow {i}\t{i}.5\n"))
        .collect::<String>();
    assert_eq!(
        ok(copy_in(
            client,
            "COPY items (id, name, price) FROM STDIN",
            rows.as_bytes()
        )
        .await),
        2000
    );
    copy_out(client, "COPY items TO STDOUT (FORMAT csv)").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_stores_what_postgres_stores() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let ours = loaded(&node.connect().await).await;
    let theirs = loaded(&server.connect().await).await;
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
}

/// A failed COPY: its SQLSTATE, message and CONTEXT.
async fn failure(client: &Client, sql: &str, data: &[u8]) -> (String, String, Option<String>) {
    let error = copy_in(client, sql, data).await.expect_err(sql);
    let db = error
        .as_db_error()
        .unwrap_or_else(|| panic!("{sql}: not a server error: {error}"));
    (
        db.code().code().to_owned(),
        db.message().to_owned(),
        db.where_().map(str::to_owned),
    )
}

async fn failures(client: &Client) -> Vec<(String, String, Option<String>)> {
    ok(client.batch_execute(TABLE).await);
    let mut all = Vec::new();
    for (sql, data) in [
        ("COPY items (id, name) FROM STDIN", &b"1\ta\n2\n3\tc\n"[..]),
        ("COPY items (id, name) FROM STDIN", b"1\ta\n2\tb\t3\n"),
        ("COPY items (id, name) FROM STDIN", b"1\ta\nzz\tb\n"),
        ("COPY items (id, price) FROM STDIN", b"1\t1.5\n2\tabc\n"),
        ("COPY items (id, name) FROM STDIN", b"1\ta\r\n2\tb\n"),
        ("COPY items (id, name) FROM STDIN", b"1\ta\\.b\n"),
        (
            "COPY items (id, name) FROM STDIN (FORMAT csv)",
            b"1,\"open\n",
        ),
        (
            "COPY items (id, name) FROM STDIN (FORMAT csv)",
            b"1,a\n1,b\n",
        ),
        ("COPY items (id, name) FROM STDIN", b"1\t\xff\n"),
        (
            "COPY items (id, name) FROM STDIN (FORMAT csv, HEADER match)",
            b"id,nom\n",
        ),
    ] {
        all.push(failure(client, sql, data).await);
    }
    // Nothing of any failed COPY was kept.
    let count: i64 = ok(client.query_one("SELECT count(*) FROM items", &[]).await).get(0);
    assert_eq!(count, 0);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_the_whole_copy_as_in_postgres() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let ours = failures(&node.connect().await).await;
    let theirs = failures(&server.connect().await).await;
    for (ours, theirs) in ours.iter().zip(&theirs) {
        // The duplicate key's context says which line on both; the rest
        // of its wording is patina's own constraint message.
        if theirs.0 == "23505" {
            assert_eq!((&ours.0, &ours.2), (&theirs.0, &theirs.2));
        } else {
            assert_eq!(ours, theirs);
        }
    }
}

async fn aborts_and_transactions(client: &Client) {
    ok(client.batch_execute(TABLE).await);
    // Dropping the sink unfinished sends CopyFail.
    {
        let sink = ok(client.copy_in("COPY items (id) FROM STDIN").await);
        let mut sink = pin!(sink);
        ok(sink.send(Bytes::from_static(b"1\n2\n")).await);
    }
    let count = ok(client.query_one("SELECT count(*) FROM items", &[]).await);
    assert_eq!(count.get::<_, i64>(0), 0);

    ok(client.batch_execute("BEGIN").await);
    assert_eq!(
        ok(copy_in(client, "COPY items (id) FROM STDIN", b"1\n2\n").await),
        2
    );
    ok(client.batch_execute("ROLLBACK").await);
    ok(client.batch_execute("BEGIN").await);
    assert_eq!(
        ok(copy_in(client, "COPY items (id) FROM STDIN", b"3\n").await),
        1
    );
    ok(client.batch_execute("COMMIT").await);
    let ids: Vec<i32> = ok(client.query("SELECT id FROM items ORDER BY id", &[]).await)
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [3]);

    // A failed COPY fails the block it is in.
    ok(client.batch_execute("BEGIN").await);
    let (code, _, _) = failure(client, "COPY items (id) FROM STDIN", b"x\n").await;
    assert_eq!(code, "22P02");
    let error = client
        .query("SELECT 1", &[])
        .await
        .expect_err("block failed");
    assert_eq!(error.as_db_error().map(|e| e.code().code()), Some("25P02"));
    ok(client.batch_execute("ROLLBACK").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_aborts_and_follows_transactions() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    aborts_and_transactions(&node.connect().await).await;
    aborts_and_transactions(&server.connect().await).await;
}

/// A session trying COPY FREEZE, as psql runs it (psql, unlike
/// tokio-postgres, copes with the error PostgreSQL sends as soon as the
/// copy begins): tables not created or truncated in the current
/// subtransaction are refused, pgbench -i's TRUNCATE then COPY … FREEZE ON
/// in one transaction works.
const FREEZE_SCRIPT: &str = "\\set VERBOSITY verbose
CREATE TABLE frozen (id int PRIMARY KEY);
COPY frozen FROM STDIN WITH (FREEZE);
1
\\.
BEGIN;
COPY frozen FROM STDIN WITH (FREEZE);
1
\\.
ROLLBACK;
BEGIN;
TRUNCATE frozen;
COPY frozen FROM STDIN WITH (FREEZE);
1
\\.
SAVEPOINT s;
COPY frozen FROM STDIN WITH (FREEZE);
2
\\.
ROLLBACK TO s;
RELEASE s;
COPY frozen FROM STDIN WITH (FREEZE);
3
\\.
COMMIT;
BEGIN;
SAVEPOINT a;
CREATE TABLE frozen2 (id int PRIMARY KEY);
RELEASE a;
COPY frozen2 FROM STDIN WITH (FREEZE ON);
1
2
\\.
COPY frozen2 FROM STDIN WITH (FREEZE false);
3
\\.
COMMIT;
BEGIN;
TRUNCATE frozen2;
COPY frozen2 FROM STDIN WITH (FREEZE ON);
9
\\.
COMMIT;
SELECT (SELECT count(*) FROM frozen), (SELECT count(*) FROM frozen2);
";

/// psql's output (errors included, without their LOCATION) for
/// [`FREEZE_SCRIPT`].
async fn freeze_transcript(port: u16) -> String {
    let mut child = std::process::Command::new(pg_bin_dir().join("psql"))
        .args(["-X", "-At", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("psql runs");
    let mut stdin = child.stdin.take().expect("psql's stdin");
    std::io::Write::write_all(&mut stdin, FREEZE_SCRIPT.as_bytes()).expect("script written");
    drop(stdin);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("the psql task")
        .expect("psql ends");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    text.lines()
        .filter(|line| !line.starts_with("LOCATION:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_freeze_needs_a_table_new_in_the_subtransaction() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let theirs = freeze_transcript(server.port()).await;
    let ours = freeze_transcript(node.port()).await;
    assert_eq!(ours, theirs);
    let refused = "ERROR:  55000: cannot perform COPY FREEZE because the table was not \
         created or truncated in the current subtransaction";
    assert_eq!(theirs.matches(refused).count(), 3, "{theirs}");
    assert!(theirs.contains("2|1"), "{theirs}");
}

/// Rows in the table COPY TO streams.
const MANY_ROWS: usize = 100_000;

/// A table of [`MANY_ROWS`] rows dumped by COPY TO in CSV: the CopyData
/// messages received and their bytes.
async fn many_rows_dump(client: &Client) -> (usize, Vec<u8>) {
    ok(client
        .batch_execute("CREATE TABLE many (id int PRIMARY KEY, label text, amount numeric(12,2))")
        .await);
    ok(client
        .batch_execute(&format!(
            "INSERT INTO many SELECT g, 'row ' || g, g * 0.25 FROM generate_series(1, {MANY_ROWS}) AS g"
        ))
        .await);
    let stream = ok(client.copy_out("COPY many TO STDOUT (FORMAT csv)").await);
    let chunks: Vec<Bytes> = ok(pin!(stream).try_collect().await);
    (chunks.len(), chunks.concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_streams_a_large_table() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let (our_messages, ours) = many_rows_dump(&node.connect().await).await;
    let (their_messages, theirs) = many_rows_dump(&server.connect().await).await;
    assert_eq!(ours.iter().filter(|&&b| b == b'\n').count(), MANY_ROWS);
    assert!(ours == theirs, "the dumps differ");
    // a CopyData per row, as PostgreSQL sends (psycopg 3 reads them so)
    assert_eq!((our_messages, their_messages), (MANY_ROWS, MANY_ROWS));
}

/// A COPY TO of a query with no practical end: its first rows arrive while
/// it runs, and a CancelRequest then ends it with 57014.
async fn cancel_streaming_copy(client: Client) {
    ok(client
        .batch_execute(
            "CREATE TABLE seeds (id int PRIMARY KEY); \
             INSERT INTO seeds SELECT g FROM generate_series(1, 1000) AS g",
        )
        .await);
    let token = client.cancel_token();
    let stream = ok(client
        .copy_out("COPY (SELECT a.id, b.id, c.id FROM seeds a, seeds b, seeds c) TO STDOUT")
        .await);
    let mut stream = pin!(stream);
    // bounded: a COPY that sends nothing before its query ends never would
    let limit = Duration::from_secs(60);
    let first = tokio::time::timeout(limit, stream.try_next())
        .await
        .expect("rows arrive while the query runs");
    let first = ok(first).expect("rows before the end");
    assert!(first.starts_with(b"1\t1\t1\n"), "{first:?}");
    ok(token
        .cancel_query(patina_tests::tokio_postgres::NoTls)
        .await);
    let drained = tokio::time::timeout(limit, async {
        loop {
            match stream.try_next().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the copy ended without the cancel"),
                Err(error) => break error,
            }
        }
    });
    let error = drained.await.expect("the cancel ends the copy");
    assert_eq!(
        error.as_db_error().map(|e| (e.code().code(), e.message())),
        Some(("57014", "canceling statement due to user request"))
    );
    assert_eq!(
        ok(client.query_one("SELECT 1", &[]).await).get::<_, i32>(0),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_is_canceled_while_it_streams() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    cancel_streaming_copy(node.connect().await).await;
    cancel_streaming_copy(server.connect().await).await;
}

/// CopyFail from the client, as raw messages: the error PostgreSQL sends.
async fn copy_fail(port: u16) -> Vec<String> {
    let deadline = Duration::from_secs(20);
    let mut conn = RawConn::connect_ready(port, deadline)
        .await
        .expect("connect");
    conn.send(&frontend::query("CREATE TABLE t (id int PRIMARY KEY)"))
        .await
        .expect("send");
    conn.until_ready(deadline).await.expect("create");
    conn.send(&frontend::query("COPY t FROM STDIN"))
        .await
        .expect("send");
    let answer = conn.recv(deadline).await.expect("CopyInResponse");
    assert_eq!(answer.tag(), Some(b'G'));
    conn.send(&frontend::message(b'd', b"1\n"))
        .await
        .expect("send");
    conn.send(&frontend::message(b'f', b"client gave up\0"))
        .await
        .expect("send");
    let mut seen: Vec<String> = conn
        .until_ready(deadline)
        .await
        .expect("the answer")
        .iter()
        .map(|m| {
            m.describe_error()
                .unwrap_or_else(|| format!("{:?}", m.tag().map(char::from)))
        })
        .collect();
    conn.send(&frontend::query("SELECT count(*) FROM t"))
        .await
        .expect("send");
    seen.extend(
        conn.until_ready(deadline)
            .await
            .expect("count")
            .iter()
            .filter(|m| m.tag() == Some(b'D'))
            .map(|m| format!("{:?}", m.data_row_text())),
    );
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_fail_aborts_with_57014() {
    let (node, server) = (Patina::start().await, Postgres::start().await);
    let ours = copy_fail(node.port()).await;
    assert_eq!(
        ours,
        [
            "57014: COPY from stdin failed: client gave up",
            "Some('Z')",
            "[Some(\"0\")]"
        ]
    );
    assert_eq!(ours, copy_fail(server.port()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_files_and_programs_are_refused() {
    let node = Patina::start().await;
    let client = node.connect().await;
    ok(client.batch_execute(TABLE).await);
    for sql in [
        "COPY items TO '/tmp/patina-copy-test'",
        "COPY items FROM '/etc/hostname'",
        "COPY items FROM PROGRAM 'true'",
        "COPY (SELECT 1) TO PROGRAM 'cat'",
    ] {
        let error = client.batch_execute(sql).await.expect_err(sql);
        assert_eq!(
            error.as_db_error().map(|e| e.code().code()),
            Some("42501"),
            "{sql}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_both_ways() {
    let node = Patina::start().await;
    let client = node.connect().await;
    ok(client.batch_execute(TABLE).await);
    let dir = node.dir().to_path_buf();
    let input = dir.join("in.csv");
    let output = dir.join("out.csv");
    let data = "1,plain,1.50\n2,\"with, comma\",\n3,\"multi\nline\",-2.00\n";
    std::fs::write(&input, data).expect("write input");
    let conninfo = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        node.port()
    );
    let run = psql(
        &conninfo,
        None,
        &format!(
            "\\copy items (id, name, price) from '{}' with (format csv)",
            input.display()
        ),
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "COPY 3");
    let run = psql(
        &conninfo,
        None,
        &format!(
            "\\copy (select id, name, price from items order by id) to '{}' csv",
            output.display()
        ),
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&output).expect("read output"), data);
}

/// COPY and TRUNCATE write through change capture: what they do on one
/// node reaches the others; a local table given a key replicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copied_and_truncated_rows_replicate() {
    use patina_tests::{Cluster, ClusterOptions};
    let deadline = Duration::from_secs(30);
    let cluster = Cluster::start(2, ClusterOptions::default()).await;
    cluster
        .create_table("CREATE TABLE kv (k int PRIMARY KEY, v text)", "kv")
        .await;
    let client = cluster.client(0).await.expect("client");
    let rows: String = (1..=1200).map(|k| format!("{k}\tvalue {k}\n")).collect();
    assert_eq!(
        ok(copy_in(&client, "COPY kv FROM STDIN", rows.as_bytes()).await),
        1200
    );
    cluster.wait_count(deadline, "kv", 1200).await;
    cluster.exec(0, "TRUNCATE kv").await;
    cluster.wait_count(deadline, "kv", 0).await;

    // pgbench's way: a keyless (local) table loaded by COPY, then given a
    // key, which makes it replicated, rows included.
    cluster
        .exec(0, "CREATE TABLE acc (aid int NOT NULL, bal int)")
        .await;
    assert_eq!(
        ok(copy_in(&client, "COPY acc FROM STDIN", b"1\t10\n2\t20\n3\t30\n").await),
        3
    );
    assert!(
        cluster
            .try_query(1, "SELECT count(*) FROM acc")
            .await
            .is_err()
    );
    cluster
        .exec(0, "ALTER TABLE acc ADD PRIMARY KEY (aid)")
        .await;
    cluster.wait_count(deadline, "acc", 3).await;
    cluster
        .exec(1, "UPDATE acc SET bal = bal + 1 WHERE aid = 2")
        .await;
    cluster
        .wait_identical(deadline, "SELECT aid, bal FROM acc ORDER BY aid")
        .await;
}
