//! `patina tls …` makes certificates that work: a 2-node cluster runs
//! mutual TLS from generated files, psql connects with
//! `sslmode=verify-full` to a pg listener using a generated server
//! certificate, keys are written 0600 and nothing is overwritten without
//! `--force`. Needs the patina binary (`cargo build -p patina-cli`, or
//! `PATINA_BIN`) and PostgreSQL 15's psql.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, Patina, pairs, patina_bin, pg_bin_dir};

const DEADLINE: Duration = Duration::from_secs(30);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn patina(args: &[&str]) -> Output {
    Command::new(patina_bin())
        .args(args)
        .output()
        .expect("runs patina")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "patina failed: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn s(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `tls ca generate` into `dir`: (ca.pem, ca-key.pem).
fn make_ca(dir: &Path) -> (PathBuf, PathBuf) {
    ok(patina(&["tls", "ca", "generate", "--out-dir", s(dir)]));
    (dir.join("ca.pem"), dir.join("ca-key.pem"))
}

/// `tls server generate NAMES…` signed by the CA in `ca_dir`, into `out`.
fn make_server(ca_dir: &Path, out: &Path, names: &[&str]) -> (PathBuf, PathBuf) {
    let (ca, ca_key) = (ca_dir.join("ca.pem"), ca_dir.join("ca-key.pem"));
    let mut args = vec!["tls", "server", "generate"];
    args.extend(names);
    args.extend([
        "--ca-cert",
        s(&ca),
        "--ca-key",
        s(&ca_key),
        "--out-dir",
        s(out),
    ]);
    ok(patina(&args));
    (out.join("server.pem"), out.join("server-key.pem"))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn keys_are_private_and_files_are_not_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, ca_key) = make_ca(dir.path());
    let first = std::fs::read_to_string(&ca).expect("reads");
    assert!(first.starts_with("-----BEGIN CERTIFICATE-----"), "{first}");
    assert!(
        std::fs::read_to_string(&ca_key)
            .expect("reads")
            .contains("PRIVATE KEY-----"),
        "not a PEM key"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&ca_key), 0o600);
        assert_eq!(mode(&ca), 0o644);
    }

    let again = patina(&["tls", "ca", "generate", "--out-dir", s(dir.path())]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists already; pass --force to overwrite it"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&ca).expect("reads"),
        first,
        "overwritten"
    );

    ok(patina(&[
        "tls",
        "ca",
        "generate",
        "--out-dir",
        s(dir.path()),
        "--force",
    ]));
    assert_ne!(
        std::fs::read_to_string(&ca).expect("reads"),
        first,
        "not overwritten"
    );

    let bad = patina(&[
        "tls",
        "server",
        "generate",
        "not a name!",
        "--ca-cert",
        s(&ca),
        "--ca-key",
        s(&ca_key),
        "--out-dir",
        s(dir.path()),
    ]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("neither an IP address nor a valid DNS name"));

    let out = dir.path().join("client");
    ok(patina(&[
        "tls",
        "client",
        "generate",
        "alice",
        "--ca-cert",
        s(&ca),
        "--ca-key",
        s(&ca_key),
        "--out-dir",
        s(&out),
    ]));
    #[cfg(unix)]
    assert_eq!(mode(&out.join("client-key.pem")), 0o600);
}

#[test]
fn a_client_certificate_cannot_pass_for_a_peer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, ca_key) = make_ca(dir.path());
    ok(patina(&[
        "tls",
        "client",
        "generate",
        "alice",
        "--ca-cert",
        s(&ca),
        "--ca-key",
        s(&ca_key),
        "--out-dir",
        s(dir.path()),
    ]));
    let refused = Command::new(patina_bin())
        .args(["agent", "--data-dir", s(&dir.path().join("data"))])
        .args(["--peer-ca", s(&ca)])
        .args(["--peer-cert", s(&dir.path().join("client.pem"))])
        .args(["--peer-key", s(&dir.path().join("client-key.pem"))])
        .output()
        .expect("runs patina");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("flag --peer-cert: "),
        "{}",
        text(&refused.stderr)
    );
    assert!(!dir.path().join("data").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_certificates_secure_a_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_ca(dir.path());
    let (cert, key) = make_server(dir.path(), dir.path(), &["127.0.0.1", "db.example"]);
    let ca = dir.path().join("ca.pem");
    let args: Vec<String> = [
        "--peer-ca",
        s(&ca),
        "--peer-cert",
        s(&cert),
        "--peer-key",
        s(&key),
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let cluster = Cluster::start(
        2,
        ClusterOptions {
            extra_args: args,
            ..ClusterOptions::default()
        },
    )
    .await;
    for i in 0..2 {
        cluster
            .exec(
                i,
                "CREATE TABLE IF NOT EXISTS kv (k INTEGER PRIMARY KEY, v TEXT)",
            )
            .await;
    }
    cluster.exec(0, "INSERT INTO kv VALUES (1, 'from 0')").await;
    cluster.exec(1, "INSERT INTO kv VALUES (2, 'from 1')").await;
    cluster
        .wait_rows(
            DEADLINE,
            "SELECT k, v FROM kv ORDER BY k",
            &pairs([(1, "from 0"), (2, "from 1")]),
        )
        .await;
    for i in 0..2 {
        // the transport warns of insecure mode only without mutual TLS
        assert!(
            !cluster.log(i).contains("INSECURE"),
            "node {i} runs insecure"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_verifies_a_generated_server_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    make_ca(dir.path());
    let (cert, key) = make_server(dir.path(), dir.path(), &["127.0.0.1"]);
    let config = dir.path().join("patina.toml");
    // the harness's --pg-addr sets this listener's address
    std::fs::write(
        &config,
        format!(
            "[[pg]]\n[pg.tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            s(&cert),
            s(&key)
        ),
    )
    .expect("writes the config");
    let node = Patina::start_with_args(&["--config", s(&config)]).await;

    let psql = |root: &Path| {
        Command::new(pg_bin_dir().join("psql"))
            .args(["-X", "-A", "-t", "-c", "SELECT 1"])
            .arg(format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=verify-full sslrootcert={}",
                node.port(),
                s(root)
            ))
            .output()
            .expect("runs psql")
    };
    let verified = psql(&dir.path().join("ca.pem"));
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert_eq!(text(&verified.stdout).trim(), "1");

    // a certificate from another CA is not trusted
    let other = dir.path().join("other");
    make_ca(&other);
    let refused = psql(&other.join("ca.pem"));
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("certificate verify failed"),
        "{}",
        text(&refused.stderr)
    );
}
