//! TLS on the pg port, with the real psql: a listener with a certificate
//! answers SSLRequest with `S` and psql connects with `sslmode=require` and
//! `verify-full` (by name and by IP address), with SCRAM channel binding; one without answers `N` (as
//! it answers GSSENCRequest), and `sslmode=require` fails cleanly, as
//! against a PostgreSQL 15 with `ssl = off`. Unusable TLS files fail when
//! the listener is built, naming the file. Needs the PostgreSQL 15
//! binaries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use patina_pg::server::{AuthMethod, Listener, ListenerConfig, PasswordHash, PgUser, TlsFiles};
use patina_tests::wire::{RawConn, frontend};
use patina_tests::{ServedListener, TestCa, psql};

const DEADLINE: Duration = Duration::from_secs(10);

/// A CA, and a server certificate it signed for localhost and 127.0.0.1,
/// written into `dir`: (CA file, server files).
fn certificates(dir: &Path) -> (PathBuf, TlsFiles) {
    let ca = TestCa::new();
    let (cert, key) = ca.issue(&["localhost".to_owned(), "127.0.0.1".to_owned()]);
    let files = TlsFiles {
        cert: dir.join("server-cert.pem"),
        key: dir.join("server-key.pem"),
    };
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).expect("writing the CA");
    std::fs::write(&files.cert, cert).expect("writing the certificate");
    std::fs::write(&files.key, key).expect("writing the key");
    (ca_file, files)
}

fn conninfo(server: &ServedListener, host: &str, ssl: &str) -> String {
    format!(
        "host={host} port={} user=postgres dbname=postgres {ssl}",
        server.port()
    )
}

