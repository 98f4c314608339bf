//! A node stopped by SIGTERM while clients are busy shuts down as
//! PostgreSQL's fast shutdown does: a session idle in a transaction with
//! writes and a session running a long statement both get FATAL 57P01,
//! the open transaction's writes never appear (not on a peer, not after a
//! restart), the peer sees the node left (not failed), the WAL is
//! checkpointed and the process exits cleanly. The clients' side is
//! compared with a real PostgreSQL 15 stopped with SIGINT (its fast
//! shutdown; SIGTERM there waits for clients). Needs the patina binary
//! (`cargo build -p patina-cli`, or `PATINA_BIN`) and PostgreSQL 15.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use patina_pg::server::ListenerConfig;
use patina_tests::tokio_postgres::{self, Client, NoTls};
use patina_tests::wire::{Backend, RawConn, frontend};
use patina_tests::{
    Patina, Postgres, ServedListener, free_port, patina_bin, try_connect_to, wait_until,
};
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(30);

/// Never ends on its own within the test (PostgreSQL and SQLite both
/// stream it).
const LONG_STATEMENT: &str = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000000) \
     SELECT count(*) FROM r";

/// A `patina agent` this test starts, signals and restarts itself.
struct Agent {
    child: Option<Child>,
    args: Vec<String>,
    dir: tempfile::TempDir,
    pg_addr: SocketAddr,
    gossip_addr: SocketAddr,
}

