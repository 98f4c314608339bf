//! The PostgreSQL front door against a real PostgreSQL 15 on the same
//! machine, in the same run.
//!
//! `cargo build --release -p patina-cli && cargo bench -p patina-tests --bench frontdoor`
//! (env `PATINA_BIN` picks another patina binary; `PG_BIN_DIR` another
//! PostgreSQL; `FRONTDOOR_SCALE` multiplies the operation counts).
//!
//! Both servers get the same schema (`kv(id BIGINT PRIMARY KEY, v TEXT,
//! n INT)`, 10,000 rows) and the same clients: tokio-postgres over TCP on
//! 127.0.0.1, prepared statements, all clients on one client thread.
//! Workloads, each in interleaved rounds (PostgreSQL, patina, PostgreSQL,
//! …; the median round is reported):
//! - point SELECT by primary key, 1 client and 8 clients;
//! - single-row autocommit INSERT and UPDATE, 1 client, at
//!   - default durability: patina `--durability normal` (WAL,
//!     synchronous=NORMAL) vs PostgreSQL `synchronous_commit=off`;
//!   - full durability: patina `--durability full` vs PostgreSQL
//!     `synchronous_commit=on`; both fsync.
//!
//! PostgreSQL runs with its defaults (fsync on, full_page_writes on,
//! shared_buffers 128MB) apart from where it listens.
//!
//! Prints a Markdown table: throughput, p50 and p99 latency per server, and
//! the ratios patina / PostgreSQL.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use patina_tests::tokio_postgres::{Client, Statement};
use patina_tests::{Patina, Postgres, describe_error, try_connect, workspace_root};

const ROWS: i64 = 10_000;
const ROUNDS: usize = 3;
const READ_OPS: usize = 20_000;
const WRITE_OPS: usize = 4_000;
const FULL_WRITE_OPS: usize = 1_000;
const WARMUP_OPS: usize = 500;

fn main() {
    // `cargo test --benches` runs bench binaries with no arguments too; only
    // `cargo bench` passes `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("frontdoor bench: {e}");
        std::process::exit(1);
    }
}

