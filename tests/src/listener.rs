//! pg listeners with chosen settings served in the test's own process
//! ([`ServedListener`]: a store in a temporary directory, its `Database`,
//! and `serve_listener` on a loopback port), the real `psql` run against
//! them ([`psql`]), and the server's log lines kept for inspection
//! ([`captured_log`]).

use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use patina_pg::server::{Database, Listener, ListenerConfig, serve_listener};
use patina_store::Store;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::postgres::pg_bin_dir;

/// A listener serving a database until dropped (then its sessions are
/// terminated, as at a node's shutdown).
#[derive(Debug)]
pub struct ServedListener {
    addr: SocketAddr,
    db: Database,
    dir: Arc<TempDir>,
    stop: Option<oneshot::Sender<()>>,
}

impl ServedListener {
    /// Serves a new, empty database with `config`.
    pub async fn start(config: ListenerConfig) -> ServedListener {
        capture_log();
        let dir = tempfile::Builder::new()
            .prefix("patina-listener-")
            .tempdir()
            .expect("a temporary directory");
        let store = Store::open(dir.path().join("patina.db")).expect("a store");
        let db = Database::new(store).expect("a database");
        ServedListener::serve(db, Arc::new(dir), config).await
    }

    /// Another listener, with `config`, on the same database.
    pub async fn beside(&self, config: ListenerConfig) -> ServedListener {
        ServedListener::serve(self.db.clone(), self.dir.clone(), config).await
    }

    async fn serve(db: Database, dir: Arc<TempDir>, config: ListenerConfig) -> ServedListener {
        let listener = Listener::new(config).expect("a usable listener configuration");
        let socket = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = socket.local_addr().expect("the bound address");
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(serve_listener(socket, db.clone(), listener, async {
            let _ = stopped.await;
        }));
        ServedListener {
            addr,
            db,
            dir,
            stop: Some(stop),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The directory of the database, for files a test wants beside it.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for ServedListener {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What `psql` did.
#[derive(Debug)]
pub struct PsqlRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `psql "<conninfo>" -Atc <sql>` (without reading ~/.psqlrc or
/// asking for a password), with `PGPASSWORD` set when `password` is given.
pub async fn psql(conninfo: &str, password: Option<&str>, sql: &str) -> PsqlRun {
    let mut command = Command::new(pg_bin_dir().join("psql"));
    command
        .args([
            "-X",
            "-w",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
            conninfo,
        ])
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .env_remove("PGSSLMODE");
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the psql task")
        .expect("psql runs");
    PsqlRun {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(Arc::default)
}

/// Sends this process' warnings to a buffer [`captured_log`] reads.
fn capture_log() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let buffer = log_buffer().clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
            .with_ansi(false)
            .with_writer(move || LogWriter(buffer.clone()))
            .try_init();
    });
}

/// The warnings logged so far by servers of this test process.
pub fn captured_log() -> String {
    let buffer = log_buffer().lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&buffer).into_owned()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