impl Agent {
    async fn start(bootstrap: Option<SocketAddr>) -> Agent {
        let pg_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free UDP port");
        let gossip_addr = udp.local_addr().expect("its address");
        drop(udp);
        let dir = tempfile::Builder::new()
            .prefix("patina-shutdown-")
            .tempdir()
            .expect("a temporary folder");
        let mut args = vec![
            "agent".to_owned(),
            "--data-dir".to_owned(),
            dir.path().join("data").display().to_string(),
            "--pg-addr".to_owned(),
            pg_addr.to_string(),
            "--gossip-addr".to_owned(),
            gossip_addr.to_string(),
        ];
        if let Some(peer) = bootstrap {
            args.extend(["--bootstrap".to_owned(), peer.to_string()]);
        }
        let mut agent = Agent {
            child: None,
            args,
            dir,
            pg_addr,
            gossip_addr,
        };
        agent.spawn().await;
        agent
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("patina.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the process (again) and waits until it accepts clients.
    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the log file");
        let child = Command::new(patina_bin())
            .args(&self.args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("starting patina (build it with `cargo build -p patina-cli`)");
        self.child = Some(child);
        let addr = self.pg_addr;
        wait_until(
            DEADLINE,
            "the node to accept clients",
            || async move { try_connect_to(addr).await.is_ok() },
            || self.log(),
        )
        .await;
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Waits for the process to exit on its own.
    async fn exited(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("running");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("waiting on patina") {
                self.child = None;
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "the node did not exit after SIGTERM\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Agent {
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("----- signalled node's log -----\n{}", self.log());
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{name} {pid}: {status}");
}

/// A connection whose task's end (an error the server sent while the
/// client waited for nothing) can be read.
async fn connect(addr: SocketAddr) -> (Client, JoinHandle<Result<(), tokio_postgres::Error>>) {
    let (client, connection) = tokio_postgres::Config::new()
        .host(addr.ip().to_string())
        .port(addr.port())
        .user("postgres")
        .dbname("postgres")
        .connect(NoTls)
        .await
        .expect("connecting");
    (client, tokio::spawn(connection))
}

/// `SQLSTATE severity: message` of a server error, else what failed.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} {}: {}", db.code().code(), db.severity(), db.message()),
        None => format!("not a server error: {error}"),
    }
}

/// How a connection that sent a query ends: `SQLSTATE severity: message`
/// of the error, if the server closes the connection right after it.
async fn ending(conn: &mut RawConn) -> String {
    loop {
        let message = match conn.recv(DEADLINE).await {
            Ok(Backend::Eof) => return "closed without an error".to_owned(),
            Ok(message) if message.tag() == Some(b'E') => message,
            // A row description (PostgreSQL sends it when the query starts).
            Ok(_) => continue,
            Err(error) => return error.to_string(),
        };
        let fields = message.fields();
        let field = |code: u8| {
            fields
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(String::new(), |(_, v)| v.clone())
        };
        let error = format!("{} {}: {}", field(b'C'), field(b'S'), field(b'M'));
        return match conn.recv(DEADLINE).await {
            Ok(Backend::Eof) => error,
            other => format!("{error}, then {other:?}"),
        };
    }
}

/// What the clients of a server see when it is stopped (by `stop`) while
/// one session is idle in a transaction that wrote and another runs a long
/// statement: the idle one's error, and the running one's.
async fn clients_at_shutdown(addr: SocketAddr, stop: impl FnOnce()) -> (String, String) {
    let (idle, idle_connection) = connect(addr).await;
    idle.batch_execute("BEGIN; INSERT INTO kv VALUES (2, 'never committed')")
        .await
        .expect("the open transaction's write");
    let mut busy = RawConn::connect_ready(addr.port(), DEADLINE)
        .await
        .expect("a raw connection");
    busy.send(&frontend::query(LONG_STATEMENT))
        .await
        .expect("sending the long statement");
    // The long statement may not have started when the server stops:
    // either way the session ends with the same error.
    stop();
    let running = ending(&mut busy).await;
    let idle_end = tokio::time::timeout(DEADLINE, idle_connection)
        .await
        .expect("the idle session's connection ends")
        .expect("its task");
    let idle = match idle_end {
        Ok(()) => "the connection ended without an error".to_owned(),
        Err(error) => describe(&error),
    };
    (idle, running)
}

const TERMINATED: &str = "57P01 FATAL: terminating connection due to administrator command";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_fast_shutdown_terminates_sessions() {
    let pg = Postgres::start().await;
    pg.connect()
        .await
        .batch_execute("CREATE TABLE kv (k integer PRIMARY KEY, v text)")
        .await
        .expect("the table");
    let postmaster = postmaster_pid(&pg.dir().join("data"));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, pg.port()));
    let seen = clients_at_shutdown(addr, || signal(postmaster, "INT")).await;
    assert_eq!(seen, (TERMINATED.to_owned(), TERMINATED.to_owned()));
}

fn postmaster_pid(data: &Path) -> u32 {
    let pid = std::fs::read_to_string(data.join("postmaster.pid")).expect("postmaster.pid");
    pid.lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .expect("the postmaster's pid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_terminates_sessions_rolls_back_and_leaves_the_cluster() {
    let mut node = Agent::start(None).await;
    let peer = Patina::start_with_args(&["--bootstrap", &node.gossip_addr.to_string()]).await;
    let (client, _connection) = connect(node.pg_addr).await;
    client
        .batch_execute(
            "CREATE TABLE kv (k integer PRIMARY KEY, v text); INSERT INTO kv VALUES (1, 'committed')",
        )
        .await
        .expect("schema and a committed row");
    let peer_client = peer.connect().await;
    let node_addr = node.gossip_addr.to_string();
    wait_until(
        DEADLINE,
        "the peer to hold the committed row and see the node alive",
        || async {
            let rows = peer_client
                .query(
                    "SELECT (SELECT count(*) FROM kv WHERE k = 1), \
                     (SELECT state FROM patina.members WHERE addr = $1)",
                    &[&node_addr],
                )
                .await
                .map_err(|e| e.to_string())?;
            let seen: (i64, Option<String>) = (rows[0].get(0), rows[0].get(1));
            match seen {
                (1, Some(state)) if state == "alive" => Ok(()),
                seen => Err(format!("{seen:?}")),
            }
        },
        || peer.log(),
    )
    .await;
    drop(client);

    let pid = node.pid();
    let seen = clients_at_shutdown(node.pg_addr, || signal(pid, "TERM")).await;
    assert_eq!(seen, (TERMINATED.to_owned(), TERMINATED.to_owned()));
    let status = node.exited().await;
    assert!(status.success(), "{status}\n{}", node.log());

    // The database was closed cleanly: nothing is left in the WAL.
    let wal = node.data_dir().join("patina.db-wal");
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(
        wal_bytes,
        0,
        "{} after shutdown\n{}",
        wal.display(),
        node.log()
    );

    // The peer saw it leave: straight to `left`, never suspected first
    // (that would end as `down`).
    wait_until(
        DEADLINE,
        "the peer to see the node left",
        || async {
            let rows = peer_client
                .query(
                    "SELECT state FROM patina.members WHERE addr = $1",
                    &[&node_addr],
                )
                .await
                .map_err(|e| e.to_string())?;
            let state: Option<String> = rows.first().map(|row| row.get(0));
            match state.as_deref() {
                Some("left") => Ok(()),
                Some("down") => panic!("the peer saw the node fail, not leave\n{}", peer.log()),
                _ => Err(format!("{state:?}")),
            }
        },
        || peer.log(),
    )
    .await;

    // The open transaction's write is nowhere: not on the peer, not on
    // the node after a restart.
    node.spawn().await;
    let (client, _connection) = connect(node.pg_addr).await;
    let rows = client
        .query("SELECT k, v FROM kv ORDER BY k", &[])
        .await
        .expect("the table after the restart");
    let rows: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(rows, vec![(1, "committed".to_owned())]);
    let on_peer: i64 = peer_client
        .query_one("SELECT count(*) FROM kv WHERE k = 2", &[])
        .await
        .expect("the peer's table")
        .get(0);
    assert_eq!(on_peer, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_listener_terminates_only_its_own_sessions() {
    let stopped = ServedListener::start(ListenerConfig::trust()).await;
    let kept = stopped.beside(ListenerConfig::trust()).await;
    let (other, _other_connection) = connect(kept.addr()).await;
    other
        .batch_execute("CREATE TABLE kv (k integer PRIMARY KEY, v text)")
        .await
        .expect("the table");
    let addr = stopped.addr();
    let seen = clients_at_shutdown(addr, move || drop(stopped)).await;
    assert_eq!(seen, (TERMINATED.to_owned(), TERMINATED.to_owned()));
    // The other listener's session goes on; the terminated transaction
    // rolled back and let go of the writer.
    other
        .batch_execute("INSERT INTO kv VALUES (3, 'after')")
        .await
        .expect("a write on the other listener");
    let rows = other
        .query("SELECT k FROM kv ORDER BY k", &[])
        .await
        .expect("the table");
    let keys: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(keys, [3]);
}