fn scale() -> f64 {
    std::env::var("FRONTDOOR_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()) as usize).max(10)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    PointSelect,
    Insert,
    Update,
}

struct Row {
    label: String,
    pg: Measure,
    patina: Measure,
}

#[derive(Clone, Debug)]
struct Measure {
    ops_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

async fn run() -> Result<(), String> {
    println!("starting PostgreSQL 15 and patina (normal and full durability)…");
    let pg = Postgres::try_start_durable()
        .await
        .map_err(|e| e.to_string())?;
    let normal = start_patina("normal").await?;
    let full = start_patina("full").await?;
    for port in [pg.port(), normal.port(), full.port()] {
        load(port).await?;
    }
    let mut rows = Vec::new();
    let next_id = Arc::new(AtomicI64::new(ROWS + 1));

    for clients in [1usize, 8] {
        let per_client = scaled(READ_OPS) / clients;
        let (p, q) = compare(
            pg.port(),
            "",
            normal.port(),
            Workload::PointSelect,
            clients,
            per_client,
            &next_id,
        )
        .await?;
        rows.push(Row {
            label: format!(
                "point SELECT by PK, prepared, {clients} client{}",
                if clients > 1 { "s" } else { "" }
            ),
            pg: p,
            patina: q,
        });
    }
    for (workload, name) in [(Workload::Insert, "INSERT"), (Workload::Update, "UPDATE")] {
        let (p, q) = compare(
            pg.port(),
            "SET synchronous_commit = off",
            normal.port(),
            workload,
            1,
            scaled(WRITE_OPS),
            &next_id,
        )
        .await?;
        rows.push(Row {
            label: format!("single-row {name}, autocommit, default durability¹"),
            pg: p,
            patina: q,
        });
    }
    for (workload, name) in [(Workload::Insert, "INSERT"), (Workload::Update, "UPDATE")] {
        let (p, q) = compare(
            pg.port(),
            "SET synchronous_commit = on",
            full.port(),
            workload,
            1,
            scaled(FULL_WRITE_OPS),
            &next_id,
        )
        .await?;
        rows.push(Row {
            label: format!("single-row {name}, autocommit, full fsync²"),
            pg: p,
            patina: q,
        });
    }

    println!();
    println!(
        "| workload | PostgreSQL ops/s | PG p50 | PG p99 | patina ops/s | patina p50 | patina p99 | throughput patina/PG | p50 patina/PG |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {:.0} | {} | {} | {:.0} | {} | {} | {:.2}× | {:.2}× |",
            row.label,
            row.pg.ops_per_sec,
            micros(row.pg.p50),
            micros(row.pg.p99),
            row.patina.ops_per_sec,
            micros(row.patina.p50),
            micros(row.patina.p99),
            row.patina.ops_per_sec / row.pg.ops_per_sec,
            row.patina.p50.as_secs_f64() / row.pg.p50.as_secs_f64(),
        );
    }
    println!();
    println!(
        "¹ patina `--durability normal` (WAL, synchronous=NORMAL) vs PostgreSQL synchronous_commit=off (fsync on)"
    );
    println!(
        "² patina `--durability full` (synchronous=FULL) vs PostgreSQL synchronous_commit=on (fsync on)"
    );
    println!(
        "(median of {ROUNDS} interleaved rounds; latencies are the client's, per statement, over TCP on 127.0.0.1)"
    );
    println!();
    for row in &rows {
        if row.label.starts_with("point SELECT") {
            let ratio = row.patina.ops_per_sec / row.pg.ops_per_sec;
            println!(
                "target: point reads at least as fast as PostgreSQL — {}: {ratio:.2}× ({})",
                row.label,
                if ratio >= 1.0 { "met" } else { "missed" }
            );
        } else if row.label.contains("default durability") {
            let p50 = row.patina.p50.as_secs_f64() * 1e6;
            println!(
                "target: single-row write p50 under 150 µs — {}: {p50:.0} µs ({})",
                row.label,
                if p50 < 150.0 { "met" } else { "missed" }
            );
        }
    }
    drop(full);
    drop(normal);
    drop(pg);
    Ok(())
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// Interleaved rounds of one workload on PostgreSQL and patina; the median
/// round of each (by throughput).
async fn compare(
    pg: u16,
    pg_setup: &str,
    patina: u16,
    workload: Workload,
    clients: usize,
    per_client: usize,
    next_id: &Arc<AtomicI64>,
) -> Result<(Measure, Measure), String> {
    let mut pg_rounds = Vec::new();
    let mut patina_rounds = Vec::new();
    for round in 0..ROUNDS {
        pg_rounds.push(
            measure(
                pg,
                pg_setup,
                workload,
                clients,
                per_client,
                round == 0,
                next_id,
            )
            .await?,
        );
        patina_rounds.push(
            measure(
                patina,
                "",
                workload,
                clients,
                per_client,
                round == 0,
                next_id,
            )
            .await?,
        );
    }
    eprintln!(
        "{workload:?} × {clients}: PostgreSQL {:?} ops/s, patina {:?} ops/s",
        pg_rounds
            .iter()
            .map(|m| m.ops_per_sec as u64)
            .collect::<Vec<_>>(),
        patina_rounds
            .iter()
            .map(|m| m.ops_per_sec as u64)
            .collect::<Vec<_>>()
    );
    Ok((median(pg_rounds), median(patina_rounds)))
}

fn median(mut rounds: Vec<Measure>) -> Measure {
    rounds.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
    rounds[rounds.len() / 2].clone()
}

/// One round: `clients` connections each running `per_client` operations
/// (after a warm-up), all at once.
async fn measure(
    port: u16,
    setup: &str,
    workload: Workload,
    clients: usize,
    per_client: usize,
    warm_up: bool,
    next_id: &Arc<AtomicI64>,
) -> Result<Measure, String> {
    let mut conns = Vec::new();
    for c in 0..clients {
        let client = try_connect(port)
            .await
            .map_err(|e| format!("connecting to {port}: {}", describe_error(&e)))?;
        if !setup.is_empty() {
            client
                .batch_execute(setup)
                .await
                .map_err(|e| describe_error(&e))?;
        }
        let sql = match workload {
            Workload::PointSelect => "SELECT id, v, n FROM kv WHERE id = $1",
            Workload::Insert => "INSERT INTO kv (id, v, n) VALUES ($1, $2, $3)",
            Workload::Update => "UPDATE kv SET v = $2, n = $3 WHERE id = $1",
        };
        let statement = client.prepare(sql).await.map_err(|e| describe_error(&e))?;
        let mut state = Ids(0x1234_5678 ^ ((c as u64 + 1) * 0x9E37_79B9));
        if warm_up {
            for _ in 0..WARMUP_OPS.min(per_client) {
                op(&client, &statement, workload, &mut state, next_id).await?;
            }
        }
        conns.push((client, statement, state));
    }
    let start = Instant::now();
    let tasks = conns.into_iter().map(|(client, statement, mut state)| {
        let next_id = next_id.clone();
        async move {
            let mut latencies = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let t = Instant::now();
                op(&client, &statement, workload, &mut state, &next_id).await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, String>(latencies)
        }
    });
    let results = join_all(tasks.collect()).await;
    let elapsed = start.elapsed();
    let mut latencies = Vec::new();
    for r in results {
        latencies.extend(r?);
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok(Measure {
        ops_per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    })
}

/// Runs futures concurrently on the current task (no spawning: the clients
/// share one thread).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use std::pin::Pin;
    use std::task::Poll;
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (i, f) in futures.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(out) => outputs[i] = Some(out),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(outputs.iter_mut().map(|o| o.take().unwrap()).collect())
        }
    })
    .await
}

