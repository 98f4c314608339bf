//! The node's configuration as an operator meets it: bad config files,
//! variables and flags are refused with a message naming the file and key
//! (or the variable, or the flag) and exit code 2, before anything is
//! created or bound; flags beat the environment, which beats the file; and
//! every `[[pg]]` listener serves with its own settings. Needs the patina
//! binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use patina_tests::{describe_error, free_port, patina_bin, try_connect_to};

const DEADLINE: Duration = Duration::from_secs(30);

/// The variables the node reads, removed from what the tests inherit.
const PATINA_VARS: &[&str] = &[
    "PATINA_CONFIG",
    "PATINA_DATA_DIR",
    "PATINA_PG_ADDR",
    "PATINA_GOSSIP_ADDR",
    "PATINA_METRICS_ADDR",
    "PATINA_LOG_LEVEL",
    "PATINA_LOG_FORMAT",
    "PATINA_BOOTSTRAP",
    "RUST_LOG",
];

fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn free_udp() -> SocketAddr {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("binds a UDP port");
    socket.local_addr().expect("local address")
}

/// A `patina agent` process, killed on drop; its output goes to `log`.
struct Agent {
    child: Child,
    log: PathBuf,
}

impl Agent {
    fn spawn(dir: &Path, args: &[String], env: &[(&str, String)]) -> Agent {
        let log = dir.join(format!("agent-{}.log", free_port()));
        let out = std::fs::File::create(&log).expect("creates the log");
        let mut command = Command::new(patina_bin());
        command.arg("agent").args(args).current_dir(dir);
        for var in PATINA_VARS {
            command.env_remove(var);
        }
        command
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out);
        let child = command.spawn().expect("starts patina");
        Agent { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the process to exit by itself.
    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "patina did not exit; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `addr` accepts PostgreSQL connections.
    async fn wait_accepting(&mut self, addr: SocketAddr) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                panic!("patina exited ({status}); log:\n{}", self.log());
            }
            match try_connect_to(addr).await {
                Ok(_) => return,
                Err(e) if start.elapsed() > DEADLINE => panic!(
                    "patina does not accept on {addr}: {}; log:\n{}",
                    describe_error(&e),
                    self.log()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `patina agent` with `config` as its file (and `args`, `env`) and
/// expects it to refuse: exit code 2, `expected` in its output, and its
/// data folder never created.
fn refused(config: &str, args: &[&str], env: &[(&str, &str)], expected: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = format!(
        "[data]\ndir = \"{}\"\n[gossip]\naddr = \"{}\"\n{config}",
        data.display(),
        free_udp()
    );
    let path = dir.path().join("patina.toml");
    std::fs::write(&path, config).expect("writes the config");
    let mut all = vec!["--config".to_owned(), path.display().to_string()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    let mut agent = Agent::spawn(dir.path(), &all, &env);
    let status = agent.wait_exit();
    let log = agent.log();
    assert_eq!(status.code(), Some(2), "exit status {status}; log:\n{log}");
    assert!(log.contains(expected), "expected {expected:?} in:\n{log}");
    assert!(!data.exists(), "the data folder was created; log:\n{log}");
}

#[test]
fn bad_settings_are_refused_before_anything_starts() {
    let pg = |port: u16| format!("[[pg]]\naddr = \"{}\"\n", local(port));
    refused(
        &format!(
            "{}{}max_connections = 0\n",
            pg(free_port()),
            pg(free_port())
        ),
        &[],
        &[],
        "patina.toml: pg[1].max_connections: must be at least 1, got 0",
    );
    refused("[pg\naddr = 1\n", &[], &[], "patina.toml: line 5, column");
    refused(
        "[[pg]]\naddr = \"0.0.0.0:5432\"\n",
        &[],
        &[],
        "patina.toml: pg[0].addr: the listener on 0.0.0.0:5432 is not on a loopback address, so it needs an explicit auth setting",
    );
    refused(
        &format!("{}colour = \"blue\"\n", pg(free_port())),
        &[],
        &[],
        "unknown field `colour`",
    );
    refused(
        "[gossip.tls]\nca = \"ca.pem\"\ncert = \"cert.pem\"\nkey = \"key.pem\"\n",
        &[],
        &[],
        "gossip.tls.cert",
    );
    refused(
        &format!(
            "{}[pg.tls]\ncert = \"nope.pem\"\nkey = \"nope-key.pem\"\n",
            pg(free_port())
        ),
        &[],
        &[],
        "patina.toml: pg[0].tls.cert",
    );
    refused(
        "[metrics]\naddr = \"127.0.0.1:1\"\naddr = \"127.0.0.1:2\"\n",
        &[],
        &[],
        "patina.toml: line 7, column 1: duplicate key",
    );
    refused(
        &pg(free_port()),
        &[],
        &[("PATINA_METRICS_ADDR", "everywhere")],
        "environment variable PATINA_METRICS_ADDR: must be an IP address and a port",
    );
    refused(
        &pg(free_port()),
        &["--log-level", "patina=loudest"],
        &[],
        "flag --log-level: \"patina=loudest\" is not a log level",
    );
    refused(
        &pg(free_port()),
        &["--schema", "missing.sql"],
        &[],
        "flag --schema: cannot read missing.sql",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_beat_the_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file_pg, env_pg, flag_pg) = (local(free_port()), local(free_port()), local(free_port()));
    let config = format!(
        "[data]\ndir = \"file-data\"\n[gossip]\naddr = \"{}\"\n[[pg]]\naddr = \"{file_pg}\"\n",
        free_udp()
    );
    let path = dir.path().join("patina.toml");
    std::fs::write(&path, config).expect("writes the config");
    let env_data = dir.path().join("env-data");
    let env = [
        ("PATINA_CONFIG", path.display().to_string()),
        ("PATINA_PG_ADDR", env_pg.to_string()),
        ("PATINA_DATA_DIR", env_data.display().to_string()),
        ("PATINA_LOG_FORMAT", "json".to_owned()),
    ];

    // flag over environment over file
    let mut agent = Agent::spawn(dir.path(), &["--pg-addr".into(), flag_pg.to_string()], &env);
    agent.wait_accepting(flag_pg).await;
    for not in [file_pg, env_pg] {
        assert!(try_connect_to(not).await.is_err(), "{not} accepts too");
    }
    assert!(
        env_data.join("patina.db").exists(),
        "the environment's data folder is unused"
    );
    assert!(
        !dir.path().join("file-data").exists(),
        "the file's data folder was used"
    );
    // the environment's log format: every line one JSON object
    let log = agent.log();
    let ready = log
        .lines()
        .find(|line| line.contains("patina node ready"))
        .unwrap_or_else(|| panic!("no ready line in:\n{log}"));
    assert!(
        ready.starts_with('{') && ready.contains("\"message\":\"patina node ready\""),
        "{ready}"
    );
    drop(agent);

    // environment over file
    let mut agent = Agent::spawn(dir.path(), &[], &env);
    agent.wait_accepting(env_pg).await;
    assert!(
        try_connect_to(file_pg).await.is_err(),
        "{file_pg} accepts too"
    );
    drop(agent);

    // the file alone (its relative data folder is relative to the file)
    let mut agent = Agent::spawn(
        dir.path(),
        &["--config".into(), path.display().to_string()],
        &[],
    );
    agent.wait_accepting(file_pg).await;
    assert!(dir.path().join("file-data/patina.db").exists());
    // no peer TLS configured: the loud warning
    assert!(agent.log().contains("INSECURE"), "{}", agent.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listener_serves_with_its_own_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (writer, reader) = (local(free_port()), local(free_port()));
    let config = format!(
        "[data]\ndir = \"data\"\n[gossip]\naddr = \"{}\"\ntls.insecure = true\n\
         [[pg]]\naddr = \"{writer}\"\n\
         [[pg]]\naddr = \"{reader}\"\nread_only = true\nmax_connections = 1\n",
        free_udp()
    );
    let path = dir.path().join("patina.toml");
    std::fs::write(&path, config).expect("writes the config");
    let mut agent = Agent::spawn(dir.path(), &["-c".into(), path.display().to_string()], &[]);
    agent.wait_accepting(writer).await;
    agent.wait_accepting(reader).await;

    let rw = try_connect_to(writer).await.expect("connects");
    rw.batch_execute(
        "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO kv VALUES (1, 'one')",
    )
    .await
    .expect("writes on the read-write listener");
    let ro = try_connect_to(reader).await.expect("connects");
    let rows = ro.query("SELECT v FROM kv", &[]).await.expect("reads");
    assert_eq!(rows[0].get::<_, String>(0), "one");
    // as PostgreSQL on a read-only transaction: 25006
    let error = ro
        .batch_execute("INSERT INTO kv VALUES (2, 'two')")
        .await
        .expect_err("read only");
    assert!(
        describe_error(&error).starts_with("25006"),
        "{}",
        describe_error(&error)
    );
    // its one connection is taken: as PostgreSQL, 53300
    let error = try_connect_to(reader).await.expect_err("over the limit");
    assert!(
        describe_error(&error).contains("53300"),
        "{}",
        describe_error(&error)
    );
    drop(ro);
}
