//! Schema files: applied when a node starts (`--schema`), again by `CALL
//! patina_reload()` without a restart (new tables, columns and indexes on
//! the fly, reported as NOTICEs), and refused whole — naming the file, the
//! statement and the reason — when they would drop or change something.
//! Needs the patina binary (`cargo build -p patina-cli`, or `PATINA_BIN`).

use std::path::Path;
use std::process::Command;

use patina_tests::{Patina, describe_error, patina_bin};

const SERVICES: &str = "CREATE TABLE services (
    name text PRIMARY KEY,
    port integer NOT NULL DEFAULT 0
);
CREATE INDEX services_port ON services (port);
";

const SERVICES_WITH_WEIGHT: &str = "CREATE TABLE services (
    name text PRIMARY KEY,
    port integer NOT NULL DEFAULT 0,
    weight numeric(6,2) DEFAULT 1
);
CREATE INDEX services_port ON services (port);
";

const ROUTES: &str = "CREATE TABLE routes (id bigint PRIMARY KEY, host text);";

/// Runs `sql` with psql on `port`: (success, stdout, stderr).
fn psql(port: u16, sql: &str) -> (bool, String, String) {
    let out = Command::new("psql")
        .args([
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
        ])
        .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::write(dir.join(name), sql).expect("write a schema file");
}

#[tokio::test]
async fn schema_files_apply_at_start_and_on_reload_or_are_refused_whole() {
    let schema = tempfile::tempdir().unwrap();
    write(schema.path(), "01_services.sql", SERVICES);
    let dir = schema.path().to_str().unwrap().to_owned();
    let node = Patina::start_with_args(&["--schema", &dir]).await;
    let client = node.connect().await;
    client
        .batch_execute("INSERT INTO services (name, port) VALUES ('api', 8080)")
        .await
        .unwrap();

    // Unchanged files: reloading says so.
    let (ok, _, notices) = psql(node.port(), "CALL patina_reload()");
    assert!(ok, "{notices}");
    assert!(notices.contains("schema unchanged"), "{notices}");

    // A new column and a new file's table, without a restart.
    write(schema.path(), "01_services.sql", SERVICES_WITH_WEIGHT);
    write(schema.path(), "02_routes.sql", ROUTES);
    let (ok, _, notices) = psql(node.port(), "CALL patina_reload()");
    assert!(ok, "{notices}");
    assert!(
        notices.contains("added column services.weight"),
        "{notices}"
    );
    assert!(notices.contains("created table routes"), "{notices}");
    let row = client
        .query_one("SELECT weight::text FROM services WHERE name = 'api'", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "1.00");
    client
        .batch_execute("INSERT INTO routes VALUES (1, 'example.com')")
        .await
        .unwrap();

    // Dropping a column is refused, and the new table of the same reload
    // is not created either.
    write(schema.path(), "01_services.sql", SERVICES);
    write(
        schema.path(),
        "03_more.sql",
        "CREATE TABLE more (id int PRIMARY KEY);",
    );
    let error = client
        .batch_execute("CALL patina_reload()")
        .await
        .unwrap_err();
    let db = error
        .as_db_error()
        .unwrap_or_else(|| panic!("{}", describe_error(&error)));
    assert_eq!(db.code().code(), "0A000");
    assert!(
        db.message().contains("01_services.sql")
            && db.message().contains("\"weight\"")
            && db.message().contains("dropping"),
        "{}",
        db.message()
    );
    let more = client
        .batch_execute("SELECT * FROM more")
        .await
        .unwrap_err();
    assert_eq!(more.code().map(|c| c.code()), Some("42P01"));

    // `patina reload` says what changed (here: nothing, as refused).
    let reload = Command::new(patina_bin())
        .args(["reload", "--addr", &node.pg_addr().to_string()])
        .output()
        .unwrap();
    assert!(!reload.status.success());
    let stderr = String::from_utf8_lossy(&reload.stderr);
    assert!(
        stderr.contains("0A000") && stderr.contains("01_services.sql"),
        "{stderr}"
    );
    write(schema.path(), "01_services.sql", SERVICES_WITH_WEIGHT);
    let reload = Command::new(patina_bin())
        .args(["reload", "--addr", &node.pg_addr().to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&reload.stdout);
    assert!(reload.status.success(), "{stdout}");
    assert!(
        stdout.contains("03_more.sql: created table more"),
        "{stdout}"
    );

    // Not inside a transaction block.
    let error = client
        .batch_execute("BEGIN; CALL patina_reload(); COMMIT")
        .await
        .unwrap_err();
    assert_eq!(error.code().map(|c| c.code()), Some("25001"));
}

#[tokio::test]
async fn a_node_with_a_bad_schema_file_does_not_start() {
    let schema = tempfile::tempdir().unwrap();
    write(
        schema.path(),
        "01_bad.sql",
        "CREATE TABLE t (id int PRIMARY KEY);\nDROP TABLE t;",
    );
    let dir = schema.path().to_str().unwrap().to_owned();
    let error = Patina::try_start_with_args(&["--schema", &dir])
        .await
        .expect_err("a node with a bad schema file must not start");
    let text = error.to_string();
    assert!(
        text.contains("01_bad.sql") && text.contains("CREATE TABLE and CREATE INDEX"),
        "{text}"
    );

    let missing = Command::new(patina_bin())
        .args(["agent", "--schema", "/nonexistent/schema.sql"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("/nonexistent/schema.sql"), "{stderr}");
}
