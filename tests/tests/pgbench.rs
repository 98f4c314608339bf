//! The real `pgbench` against patina: `pgbench -i -s 1` (keyless tables
//! created local, client-side data through COPY, VACUUM ANALYZE, then ADD
//! PRIMARY KEY, which makes them replicated), then the built-in scripts
//! (`-S`, `-N`, tpcb-like) and a custom `-f` script under each protocol
//! (`-M simple|extended|prepared`) with 8 clients on 2 threads: no failed
//! transaction, every transaction processed, and balances that agree with
//! the history. Needs `target/debug/patina` and PostgreSQL 15's pgbench.

use std::path::Path;
use std::process::Command;

use patina_tests::tokio_postgres::Client;
use patina_tests::{Patina, describe_error, pg_bin_dir};

const CLIENTS: &str = "8";
const TRANSACTIONS_PER_CLIENT: &str = "50";

/// A script of PostgreSQL's documentation style: one account, one history
/// row, with pgbench's variables.
const CUSTOM: &str = "\\set aid random(1, 100000 * :scale)
\\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP);
END;
";

/// Runs pgbench against the node; panics with its output if it fails.
async fn pgbench(port: u16, args: &[&str]) -> String {
    let mut command = Command::new(pg_bin_dir().join("pgbench"));
    command
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(args)
        .arg("postgres")
        .env("PGCONNECT_TIMEOUT", "10");
    let shown = format!("pgbench {}", args.join(" "));
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the pgbench task")
        .expect("pgbench runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{shown} failed:\n{text}");
    text
}

async fn sum(client: &Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", describe_error(&e)))
        .get::<_, Option<i64>>(0)
        .unwrap_or(0)
}

/// The sums of the balances and of the history's deltas.
async fn balances(client: &Client) -> [i64; 4] {
    [
        sum(client, "SELECT sum(abalance)::int8 FROM pgbench_accounts").await,
        sum(client, "SELECT sum(tbalance)::int8 FROM pgbench_tellers").await,
        sum(client, "SELECT sum(bbalance)::int8 FROM pgbench_branches").await,
        sum(client, "SELECT sum(delta)::int8 FROM pgbench_history").await,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_initializes_and_runs_every_script_in_every_mode() {
    let node = Patina::start().await;
    let port = node.port();
    let init = pgbench(port, &["-i", "-s", "1"]).await;
    assert!(init.contains("creating primary keys..."), "{init}");
    assert!(
        init.contains("table \"pgbench_history\" has no primary key"),
        "{init}"
    );
    let client = node.connect().await;
    assert_eq!(
        sum(&client, "SELECT count(*) FROM pgbench_accounts").await,
        100_000
    );
    // The keys were added: a duplicate account is refused.
    let duplicate = client
        .batch_execute("INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES (1, 1, 0)")
        .await
        .expect_err("aid is the key");
    assert_eq!(
        duplicate.as_db_error().map(|e| e.code().code()),
        Some("23505")
    );

    let script = node.dir().join("custom.sql");
    std::fs::write(&script, CUSTOM).expect("write the script");
    let custom = format!("--file={}", Path::new(&script).display());
    let scripts: [(&str, &[&str]); 4] = [
        ("select-only", &["-S"]),
        ("simple-update", &["-N"]),
        ("tpcb-like", &[]),
        ("custom", &[custom.as_str()]),
    ];
    for mode in ["simple", "extended", "prepared"] {
        for (name, script) in &scripts {
            let before = balances(&client).await;
            let mut args = vec![
                "-c",
                CLIENTS,
                "-j",
                "2",
                "-t",
                TRANSACTIONS_PER_CLIENT,
                "-M",
                mode,
            ];
            args.extend_from_slice(script);
            let out = pgbench(port, &args).await;
            let context = format!("{name} -M {mode}:\n{out}");
            assert!(
                out.contains("number of transactions actually processed: 400/400"),
                "{context}"
            );
            assert!(
                out.contains("number of failed transactions: 0 (0.000%)"),
                "{context}"
            );
            // Each run starts by emptying the history (pgbench's vacuum
            // step), so the history holds exactly this run's deltas.
            let after = balances(&client).await;
            let delta = after[3];
            match *name {
                "select-only" => assert_eq!((&after[..3], delta), (&before[..3], 0), "{context}"),
                "tpcb-like" => assert_eq!(
                    [
                        after[0] - before[0],
                        after[1] - before[1],
                        after[2] - before[2]
                    ],
                    [delta; 3],
                    "{context}"
                ),
                _ => assert_eq!(
                    (after[0] - before[0], &after[1..3]),
                    (delta, &before[1..3]),
                    "{context}"
                ),
            }
        }
    }
}
