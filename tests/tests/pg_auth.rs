//! Password authentication on a pg listener, with the real psql and
//! tokio-postgres: SCRAM-SHA-256 and MD5 against verifiers made by patina
//! and by PostgreSQL 15 itself, and the refusals PostgreSQL 15 gives (FATAL
//! 28P01 `password authentication failed for user "…"` for a wrong
//! password, an unknown user, or an md5 verifier under scram-sha-256),
//! logged with the user and the peer, never the password. Needs the
//! PostgreSQL 15 binaries.

use std::time::Duration;

use patina_pg::server::{AuthMethod, ListenerConfig, PasswordHash, PgUser};
use patina_tests::tokio_postgres::{Client, Config, NoTls};
use patina_tests::wire::{Backend, RawConn, frontend};
use patina_tests::{Postgres, ServedListener, captured_log, describe_error, psql};

fn user(name: &str, password: PasswordHash) -> PgUser {
    PgUser {
        name: name.to_owned(),
        password,
    }
}

fn listener(auth: AuthMethod, users: Vec<PgUser>) -> ListenerConfig {
    ListenerConfig {
        auth,
        users,
        ..ListenerConfig::trust()
    }
}

async fn connect(
    server: &ServedListener,
    user: &str,
    password: &str,
) -> Result<Client, patina_tests::tokio_postgres::Error> {
    let (client, connection) = Config::new()
        .host("127.0.0.1")
        .port(server.port())
        .user(user)
        .password(password)
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(10))
        .connect(NoTls)
        .await?;
    tokio::spawn(connection);
    Ok(client)
}

fn conninfo(server: &ServedListener, user: &str) -> String {
    format!(
        "host=127.0.0.1 port={} user={user} dbname=postgres",
        server.port()
    )
}

async fn assert_refused(server: &ServedListener, user: &str, password: &str) {
    let error = match connect(server, user, password).await {
        Ok(_) => panic!("{user} logged in with {password:?}"),
        Err(error) => error,
    };
    assert_eq!(
        describe_error(&error),
        format!("28P01: password authentication failed for user \"{user}\"")
    );
    let run = psql(&conninfo(server, user), Some(password), "SELECT 1").await;
    assert!(!run.success, "psql logged in as {user}");
    assert!(
        run.stderr.contains(&format!(
            "FATAL:  password authentication failed for user \"{user}\""
        )),
        "{}",
        run.stderr
    );
}