/// The answer to a lone SSLRequest or GSSENCRequest.
async fn answer(server: &ServedListener, request: Vec<u8>) -> Option<u8> {
    let mut conn = RawConn::connect(server.port()).await.expect("a connection");
    conn.send(&request).await.expect("sending the request");
    conn.recv_byte(DEADLINE).await.expect("an answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_serves_psql_over_verified_tls() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ca_file, files) = certificates(dir.path());
    let server = ServedListener::start(ListenerConfig {
        tls: Some(files),
        ..ListenerConfig::trust()
    })
    .await;

    assert_eq!(answer(&server, frontend::ssl_request()).await, Some(b'S'));
    assert_eq!(
        answer(&server, frontend::gssenc_request()).await,
        Some(b'N')
    );

    let root = format!("sslrootcert={}", ca_file.display());
    for (host, ssl) in [
        ("127.0.0.1", "sslmode=require".to_owned()),
        ("localhost", format!("sslmode=verify-full {root}")),
        ("127.0.0.1", format!("sslmode=verify-full {root}")),
    ] {
        let run = psql(&conninfo(&server, host, &ssl), None, "\\conninfo").await;
        assert!(run.success, "{host} {ssl}: {}", run.stderr);
        assert!(
            run.stdout.contains("SSL connection (protocol: TLSv1.3"),
            "{}",
            run.stdout
        );
        let run = psql(&conninfo(&server, host, &ssl), None, "SELECT 6 * 7").await;
        assert_eq!(run.stdout, "42\n", "{}", run.stderr);
    }

    // Another CA's certificate does not pass verify-full.
    let other = tempfile::tempdir().expect("a temporary directory");
    let (other_ca, _) = certificates(other.path());
    let ssl = format!("sslmode=verify-full sslrootcert={}", other_ca.display());
    let run = psql(&conninfo(&server, "localhost", &ssl), None, "SELECT 1").await;
    assert!(!run.success);
    assert!(
        run.stderr.contains("certificate verify failed"),
        "{}",
        run.stderr
    );

    // Plain connections stay possible, as on PostgreSQL with `host` lines.
    let run = psql(
        &conninfo(&server, "127.0.0.1", "sslmode=disable"),
        None,
        "SELECT 1",
    )
    .await;
    assert_eq!(run.stdout, "1\n", "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_runs_inside_tls() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ca_file, files) = certificates(dir.path());
    let server = ServedListener::start(ListenerConfig {
        auth: AuthMethod::ScramSha256,
        users: vec![PgUser {
            name: "postgres".to_owned(),
            password: PasswordHash::scram("correct horse"),
        }],
        tls: Some(files),
        ..ListenerConfig::trust()
    })
    .await;
    let ssl = format!("sslmode=verify-full sslrootcert={}", ca_file.display());
    let run = psql(
        &conninfo(&server, "localhost", &ssl),
        Some("correct horse"),
        "\\conninfo",
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains("SSL connection"), "{}", run.stdout);
    let run = psql(
        &conninfo(&server, "localhost", &ssl),
        Some("wrong horse"),
        "SELECT 1",
    )
    .await;
    assert!(
        run.stderr
            .contains("password authentication failed for user \"postgres\""),
        "{}",
        run.stderr
    );
    // Over TLS, SCRAM-SHA-256-PLUS binds the exchange to the certificate
    // (libpq uses it unless told not to), as PostgreSQL does.
    for binding in ["require", "prefer", "disable"] {
        let info = format!("{ssl} channel_binding={binding}");
        let run = psql(
            &conninfo(&server, "localhost", &info),
            Some("correct horse"),
            "SELECT 1",
        )
        .await;
        assert_eq!(
            run.stdout, "1\n",
            "channel_binding={binding}: {}",
            run.stderr
        );
        let run = psql(
            &conninfo(&server, "localhost", &info),
            Some("wrong horse"),
            "SELECT 1",
        )
        .await;
        assert!(
            run.stderr
                .contains("password authentication failed for user \"postgres\""),
            "channel_binding={binding}: {}",
            run.stderr
        );
    }
    // Without TLS there is no channel to bind to.
    let plain = "sslmode=disable channel_binding=require";
    let run = psql(
        &conninfo(&server, "localhost", plain),
        Some("correct horse"),
        "SELECT 1",
    )
    .await;
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("channel binding required, but SSL not in use"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_listener_refuses_ssl_and_gss_then_serves() {
    let server = ServedListener::start(ListenerConfig::trust()).await;
    assert_eq!(answer(&server, frontend::ssl_request()).await, Some(b'N'));

    // Both requests, in either order, then the startup on the same socket.
    let mut conn = RawConn::connect(server.port()).await.expect("a connection");
    conn.send(&frontend::gssenc_request())
        .await
        .expect("GSSENCRequest");
    assert_eq!(
        conn.recv_byte(DEADLINE).await.expect("an answer"),
        Some(b'N')
    );
    conn.send(&frontend::ssl_request())
        .await
        .expect("SSLRequest");
    assert_eq!(
        conn.recv_byte(DEADLINE).await.expect("an answer"),
        Some(b'N')
    );
    conn.send(&frontend::startup(&[]))
        .await
        .expect("the startup");
    let messages = conn.until_ready(DEADLINE).await.expect("a session");
    assert_eq!(messages.last().and_then(|m| m.tag()), Some(b'Z'));

    // What psql says against PostgreSQL 15 with ssl = off.
    let run = psql(
        &conninfo(&server, "127.0.0.1", "sslmode=require"),
        None,
        "SELECT 1",
    )
    .await;
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("server does not support SSL, but SSL was required"),
        "{}",
        run.stderr
    );
    let run = psql(
        &conninfo(&server, "127.0.0.1", "sslmode=prefer"),
        None,
        "SELECT 1",
    )
    .await;
    assert_eq!(run.stdout, "1\n", "{}", run.stderr);
}

#[test]
fn unusable_tls_files_fail_naming_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_, files) = certificates(dir.path());
    let missing = dir.path().join("missing-cert.pem");
    let garbage = dir.path().join("garbage-key.pem");
    std::fs::write(&garbage, "not a key").expect("writing garbage");
    let cert_only = dir.path().join("cert-only.pem");
    std::fs::write(&cert_only, std::fs::read(&files.cert).expect("the cert")).expect("copy");

    for (cert, key, named) in [
        (&missing, &files.key, &missing),
        (&files.cert, &garbage, &garbage),
        (&cert_only, &cert_only, &cert_only),
        (&files.key, &files.key, &files.key),
    ] {
        let error = Listener::new(ListenerConfig {
            tls: Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            ..ListenerConfig::trust()
        })
        .expect_err("unusable TLS files");
        let message = error.to_string();
        assert!(
            message.contains(&named.display().to_string()),
            "{message} does not name {}",
            named.display()
        );
    }
}
