//! `patina exec` and `patina query` against a running node, their output
//! compared with what psql prints for the same SQL on a real PostgreSQL 15:
//! command tags, the aligned table, CSV; `--json`; errors as
//! `ERROR <SQLSTATE>: <message>` with PostgreSQL's code and message and a
//! non-zero exit; a clear message when the node is unreachable. Needs the
//! patina binary (`cargo build -p patina-cli`, or `PATINA_BIN`) and
//! PostgreSQL 15's binaries.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

use patina_tests::{Patina, Postgres, free_port, patina_bin, pg_bin_dir};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `patina <args…>`, without inherited PATINA_* settings.
fn patina(args: &[&str]) -> Output {
    Command::new(patina_bin())
        .args(args)
        .env_remove("PATINA_CONFIG")
        .env_remove("PATINA_PG_ADDR")
        .env_remove("PGPASSWORD")
        .output()
        .expect("runs patina")
}

/// `patina exec|query SQL --addr ADDR [more]`.
fn run(command: &str, sql: &str, addr: SocketAddr, more: &[&str]) -> Output {
    let addr = addr.to_string();
    let mut args = vec![command, sql, "--addr", &addr];
    args.extend(more);
    patina(&args)
}

/// `psql -c SQL` on the reference server (no psqlrc, errors stop it).
fn psql(pg: &Postgres, sql: &str, more: &[&str]) -> Output {
    Command::new(pg_bin_dir().join("psql"))
        .args([
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-p", &pg.port().to_string()])
        .args(more)
        .args(["-c", sql])
        .env_remove("PGPASSWORD")
        .output()
        .expect("runs psql")
}

/// Runs `sql` with both and expects the same stdout and success.
fn same_output(
    pg: &Postgres,
    node: SocketAddr,
    command: &str,
    sql: &str,
    format: &[&str],
) -> String {
    let ours = run(command, sql, node, format);
    let theirs = psql(pg, sql, format);
    assert!(
        theirs.status.success(),
        "psql failed on {sql}: {}",
        text(&theirs.stderr)
    );
    assert!(
        ours.status.success(),
        "patina {command} failed on {sql}: {}",
        text(&ours.stderr)
    );
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "patina {command} {format:?} and psql print {sql} differently"
    );
    text(&ours.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_and_query_print_what_psql_prints() {
    let pg = Postgres::start().await;
    let node = Patina::start().await;
    let addr = node.pg_addr();

    let writes = [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)",
        "INSERT INTO items VALUES (1, 'apple', 3), (2, 'kiwi', NULL), (10, NULL, 250)",
        "INSERT INTO items VALUES (3, 'pear, \"green\"', -7)",
        "UPDATE items SET qty = qty + 1 WHERE qty IS NOT NULL",
        "DELETE FROM items WHERE id = 3",
    ];
    for sql in writes {
        let tag = same_output(&pg, addr, "exec", sql, &[]);
        assert!(!tag.is_empty(), "no command tag for {sql}");
    }
    same_output(
        &pg,
        addr,
        "exec",
        "INSERT INTO items VALUES (4, 'fig', 1); DELETE FROM items WHERE id = 4",
        &[],
    );

    for sql in [
        "SELECT id, name, qty FROM items ORDER BY id",
        "SELECT name AS a_rather_long_heading, id AS n FROM items ORDER BY id",
        "SELECT id FROM items WHERE id < 0",
        "SELECT count(*) AS c FROM items",
        "UPDATE items SET name = 'banana' WHERE id = 2; SELECT id, name FROM items WHERE id = 2",
        "SELECT E'a\\nbc' AS x, 1 AS n, E'one\\ntwo\\nthree' AS y, NULL AS z",
        "SELECT 1 AS n, E'a\\nbc' AS x",
        "SELECT id, name AS \"Name\" FROM items ORDER BY id DESC",
    ] {
        same_output(&pg, addr, "query", sql, &[]);
        same_output(&pg, addr, "query", sql, &["--csv"]);
    }
    same_output(
        &pg,
        addr,
        "query",
        "SELECT id, name FROM items WHERE id IN (1, 10) ORDER BY id",
        &["--csv"],
    );

    let json = run(
        "query",
        "SELECT id, name, qty FROM items ORDER BY id",
        addr,
        &["--json"],
    );
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert_eq!(
        text(&json.stdout),
        "{\"id\":1,\"name\":\"apple\",\"qty\":4}\n\
         {\"id\":2,\"name\":\"banana\",\"qty\":null}\n\
         {\"id\":10,\"name\":null,\"qty\":251}\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_postgres_sqlstate_and_message() {
    let pg = Postgres::start().await;
    let node = Patina::start().await;
    let reference = pg.connect().await;
    for (sql, code) in [
        ("SELECT * FROM missing_table", "42P01"),
        ("SELEC 1", "42601"),
        ("SELECT 1/0", "22012"),
    ] {
        let expected = reference
            .simple_query(sql)
            .await
            .expect_err("PostgreSQL refuses it");
        let db = expected.as_db_error().expect("a server error");
        assert_eq!(db.code().code(), code);
        let ours = run("query", sql, node.pg_addr(), &[]);
        assert_eq!(ours.status.code(), Some(1), "{sql}: {}", text(&ours.stderr));
        assert_eq!(
            text(&ours.stderr).lines().next().unwrap_or_default(),
            format!("ERROR {code}: {}", db.message()),
            "{sql}"
        );
        assert!(
            ours.stdout.is_empty(),
            "{sql} printed {}",
            text(&ours.stdout)
        );
    }
    // the statements before the error ran and printed, as with psql
    let ours = run(
        "exec",
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)",
        node.pg_addr(),
        &[],
    );
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        text(&ours.stderr).starts_with("ERROR 23505: "),
        "{}",
        text(&ours.stderr)
    );
    // one implicit transaction: nothing of it stayed
    let ours = run("query", "SELECT count(*) FROM t", node.pg_addr(), &[]);
    assert!(
        text(&ours.stderr).starts_with("ERROR 42P01: "),
        "{}",
        text(&ours.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_comes_from_flag_config_or_environment() {
    let node = Patina::start().await;
    let closed: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let ours = run("query", "SELECT 1", closed, &[]);
    assert_eq!(ours.status.code(), Some(2));
    let stderr = text(&ours.stderr);
    assert!(
        stderr.contains(&format!("cannot connect to the patina node at {closed}")),
        "{stderr}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("patina.toml");
    std::fs::write(&config, format!("[[pg]]\naddr = \"{}\"\n", node.pg_addr())).expect("writes");
    let ours = patina(&[
        "query",
        "SELECT 41 + 1 AS answer",
        "--config",
        path(&config),
        "--csv",
    ]);
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    assert_eq!(text(&ours.stdout), "answer\n42\n");

    let ours = Command::new(patina_bin())
        .args(["exec", "SELECT 1"])
        .env("PATINA_PG_ADDR", node.pg_addr().to_string())
        .env_remove("PATINA_CONFIG")
        .output()
        .expect("runs patina");
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    assert_eq!(text(&ours.stdout), "SELECT 1\n");
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `printf %s PASSWORD | patina hash-password …`
fn hash_password(password: &str, args: &[&str]) -> String {
    use std::io::Write;
    let mut child = Command::new(patina_bin())
        .arg("hash-password")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs patina");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(password.as_bytes())
        .expect("writes the password");
    let output = child.wait_with_output().expect("waits");
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout).trim().to_owned()
}

/// A `patina agent` killed on drop.
struct Agent(std::process::Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `patina exec SQL --addr ADDR --user USER` with PGPASSWORD.
fn exec_as(addr: SocketAddr, user: &str, password: &str, sql: &str) -> Output {
    Command::new(patina_bin())
        .args(["exec", sql, "--addr", &addr.to_string(), "--user", user])
        .env("PGPASSWORD", password)
        .output()
        .expect("runs patina")
}

#[test]
fn passwords_from_hash_password_let_users_in() {
    let scram = hash_password("s3cret", &[]);
    assert!(scram.starts_with("SCRAM-SHA-256$4096:"), "{scram}");
    let md5 = hash_password("0ther", &["--method", "md5", "--user", "bob"]);
    assert!(md5.starts_with("md5") && md5.len() == 35, "{md5}");

    let dir = tempfile::tempdir().expect("tempdir");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let gossip = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|socket| socket.local_addr())
        .expect("a free UDP port");
    let config = dir.path().join("patina.toml");
    std::fs::write(
        &config,
        format!(
            "[data]\ndir = \"data\"\n[gossip]\naddr = \"{gossip}\"\n\
             [[pg]]\naddr = \"{addr}\"\nauth = \"md5\"\n\
             [[pg.users]]\nname = \"alice\"\npassword = \"{scram}\"\n\
             [[pg.users]]\nname = \"bob\"\npassword = \"{md5}\"\n"
        ),
    )
    .expect("writes the config");
    let log = std::fs::File::create(dir.path().join("agent.log")).expect("creates the log");
    let _agent = Agent(
        Command::new(patina_bin())
            .args(["agent", "--config", path(&config)])
            .env_remove("PATINA_PG_ADDR")
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("starts patina"),
    );
    // ready once alice gets in (bounded)
    let start = std::time::Instant::now();
    loop {
        let output = exec_as(addr, "alice", "s3cret", "SELECT 1");
        if output.status.success() {
            assert_eq!(text(&output.stdout), "SELECT 1\n");
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "alice cannot get in: {}\nlog:\n{}",
            text(&output.stderr),
            std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // md5 auth with an md5 verifier: the MD5 exchange
    let bob = exec_as(addr, "bob", "0ther", "SELECT 2");
    assert!(bob.status.success(), "{}", text(&bob.stderr));
    // as PostgreSQL: FATAL 28P01 for a wrong password or an unknown user
    for (user, password) in [("alice", "wrong"), ("bob", "s3cret"), ("mallory", "s3cret")] {
        let refused = exec_as(addr, user, password, "SELECT 1");
        assert_eq!(refused.status.code(), Some(1), "{user}");
        assert_eq!(
            text(&refused.stderr).trim(),
            format!("ERROR 28P01: password authentication failed for user \"{user}\""),
        );
    }
    let none = Command::new(patina_bin())
        .args([
            "exec",
            "SELECT 1",
            "--addr",
            &addr.to_string(),
            "--user",
            "alice",
        ])
        .env_remove("PGPASSWORD")
        .output()
        .expect("runs patina");
    assert!(
        text(&none.stderr).contains("the server needs a password: set PGPASSWORD"),
        "{}",
        text(&none.stderr)
    );
}