/// What PostgreSQL 15 stores for `password` under `password_encryption`.
async fn postgres_verifier(
    server: &Postgres,
    role: &str,
    encryption: &str,
    password: &str,
) -> PasswordHash {
    let client = server.connect().await;
    client
        .batch_execute(&format!(
            "SET password_encryption = '{encryption}'; CREATE ROLE {role} LOGIN PASSWORD '{password}'"
        ))
        .await
        .expect("a role");
    let row = client
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&role],
        )
        .await
        .expect("its verifier");
    let text: String = row.get(0);
    text.parse()
        .unwrap_or_else(|e| panic!("PostgreSQL's verifier {text}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_lets_in_the_right_password_only() {
    let postgres = Postgres::start().await;
    let alice = postgres_verifier(&postgres, "alice", "scram-sha-256", "pencil").await;
    let server = ServedListener::start(listener(
        AuthMethod::ScramSha256,
        vec![
            user("alice", alice),
            user("bob", PasswordHash::scram("hunter2")),
            user("carol", PasswordHash::md5("carol", "secret")),
        ],
    ))
    .await;

    let run = psql(
        &conninfo(&server, "alice"),
        Some("pencil"),
        "SELECT current_user",
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.stdout, "alice\n");
    let bob = connect(&server, "bob", "hunter2")
        .await
        .unwrap_or_else(|e| panic!("bob: {}", describe_error(&e)));
    let row = bob.query_one("SELECT 41 + 1", &[]).await.expect("a query");
    assert_eq!(row.get::<_, i32>(0), 42);

    assert_refused(&server, "alice", "wrong-pencil").await;
    assert_refused(&server, "bob", "Hunter2").await;
    // Unknown users go through the same exchange and get the same answer.
    assert_refused(&server, "mallory", "anything").await;
    // scram-sha-256 cannot use an md5 verifier (as in PostgreSQL).
    assert_refused(&server, "carol", "secret").await;

    // Without a password psql gives up before answering.
    let run = psql(&conninfo(&server, "alice"), None, "SELECT 1").await;
    assert!(!run.success);
    assert!(
        run.stderr.contains("no password supplied"),
        "{}",
        run.stderr
    );

    let log = captured_log();
    for name in ["alice", "bob", "mallory", "carol"] {
        assert!(
            log.lines()
                .any(|line| line.contains("password authentication failed")
                    && line.contains(&format!("user={name}"))
                    && line.contains("peer=127.0.0.1:")),
            "no log line for {name}:\n{log}"
        );
    }
    for password in ["wrong-pencil", "Hunter2", "anything", "secret"] {
        assert!(!log.contains(password), "the log shows a password:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_uses_each_users_verifier() {
    let postgres = Postgres::start().await;
    let dave = postgres_verifier(&postgres, "dave", "md5", "letmein").await;
    let server = ServedListener::start(listener(
        AuthMethod::Md5,
        vec![
            user("carol", PasswordHash::md5("carol", "secret")),
            user("dave", dave),
            user("erin", PasswordHash::scram("opensesame")),
        ],
    ))
    .await;

    for (name, password) in [("carol", "secret"), ("dave", "letmein")] {
        let run = psql(
            &conninfo(&server, name),
            Some(password),
            "SELECT current_user",
        )
        .await;
        assert!(run.success, "{name}: {}", run.stderr);
        assert_eq!(run.stdout, format!("{name}\n"));
    }
    // A SCRAM verifier under md5 means SCRAM, as in PostgreSQL.
    connect(&server, "erin", "opensesame")
        .await
        .unwrap_or_else(|e| panic!("erin: {}", describe_error(&e)));
    let run = psql(&conninfo(&server, "erin"), Some("opensesame"), "SELECT 1").await;
    assert!(run.success, "{}", run.stderr);

    assert_refused(&server, "carol", "Secret").await;
    assert_refused(&server, "dave", "letmeout").await;
    assert_refused(&server, "erin", "closesesame").await;
    assert_refused(&server, "frank", "secret").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_asks_for_no_password() {
    let server = ServedListener::start(ListenerConfig::trust()).await;
    let run = psql(&conninfo(&server, "anyone"), None, "SELECT current_user").await;
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.stdout, "anyone\n");
}

/// A SASLInitialResponse (`p`) for `mechanism` carrying `data`, with
/// `len` as its declared length.
fn sasl_initial(mechanism: &str, len: i32, data: &[u8]) -> Vec<u8> {
    let mut body = mechanism.as_bytes().to_vec();
    body.push(0);
    body.extend_from_slice(&len.to_be_bytes());
    body.extend_from_slice(data);
    frontend::message(b'p', &body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_scram_messages_get_postgres_answers() {
    const DEADLINE: Duration = Duration::from_secs(10);
    let first = b"n,,n=,r=abc";
    // PostgreSQL 15's answers (FATAL), by hand with the same bytes.
    let cases: [(Vec<u8>, &str); 4] = [
        (
            sasl_initial("SCRAM-SHA-256", 100, first),
            "08P01: insufficient data left in message",
        ),
        (
            sasl_initial("SCRAM-SHA-1", first.len() as i32, first),
            "08P01: client selected an invalid SASL authentication mechanism",
        ),
        (
            sasl_initial("SCRAM-SHA-256", 32, b"p=tls-server-end-point,,n=,r=abc"),
            "08P01: malformed SCRAM message",
        ),
        (
            sasl_initial("SCRAM-SHA-256", 2, b"n,"),
            "08P01: malformed SCRAM message",
        ),
    ];
    let server = ServedListener::start(listener(
        AuthMethod::ScramSha256,
        vec![user("postgres", PasswordHash::scram("pw"))],
    ))
    .await;
    for user in ["postgres", "nobody"] {
        for (message, expected) in &cases {
            let mut conn = RawConn::connect(server.port()).await.expect("a connection");
            conn.send(&frontend::startup(&[("user", user)]))
                .await
                .expect("the startup");
            let request = conn.recv(DEADLINE).await.expect("a SASL request");
            assert_eq!(request.tag(), Some(b'R'));
            conn.send(message).await.expect("the response");
            let answer = conn.recv(DEADLINE).await.expect("an answer");
            assert_eq!(
                answer.describe_error().as_deref(),
                Some(*expected),
                "{user}"
            );
            assert_eq!(conn.recv(DEADLINE).await.expect("the end"), Backend::Eof);
        }
    }
    connect(&server, "postgres", "pw")
        .await
        .unwrap_or_else(|e| panic!("after the bad ones: {}", describe_error(&e)));
}
