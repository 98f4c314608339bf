//! `patina backup` and `patina restore` on a real two-node cluster: a
//! snapshot of a node taken while it serves, restored into that node's
//! data directory once it is stopped (it keeps its site id and its own
//! writes, and catches up on what the cluster wrote since), and into a new
//! node under a new site id; `COPY patina.backup` through psql's `\copy`;
//! the refusals (a running node, a data directory without a database, a
//! file that is not a backup, COPY options). Needs the patina binary
//! (`cargo build -p patina-cli`, or `PATINA_BIN`) and psql.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use patina_tests::{Cluster, ClusterOptions, patina_bin, pg_bin_dir};

const DEADLINE: Duration = Duration::from_secs(30);
const DUMP: &str = "SELECT k, v FROM kv ORDER BY k";

fn patina(args: &[&str]) -> Output {
    Command::new(patina_bin())
        .args(args)
        .env_remove("PATINA_CONFIG")
        .env_remove("PATINA_DATA_DIR")
        .env_remove("PATINA_PG_ADDR")
        .output()
        .expect("runs patina")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs patina and expects success: its stdout.
fn succeeds(args: &[&str]) -> String {
    let output = patina(args);
    assert!(
        output.status.success(),
        "patina {args:?} failed: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Runs patina and expects exit code 1: its stderr.
fn fails(args: &[&str]) -> String {
    let output = patina(args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "patina {args:?}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stderr)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

async fn site_id(cluster: &Cluster, i: usize) -> String {
    cluster.query(i, "SELECT site_id FROM patina.node").await[0][0]
        .clone()
        .expect("a site id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restored_keeps_its_node_and_catches_up() {
    let mut cluster = Cluster::start(2, ClusterOptions::default()).await;
    cluster
        .create_table("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)", "kv")
        .await;
    cluster
        .exec(
            0,
            "INSERT INTO kv SELECT g, 'zero' FROM generate_series(1, 500) g",
        )
        .await;
    cluster
        .exec(
            1,
            "INSERT INTO kv SELECT g, 'one' FROM generate_series(501, 1000) g",
        )
        .await;
    cluster
        .exec(
            1,
            "CREATE TABLE notes (line TEXT); INSERT INTO notes VALUES ('local to node 1')",
        )
        .await;
    cluster.wait_count(DEADLINE, "kv", 1000).await;
    let node1 = site_id(&cluster, 1).await;
    let files = tempfile::tempdir().unwrap();
    let snapshot = files.path().join("node1.backup");
    let addr1 = cluster.pg_addr(1).to_string();

    let out = succeeds(&["backup", path(&snapshot), "--addr", &addr1]);
    assert!(
        out.starts_with(&format!(
            "backup of node {node1} written to {} (",
            snapshot.display()
        )),
        "{out}"
    );
    assert!(!files.path().join("node1.backup.partial").exists());

    // The same snapshot through psql's \copy, which writes the data as is.
    let by_psql = files.path().join("by-psql.backup");
    let psql = Command::new(pg_bin_dir().join("psql"))
        .args(["-X", "-h", &cluster.pg_addr(1).ip().to_string()])
        .args([
            "-p",
            &cluster.pg_addr(1).port().to_string(),
            "-U",
            "postgres",
        ])
        .args([
            "-c",
            &format!("\\copy patina.backup to '{}'", by_psql.display()),
        ])
        .output()
        .expect("runs psql");
    assert!(psql.status.success(), "{}", text(&psql.stderr));
    let restored_by_psql = files.path().join("check");
    let out = succeeds(&[
        "restore",
        path(&by_psql),
        "--data-dir",
        path(&restored_by_psql),
        "--new-site-id",
    ]);
    assert!(
        out.contains(&format!("from the backup of node {node1}")),
        "{out}"
    );

    // What COPY patina.backup refuses.
    let error = cluster
        .try_query(1, "COPY patina.backup TO STDOUT (FORMAT csv)")
        .await
        .unwrap_err();
    assert!(error.contains("0A000"), "{error}");

    // Restoring under a running node is refused and changes nothing.
    let data1 = cluster.node(1).data_dir();
    let error = fails(&["restore", path(&snapshot), "--data-dir", path(&data1)]);
    assert_eq!(
        error,
        format!(
            "patina: {dir} is in use by a running patina agent ({dir}/patina.lock is locked): \
             stop it before restoring into it\n",
            dir = data1.display()
        )
    );

    // Writes after the backup: node 1's own, then (while it is down) node 0's.
    cluster
        .exec(1, "UPDATE kv SET v = 'one, later' WHERE k = 501")
        .await;
    let later = vec![vec![Some("one, later".to_owned())]];
    cluster
        .wait_rows_on(DEADLINE, &[0], "SELECT v FROM kv WHERE k = 501", &later)
        .await;
    cluster.kill(1);
    cluster
        .exec(0, "UPDATE kv SET v = 'zero, later' WHERE k = 1")
        .await;

    let out = succeeds(&["restore", path(&snapshot), "--data-dir", path(&data1)]);
    assert!(
        out.starts_with(&format!(
            "restored {} into {}/patina.db: site {node1} (kept), ",
            snapshot.display(),
            data1.display()
        )),
        "{out}"
    );
    assert!(out.contains("local tables copied: notes\n"), "{out}");
    assert!(data1.join("patina.db.before-restore").exists());

    cluster.restart(1).await;
    assert_eq!(
        site_id(&cluster, 1).await,
        node1,
        "the node keeps its site id"
    );
    assert_eq!(
        cluster.query(1, "SELECT line FROM notes").await,
        vec![vec![Some("local to node 1".to_owned())]]
    );
    let dump = cluster.wait_identical(DEADLINE, DUMP).await;
    assert_eq!(dump.len(), 1000);
    assert_eq!(
        dump[0][1].as_deref(),
        Some("zero, later"),
        "caught up from node 0"
    );
    assert_eq!(
        dump[500][1].as_deref(),
        Some("one, later"),
        "its own later write kept"
    );

    // Its versions go on after every one it handed out: a write on it
    // reaches node 0.
    cluster
        .exec(1, "INSERT INTO kv VALUES (1001, 'after the restore')")
        .await;
    cluster.wait_count(DEADLINE, "kv", 1001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_seeds_a_new_node_under_a_new_site_id() {
    let mut cluster = Cluster::start(1, ClusterOptions::default()).await;
    cluster
        .create_table("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)", "kv")
        .await;
    cluster
        .exec(
            0,
            "INSERT INTO kv SELECT g, 'seed' FROM generate_series(1, 300) g",
        )
        .await;
    let files = tempfile::tempdir().unwrap();
    let snapshot = files.path().join("seed.backup");
    succeeds(&[
        "backup",
        path(&snapshot),
        "--addr",
        &cluster.pg_addr(0).to_string(),
    ]);
    cluster
        .exec(0, "INSERT INTO kv VALUES (301, 'after the backup')")
        .await;

    let new = cluster.add_node().await;
    let first_id = site_id(&cluster, new).await;
    cluster.kill(new);
    let data = cluster.node(new).data_dir();
    let out = succeeds(&[
        "restore",
        path(&snapshot),
        "--data-dir",
        path(&data),
        "--new-site-id",
    ]);
    assert!(out.contains(" (new), "), "{out}");
    cluster.restart(new).await;
    let id = site_id(&cluster, new).await;
    assert_ne!(id, first_id);
    assert_ne!(id, site_id(&cluster, 0).await);
    cluster.wait_count(DEADLINE, "kv", 301).await;
}

#[test]
fn restore_refuses_what_it_cannot_restore() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    let garbage = dir.path().join("garbage.backup");
    std::fs::write(&garbage, b"not a backup").unwrap();

    let error = fails(&["restore", path(&garbage), "--data-dir", path(&empty)]);
    assert!(
        error.starts_with(&format!(
            "patina: {}/patina.db cannot be read (",
            empty.display()
        )) && error.ends_with(
            "so the node's own site id and versions are unknown: restore with --new-site-id \
             to give it a new one\n"
        ),
        "{error}"
    );
    let error = fails(&[
        "restore",
        path(&garbage),
        "--data-dir",
        path(&empty),
        "--new-site-id",
    ]);
    assert!(
        error.starts_with(&format!(
            "patina: restoring {} failed: {} is not a patina database: ",
            garbage.display(),
            garbage.display()
        )),
        "{error}"
    );
    assert!(!empty.join("patina.db").exists(), "nothing was left behind");
    assert!(!empty.join("patina.db.restoring").exists());

    let unreachable = patina(&[
        "backup",
        path(&dir.path().join("x")),
        "--addr",
        "127.0.0.1:1",
    ]);
    assert_eq!(unreachable.status.code(), Some(2), "as for a bad setup");
    let error = text(&unreachable.stderr);
    assert!(
        error.contains("cannot connect to the patina node at 127.0.0.1:1"),
        "{error}"
    );
    assert!(!dir.path().join("x.partial").exists() && !dir.path().join("x").exists());
}