async fn op(
    client: &Client,
    statement: &Statement,
    workload: Workload,
    ids: &mut Ids,
    next_id: &AtomicI64,
) -> Result<(), String> {
    let result = match workload {
        Workload::PointSelect => {
            let id = ids.next(ROWS);
            client.query_one(statement, &[&id]).await.map(|_| ())
        }
        Workload::Insert => {
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            let v = format!("inserted {id}");
            let n = (id % 1000) as i32;
            client.execute(statement, &[&id, &v, &n]).await.map(|_| ())
        }
        Workload::Update => {
            let id = ids.next(ROWS);
            let v = format!("updated {}", ids.0 % 1000);
            let n = (ids.0 % 100_000) as i32;
            match client.execute(statement, &[&id, &v, &n]).await {
                Ok(1) => Ok(()),
                Ok(n) => return Err(format!("UPDATE of row {id} changed {n} rows, not 1")),
                Err(e) => Err(e),
            }
        }
    };
    result.map_err(|e| format!("{workload:?}: {}", describe_error(&e)))
}

/// Deterministic pseudo-random row ids.
struct Ids(u64);

impl Ids {
    fn next(&mut self, below: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as i64 + 1
    }
}

/// The schema and 10,000 rows, in transactions of 500.
async fn load(port: u16) -> Result<(), String> {
    let client = try_connect(port).await.map_err(|e| describe_error(&e))?;
    client
        .batch_execute("CREATE TABLE kv (id BIGINT PRIMARY KEY, v TEXT, n INT)")
        .await
        .map_err(|e| format!("schema on {port}: {}", describe_error(&e)))?;
    let mut id = 1;
    while id <= ROWS {
        let values: Vec<String> = (id..(id + 500).min(ROWS + 1))
            .map(|i| format!("({i}, 'value {i}', {})", i % 1000))
            .collect();
        client
            .batch_execute(&format!(
                "BEGIN; INSERT INTO kv (id, v, n) VALUES {}; COMMIT",
                values.join(", ")
            ))
            .await
            .map_err(|e| format!("loading on {port}: {}", describe_error(&e)))?;
        id += 500;
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM kv", &[])
        .await
        .map_err(|e| describe_error(&e))?
        .get(0);
    if count != ROWS {
        return Err(format!("{port} holds {count} rows, not {ROWS}"));
    }
    Ok(())
}

/// A release patina node (`PATINA_BIN`, else `target/release/patina`).
async fn start_patina(durability: &str) -> Result<Patina, String> {
    let bin = std::env::var_os("PATINA_BIN").map_or_else(
        || workspace_root().join("target/release/patina"),
        PathBuf::from,
    );
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: run `cargo build --release -p patina-cli` first (or set PATINA_BIN)",
            bin.display()
        ));
    }
    Patina::try_start_binary(&bin, &["--durability", durability])
        .await
        .map_err(|e| e.to_string())
}
