//! Local clusters of real `patina agent` processes: how fast a write
//! reaches every node, how much write load the cluster sustains and how far
//! replication lags under it, how long a healed partition takes to
//! converge, how fast a new node catches up, and what an idle node costs.
//!
//! ```text
//! cargo build --release -p patina-cli
//! cp target/release/patina /tmp/patina-bench-bin
//! PATINA_BIN=/tmp/patina-bench-bin cargo bench -p patina-tests --bench cluster
//! ```
//! (without `PATINA_BIN` it runs `target/release/patina`). Nodes run on
//! loopback addresses of their own (`patina_tests::Cluster`), in normal
//! durability, with the default replication settings. The bench process
//! drives every client from one thread.
//!
//! Per cluster size (env `CLUSTER_SIZES`, default `3,10,30`), one cluster
//! runs, in order (after the tables exist on every node, one row per node
//! has spread, and every node's log shows every other node up):
//! 1. idle (fresh), over `CLUSTER_IDLE_SECS` (default 5) after a settle
//!    pause (`CLUSTER_SETTLE_SECS`, default 3): resident memory of every
//!    node (VmRSS, with RssAnon/RssFile/Pss), gossip traffic each node
//!    receives (nftables counters on its address: UDP only, IP bytes) and
//!    CPU time (/proc/<pid>/stat);
//! 2. propagation: `CLUSTER_RATE` single-row INSERTs per second (default
//!    100, open loop: each goes out on schedule, whether or not the earlier
//!    ones were acknowledged) for `CLUSTER_PROP_SECS` (default 5), each on
//!    the next node in turn; one observer connection per node polls a prepared
//!    `SELECT seq FROM probe WHERE seq >= $1` while a probe is missing
//!    there. Latency runs from the writer's commit acknowledgement to the
//!    row's visibility on the last node, estimated as the middle of the
//!    window between the last poll that did not show it and the first that
//!    did (see `cluster/probes.rs`; the upper bounds are printed too).
//!    Observer polls share a budget of `CLUSTER_POLL_BUDGET` queries/s
//!    across the nodes (default 4000: a poll every 1 ms per node at 3
//!    nodes, 2.5 ms at 10, 7.5 ms at 30; tokio's timer makes the real gaps
//!    longer, and they are printed), so the observers do not eat the two
//!    cores;
//! 3. throughput: `CLUSTER_WRITERS` clients (default 4, client c on node
//!    c mod N) INSERT single rows as fast as they can for
//!    `CLUSTER_TPUT_SECS` (default 5) while a probe row goes in every
//!    20 ms on rotating nodes (open loop, counted in the transactions);
//!    replication lag = the probes' commit → visible-everywhere latency;
//!    drain = time from the end of the load until every node holds every
//!    row;
//! 4. partition: the harness's nftables `Partition` (UDP, i.e. all
//!    gossip, dropped between the halves) splits the nodes in two halves;
//!    each half writes `CLUSTER_SPLIT_ROWS` (default 20,000) rows of its
//!    own in transactions of 1,000 and converges internally; then healed.
//!    A short round first (healed at once), then `CLUSTER_PARTITION_ROUNDS`
//!    (default 3) long ones, held until every node logged a member of the
//!    other half down (SWIM noticed; `CLUSTER_WAIT_DOWN=0` skips them).
//!    Reported per round: heal → a row of the other half on every node,
//!    heal → every node holds both halves' rows; between rounds the bench
//!    waits until membership is whole again (and reports when it was);
//! 5. idle (after): like 1, on the cluster now holding everyone's data.
//!
//! Then a second, fresh cluster of the same size takes
//! `CLUSTER_CATCHUP_ROWS` (default 100,000) rows from node 0 in
//! transactions of 5,000, spreads them to every node, and a new empty
//! node (its table created while alone, then restarted bootstrapping from
//! node 0) joins: catch-up rate = rows / time from its restart until it
//! holds them all (also: time to its first row, and the rate after it).
//!
//! `CLUSTER_PHASES` (comma-separated from `idle,propagation,throughput,
//! partition,catchup`) runs a subset; `CLUSTER_LOG_DIR` keeps every node's
//! log there. Nodes inherit the bench's environment (`RUST_LOG`,
//! `MALLOC_ARENA_MAX`, …); without `RUST_LOG` they log at `info` plus
//! `patina_replication::core::node=debug` (the "member up" lines the bench
//! reads). No assertion: it measures and prints a Markdown
//! table with the targets, then details. Every wait has a deadline; the
//! nodes are killed when their cluster drops (also on error or panic).
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

#[path = "cluster/mod.rs"]
mod support;

use std::cell::Cell;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use patina_tests::tokio_postgres::{Client, Statement};
use patina_tests::{
    Cluster, ClusterOptions, NodeOptions, Partition, describe_error, try_connect_to, workspace_root,
};

use support::nft::{self, NetCounters};
use support::probes::{ProbeStats, Tracker};
use support::procfs::{self, CpuMeter, CpuUse};
use support::stats::{bytes, count, dur, max, mean, opt_dur, pct};

const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the probes may take to show up everywhere after the last one.
const PROBE_DRAIN: Duration = Duration::from_secs(20);
/// Bound on waiting for rows to spread (loads, drains, heals, catch-up).
const SPREAD_DEADLINE: Duration = Duration::from_secs(180);
/// Bound on SWIM noticing the partition.
const DOWN_DEADLINE: Duration = Duration::from_secs(45);
/// Bound on every node seeing every other up (at start, after a heal).
const MEMBERSHIP_DEADLINE: Duration = Duration::from_secs(90);
const SPLIT_BATCH: i64 = 1_000;
const CATCHUP_BATCH: i64 = 5_000;
const TPUT_PROBE_EVERY: Duration = Duration::from_millis(20);

const TABLES: &str = "CREATE TABLE IF NOT EXISTS probe (seq BIGINT PRIMARY KEY, origin INT); \
     CREATE TABLE IF NOT EXISTS bulk (id BIGINT PRIMARY KEY, v TEXT, n INT); \
     CREATE TABLE IF NOT EXISTS split (k BIGINT PRIMARY KEY, v TEXT)";
const CATCHUP_TABLE: &str = "CREATE TABLE IF NOT EXISTS kv (k BIGINT PRIMARY KEY, v TEXT)";

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
    // The nodes inherit the bench's environment, and the harness reads
    // PATINA_BIN (default: the debug build). Without PATINA_BIN (→ the
    // release build) or RUST_LOG (→ NODE_LOG, for the membership lines the
    // bench reads in the nodes' logs), the bench runs itself again with
    // them set: setting variables in-process needs `unsafe`.
    if std::env::var_os(CHILD_MARK).is_none()
        && (std::env::var_os("PATINA_BIN").is_none() || std::env::var_os("RUST_LOG").is_none())
    {
        let code = runtime.block_on(run_as_child());
        std::process::exit(code);
    }
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = run() => result,
            () = shutdown_signal() => Err("interrupted; every node was stopped".to_owned()),
        }
    });
    if let Err(e) = outcome {
        eprintln!("cluster bench: {e}");
        std::process::exit(1);
    }
}

/// Marks the bench's second run (see `main`).
const CHILD_MARK: &str = "PATINA_CLUSTER_BENCH_CHILD";
/// The nodes' log filter unless RUST_LOG says otherwise: info, plus the
/// membership changes ("member up") the bench waits on.
const NODE_LOG: &str = "info,patina_replication::core::node=debug";

/// Runs this bench again with PATINA_BIN and RUST_LOG set, forwarding
/// SIGINT/SIGTERM to it (so it stops its nodes); returns its exit code.
async fn run_as_child() -> i32 {
    let mut command = match std::env::current_exe() {
        Ok(exe) => std::process::Command::new(exe),
        Err(e) => {
            eprintln!("cluster bench: cannot find its own executable: {e}");
            return 1;
        }
    };
    command
        .args(std::env::args_os().skip(1))
        .env(CHILD_MARK, "1");
    if std::env::var_os("PATINA_BIN").is_none() {
        command.env("PATINA_BIN", workspace_root().join("target/release/patina"));
    }
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", NODE_LOG);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cluster bench: cannot run itself again: {e}");
            return 1;
        }
    };
    loop {
        tokio::select! {
            () = shutdown_signal() => {
                // SIGTERM: the child stops its nodes and exits
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        match child.try_wait() {
            Ok(Some(status)) => return status.code().unwrap_or(1),
            Ok(None) => {}
            Err(e) => {
                eprintln!("cluster bench: waiting for its second run: {e}");
                return 1;
            }
        }
    }
}

/// Resolves at SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

// ---------------------------------------------------------------- settings

#[derive(Debug, Clone)]
struct Settings {
    sizes: Vec<usize>,
    phases: Vec<String>,
    rate: f64,
    prop_secs: f64,
    writers: usize,
    tput_secs: f64,
    split_rows: i64,
    catchup_rows: i64,
    idle_secs: f64,
    settle_secs: f64,
    poll_budget: f64,
    wait_down: bool,
    partition_rounds: usize,
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Settings {
        let list = |name: &str, default: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_else(|_| default.to_owned())
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Settings {
            sizes: list("CLUSTER_SIZES", "3,10,30")
                .iter()
                .filter_map(|s| s.parse().ok())
                .filter(|n| (2..=250).contains(n))
                .collect(),
            phases: list(
                "CLUSTER_PHASES",
                "idle,propagation,throughput,partition,catchup",
            ),
            rate: env("CLUSTER_RATE", 100.0f64).max(1.0),
            prop_secs: env("CLUSTER_PROP_SECS", 5.0f64).max(0.5),
            writers: env("CLUSTER_WRITERS", 4usize).max(1),
            tput_secs: env("CLUSTER_TPUT_SECS", 5.0f64).max(0.5),
            split_rows: env("CLUSTER_SPLIT_ROWS", 20_000i64).max(SPLIT_BATCH),
            catchup_rows: env("CLUSTER_CATCHUP_ROWS", 100_000i64).max(CATCHUP_BATCH),
            idle_secs: env("CLUSTER_IDLE_SECS", 5.0f64).max(1.0),
            settle_secs: env("CLUSTER_SETTLE_SECS", 3.0f64).max(0.0),
            poll_budget: env("CLUSTER_POLL_BUDGET", 4000.0f64).max(100.0),
            wait_down: env("CLUSTER_WAIT_DOWN", 1u8) != 0,
            partition_rounds: env("CLUSTER_PARTITION_ROUNDS", 3usize),
        }
    }

    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }

    /// The observers' poll interval at `n` nodes: the budget spread over
    /// the nodes, at least 1 ms.
    fn poll(&self, n: usize) -> Duration {
        Duration::from_secs_f64((n as f64 / self.poll_budget).max(0.001))
    }
}

fn progress(what: &str) {
    eprintln!("[cluster bench] {what}");
}

// ----------------------------------------------------------------- results

#[derive(Debug, Default)]
struct SizeReport {
    n: usize,
    started_in: Option<Duration>,
    /// Setup done → every node sees every other up.
    membership_in: Option<Duration>,
    idle_fresh: Option<Result<Idle, String>>,
    propagation: Option<Result<Propagation, String>>,
    throughput: Option<Result<Throughput, String>>,
    partition: Option<Result<Heal, String>>,
    idle_after: Option<Result<Idle, String>>,
    catchup: Option<Result<Catchup, String>>,
    notes: Vec<String>,
}

#[derive(Debug)]
struct Idle {
    secs: f64,
    rss: Vec<f64>,
    rss_anon: Vec<f64>,
    rss_file: Vec<f64>,
    pss: Vec<f64>,
    /// CPU used, fraction of one core.
    cpu: Vec<f64>,
    /// Per node: packets/s and bytes/s received over UDP (gossip).
    net: Result<Vec<(f64, f64)>, String>,
    rows_held: i64,
    machine: CpuUse,
}

#[derive(Debug)]
struct Propagation {
    stats: ProbeStats,
    rate: f64,
    poll: Duration,
    /// Gossip packets and bytes received by all nodes, per probe.
    net_per_probe: Option<(f64, f64)>,
    cpu: CpuUse,
}

#[derive(Debug)]
struct Throughput {
    writers: usize,
    secs: f64,
    bulk_rows: i64,
    transactions: u64,
    bulk_latency: Vec<Duration>,
    stats: ProbeStats,
    drain: Result<Duration, String>,
    /// Gossip packets and bytes received by all nodes per committed
    /// transaction, from the start of the load to the end of the drain.
    net_per_tx: Option<(f64, f64)>,
    /// Over the load (not the drain).
    cpu: CpuUse,
}

#[derive(Debug)]
struct Heal {
    sides: (usize, usize),
    rows_per_side: i64,
    /// The short round first, then the long ones.
    rounds: Vec<HealRound>,
}

impl Heal {
    fn long(&self) -> impl Iterator<Item = &HealRound> {
        self.rounds.iter().filter(|r| r.long)
    }

    fn short(&self) -> Option<&HealRound> {
        self.rounds.iter().find(|r| !r.long)
    }
}

#[derive(Debug)]
struct HealRound {
    /// Held until SWIM noticed (else healed as soon as each half held its
    /// rows).
    long: bool,
    written_in: Duration,
    sides_converged_in: Duration,
    noticed: Result<Duration, String>,
    held: Duration,
    /// Heal → every node holds at least one row of the other half.
    first_cross: Result<Duration, String>,
    /// Heal → every node holds both halves.
    converged: Result<Duration, String>,
    healed_at: Instant,
    /// Heal → every node's log shows every other node up again.
    membership: Result<Duration, String>,
    /// Gossip bytes received per row delivered: inside the halves (from
    /// the split to their convergence), and from the heal to convergence.
    bytes_inside: Option<f64>,
    bytes_heal: Option<f64>,
}

#[derive(Debug)]
struct Catchup {
    rows: i64,
    loaded_in: Duration,
    spread_in: Result<Duration, String>,
    /// Restart → accepting connections.
    ready: Duration,
    /// Restart → first row / all rows.
    first_row: Result<Duration, String>,
    done: Result<Duration, String>,
    rss_after: Option<f64>,
    /// From accepting connections to holding every row: the new node's
    /// CPU seconds, and every node's with the bench's.
    new_node_cpu: Option<f64>,
    cpu: Option<CpuUse>,
    /// Gossip bytes received per row delivered: while the load spread
    /// (rows × (n − 1) deliveries), and by the new node while catching up.
    spread_bytes: Option<f64>,
    catchup_bytes: Option<f64>,
}

impl Catchup {
    fn rate(&self) -> Option<f64> {
        self.done
            .as_ref()
            .ok()
            .map(|d| self.rows as f64 / d.as_secs_f64())
    }

    /// Rows/s from the first row received to the last.
    fn transfer_rate(&self) -> Option<f64> {
        let (Ok(first), Ok(done)) = (&self.first_row, &self.done) else {
            return None;
        };
        let span = done.saturating_sub(*first).as_secs_f64();
        (span > 0.0).then(|| self.rows as f64 / span)
    }
}

// --------------------------------------------------------------------- run

async fn run() -> Result<(), String> {
    let settings = Settings::from_env();
    let bin = PathBuf::from(std::env::var_os("PATINA_BIN").unwrap_or_default());
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: run `cargo build --release -p patina-cli` first (or set PATINA_BIN)",
            bin.display()
        ));
    }
    if bin.to_string_lossy().contains("/debug/") {
        progress(&format!(
            "warning: {} looks like a debug build",
            bin.display()
        ));
    }
    if settings.sizes.is_empty() {
        return Err("CLUSTER_SIZES names no size between 2 and 250".to_owned());
    }
    progress(&format!("binary {}; settings {settings:?}", bin.display()));
    let started = Instant::now();
    let mut reports = Vec::new();
    for &n in &settings.sizes {
        let t = Instant::now();
        let report = bench_size(&settings, n).await;
        progress(&format!("{n} nodes done in {:.1?}", t.elapsed()));
        reports.push(report);
    }
    print_report(&settings, &reports, started.elapsed());
    Ok(())
}

/// Runs `phase`, turning a panic (the harness panics on failures) into an
/// error; whatever the phase owned is dropped (nodes killed) either way.
async fn guarded<T>(
    what: &str,
    phase: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    let result = match std::panic::AssertUnwindSafe(phase).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .map_or_else(
                || "panicked".to_owned(),
                |m| format!("panicked: {}", first_line(&m)),
            )),
    };
    if let Err(e) = &result {
        progress(&format!("{what} failed: {e}"));
    }
    result
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.len() > 300 {
        let end = (0..=300)
            .rev()
            .find(|i| line.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}…", &line[..end])
    } else {
        line.to_owned()
    }
}

async fn bench_size(settings: &Settings, n: usize) -> SizeReport {
    let mut report = SizeReport {
        n,
        ..SizeReport::default()
    };
    let main_phases = ["idle", "propagation", "throughput", "partition"];
    if main_phases.iter().any(|p| settings.runs(p)) {
        progress(&format!("{n} nodes: starting the cluster"));
        let t = Instant::now();
        match guarded("starting the cluster", async {
            Ok(Cluster::start(n, ClusterOptions::default()).await)
        })
        .await
        {
            Ok(cluster) => {
                report.started_in = Some(t.elapsed());
                main_cluster(settings, &cluster, &mut report).await;
                keep_logs(&cluster, "main");
                progress(&format!("{n} nodes: stopping the cluster"));
                drop(cluster);
            }
            Err(e) => report.notes.push(format!("the cluster did not start: {e}")),
        }
    }
    if settings.runs("catchup") {
        report.catchup = Some(guarded("catch-up", catchup(settings, n)).await);
    }
    report
}

async fn main_cluster(settings: &Settings, cluster: &Cluster, report: &mut SizeReport) {
    let n = cluster.len();
    let ready = guarded("creating the tables", async {
        for i in 0..n {
            cluster.try_query(i, TABLES).await?;
        }
        // one row from every node, seen everywhere: every site has a
        // version and gossip works between all of them
        for i in 0..n {
            cluster
                .try_query(
                    i,
                    &format!(
                        "INSERT INTO probe (seq, origin) VALUES ({}, {i})",
                        -(i as i64) - 1
                    ),
                )
                .await?;
        }
        let clients = connect_all(cluster).await?;
        let t = Instant::now();
        watch_counts(
            &clients,
            "SELECT count(*) FROM probe",
            &[n as i64],
            SPREAD_DEADLINE,
            Duration::from_millis(50),
        )
        .await?;
        progress(&format!(
            "{n} nodes: one row per node everywhere after {:.2?}",
            t.elapsed()
        ));
        Ok(())
    })
    .await;
    if let Err(e) = ready {
        report.notes.push(format!("setup failed: {e}"));
        return;
    }
    // membership whole (by the nodes' logs) before measuring; not fatal
    match wait_membership(cluster, MEMBERSHIP_DEADLINE).await {
        Ok(full) => {
            progress(&format!(
                "{n} nodes: every node sees every other up {full:.2?} later"
            ));
            report.membership_in = Some(full);
        }
        Err(e) => report.notes.push(e),
    }
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let net = match NetCounters::new(&ips) {
        Ok(net) => Some(net),
        Err(e) => {
            report.notes.push(format!(
                "no network counters (needs nft as root): {}",
                first_line(&e)
            ));
            None
        }
    };
    let net = net.as_ref();
    tokio::time::sleep(Duration::from_secs_f64(settings.settle_secs)).await;

    if settings.runs("idle") {
        progress(&format!(
            "{n} nodes: idle (fresh) for {}s",
            settings.idle_secs
        ));
        report.idle_fresh = Some(guarded("idle", idle(cluster, net, settings.idle_secs, 0)).await);
    }
    if settings.runs("propagation") {
        progress(&format!(
            "{n} nodes: propagation, {} writes/s for {}s",
            settings.rate, settings.prop_secs
        ));
        report.propagation =
            Some(guarded("propagation", propagation(settings, cluster, net)).await);
    }
    let mut rows_held = n as i64;
    if let Some(Ok(p)) = &report.propagation {
        rows_held += p.stats.probes as i64;
    }
    if settings.runs("throughput") {
        progress(&format!(
            "{n} nodes: throughput, {} writers for {}s",
            settings.writers, settings.tput_secs
        ));
        report.throughput = Some(guarded("throughput", throughput(settings, cluster, net)).await);
        if let Some(Ok(t)) = &report.throughput {
            rows_held += t.transactions as i64;
        }
    }
    if settings.runs("partition") {
        match Partition::available() {
            Err(why) => report.partition = Some(Err(format!("skipped: {why}"))),
            Ok(()) => {
                progress(&format!(
                    "{n} nodes: partition with {} rows per side",
                    settings.split_rows
                ));
                report.partition =
                    Some(guarded("partition", partition(settings, cluster, net)).await);
                if let Some(Ok(h)) = &report.partition {
                    rows_held += 2 * h.rows_per_side * h.rounds.len() as i64;
                }
            }
        }
    }
    if settings.runs("idle") {
        tokio::time::sleep(Duration::from_secs_f64(settings.settle_secs)).await;
        progress(&format!(
            "{n} nodes: idle (after the workloads) for {}s",
            settings.idle_secs
        ));
        report.idle_after = Some(
            guarded(
                "idle after",
                idle(cluster, net, settings.idle_secs, rows_held),
            )
            .await,
        );
    }
}

// ----------------------------------------------------------------- helpers

async fn connect(cluster: &Cluster, i: usize) -> Result<Client, String> {
    let addr = cluster.pg_addr(i);
    try_connect_to(addr)
        .await
        .map_err(|e| format!("node {i}: connecting to {addr}: {}", describe_error(&e)))
}

async fn connect_all(cluster: &Cluster) -> Result<Vec<Client>, String> {
    let mut clients = Vec::new();
    for i in 0..cluster.len() {
        clients.push(connect(cluster, i).await?);
    }
    Ok(clients)
}

/// `sql` prepared on each client, in order.
async fn prepare_all(clients: &[Client], sql: &str) -> Result<Vec<Statement>, String> {
    let mut statements = Vec::with_capacity(clients.len());
    for (i, client) in clients.iter().enumerate() {
        statements
            .push(bounded(|| format!("node {i}: preparing {sql}"), client.prepare(sql)).await?);
    }
    Ok(statements)
}

async fn bounded<T>(
    what: impl FnOnce() -> String,
    query: impl Future<Output = Result<T, patina_tests::tokio_postgres::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(QUERY_TIMEOUT, query).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{}: {}", what(), describe_error(&e))),
        Err(_) => Err(format!("{}: no answer within {QUERY_TIMEOUT:?}", what())),
    }
}

/// Polls `sql` (one bigint) on every client every `poll` until it reached
/// each of `thresholds` (ascending) there; per node and threshold, how
/// long after the call that took. Errors when the deadline passes.
async fn watch_counts(
    clients: &[Client],
    sql: &str,
    thresholds: &[i64],
    deadline: Duration,
    poll: Duration,
) -> Result<Vec<Vec<Duration>>, String> {
    let start = Instant::now();
    let last_seen: Vec<Cell<i64>> = clients.iter().map(|_| Cell::new(-1)).collect();
    let watches = clients.iter().enumerate().map(|(i, client)| {
        let last_seen = &last_seen[i];
        async move {
            let statement =
                bounded(|| format!("node {i}: preparing {sql}"), client.prepare(sql)).await?;
            let mut reached = Vec::new();
            loop {
                let asked = Instant::now();
                let row = bounded(
                    || format!("node {i}: {sql}"),
                    client.query_one(&statement, &[]),
                )
                .await?;
                let value: i64 = row.get(0);
                last_seen.set(value);
                let at = (asked + asked.elapsed() / 2).saturating_duration_since(start);
                while reached.len() < thresholds.len() && value >= thresholds[reached.len()] {
                    reached.push(at);
                }
                if reached.len() == thresholds.len() {
                    return Ok::<_, String>(reached);
                }
                if start.elapsed() > deadline {
                    return Err(format!(
                        "node {i}: `{sql}` answered {value}, not yet {} after {deadline:?}",
                        thresholds[reached.len()]
                    ));
                }
                tokio::time::sleep(poll).await;
            }
        }
    });
    let results = futures::future::join_all(watches).await;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        let seen: Vec<String> = last_seen.iter().map(|c| c.get().to_string()).collect();
        Err(format!(
            "{} (values seen per node: {})",
            errors.join("; "),
            seen.join(", ")
        ))
    }
}

/// The latest time per threshold over the nodes.
fn slowest(per_node: &[Vec<Duration>], threshold: usize) -> Duration {
    per_node
        .iter()
        .filter_map(|t| t.get(threshold))
        .copied()
        .max()
        .unwrap_or_default()
}

/// Copies every node's log to `CLUSTER_LOG_DIR` (if set), as
/// `<n>nodes-<what>-node<i>.log`.
fn keep_logs(cluster: &Cluster, what: &str) {
    let Some(dir) = std::env::var_os("CLUSTER_LOG_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        progress(&format!("cannot create {}: {e}", dir.display()));
        return;
    }
    let n = cluster.len();
    for i in 0..n {
        let to = dir.join(format!("{n}nodes-{what}-node{i}.log"));
        if let Err(e) = std::fs::copy(cluster.node(i).log_path(), &to) {
            progress(&format!(
                "cannot copy node {i}'s log to {}: {e}",
                to.display()
            ));
        }
    }
}

/// The pid of every node.
fn node_pids(cluster: &Cluster) -> Result<Vec<u32>, String> {
    let mut pids = Vec::new();
    for i in 0..cluster.len() {
        let data_dir = cluster.node(i).data_dir();
        pids.push(
            procfs::pid_of(&data_dir)
                .ok_or_else(|| format!("no process runs {}", data_dir.display()))?,
        );
    }
    Ok(pids)
}

fn cpu_line(cpu: &CpuUse) -> String {
    let cpus = cpu.cpus.max(1) as f64;
    format!(
        "CPU: nodes {:.2} s + bench {:.2} s over {:.2} s wall = {:.0}% of the {} CPUs{}",
        cpu.nodes,
        cpu.bench,
        cpu.wall,
        (cpu.nodes + cpu.bench) / cpu.wall / cpus * 100.0,
        cpu.cpus,
        cpu.others().map_or_else(String::new, |o| format!(
            "; other processes on the machine used {:.0}%",
            o / cpu.wall / cpus * 100.0
        )),
    )
}

/// Other processes' share of the machine during a phase, in %.
fn others_share(cpu: &CpuUse) -> Option<f64> {
    cpu.others()
        .map(|o| o / cpu.wall / cpu.cpus.max(1) as f64 * 100.0)
}

fn total_bytes(net: Option<&NetCounters>) -> Option<nft::Snapshot> {
    net.and_then(|net| net.snapshot().ok())
}

/// Gossip (packets, bytes) received by all nodes between two snapshots.
fn traffic_between(
    before: &Option<nft::Snapshot>,
    after: &Option<nft::Snapshot>,
    ips: &[IpAddr],
) -> Option<(f64, f64)> {
    let (Some(before), Some(after)) = (before, after) else {
        return None;
    };
    Some(
        nft::delta(before, after, ips)
            .iter()
            .fold((0.0, 0.0), |(p, b), (dp, db)| {
                (p + *dp as f64, b + *db as f64)
            }),
    )
}

fn traffic(what: &str, t: Option<(f64, f64)>) -> String {
    t.map_or_else(String::new, |(p, b)| {
        format!(
            "; gossip received per {what}, all nodes: {:.0} packets, {}",
            p,
            bytes(b)
        )
    })
}

/// Latency histogram of (probe, other node) pairs, and the share of
/// probes slower than 50 ms on their last node.
fn spread(s: &ProbeStats) -> String {
    let edges = [5u64, 20, 50, 200, 1000];
    let mut counts = [0usize; 6];
    for d in &s.per_node {
        let ms = d.as_millis() as u64;
        counts[edges.iter().position(|e| ms < *e).unwrap_or(edges.len())] += 1;
    }
    let total = s.per_node.len().max(1) as f64;
    let labels = [
        "< 5 ms",
        "5–20 ms",
        "20–50 ms",
        "50–200 ms",
        "0.2–1 s",
        "≥ 1 s",
    ];
    let hist: Vec<String> = labels
        .iter()
        .zip(counts)
        .map(|(l, c)| format!("{l} {:.1}%", c as f64 / total * 100.0))
        .collect();
    let late = s
        .all_nodes
        .iter()
        .filter(|d| **d >= Duration::from_millis(50))
        .count();
    format!(
        "(probe, other node) pairs: {}; probes not on every node within 50 ms: {:.1}%",
        hist.join(", "),
        late as f64 / s.all_nodes.len().max(1) as f64 * 100.0
    )
}

// -------------------------------------------------------------------- idle

async fn idle(
    cluster: &Cluster,
    net: Option<&NetCounters>,
    secs: f64,
    rows_held: i64,
) -> Result<Idle, String> {
    let n = cluster.len();
    let pids = node_pids(cluster)?;
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let net_before = net.map(NetCounters::snapshot);
    let cpu_before: Vec<Option<f64>> = pids.iter().map(|p| procfs::cpu_seconds(*p)).collect();
    let meter = CpuMeter::start(pids.clone());
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let elapsed = t.elapsed().as_secs_f64();
    let machine = meter.stop();
    let net_after = net.map(NetCounters::snapshot);
    let cpu: Vec<f64> = pids
        .iter()
        .zip(&cpu_before)
        .map(|(p, before)| match (before, procfs::cpu_seconds(*p)) {
            (Some(b), Some(a)) => (a - b) / elapsed,
            _ => f64::NAN,
        })
        .collect();
    let net = match (net_before, net_after) {
        (Some(Ok(before)), Some(Ok(after))) => Ok(nft::delta(&before, &after, &ips)
            .into_iter()
            .map(|(p, b)| (p as f64 / elapsed, b as f64 / elapsed))
            .collect()),
        (Some(Err(e)), _) | (_, Some(Err(e))) => Err(e),
        _ => Err("no nftables counters".to_owned()),
    };
    let mut rss = Vec::new();
    let mut rss_anon = Vec::new();
    let mut rss_file = Vec::new();
    let mut pss = Vec::new();
    for p in &pids {
        rss.push(procfs::rss(*p).ok_or_else(|| format!("no VmRSS for pid {p}"))? as f64);
        rss_anon.push(procfs::rss_anon(*p).unwrap_or(0) as f64);
        rss_file.push(procfs::rss_file(*p).unwrap_or(0) as f64);
        pss.push(procfs::pss(*p).unwrap_or(0) as f64);
    }
    Ok(Idle {
        secs: elapsed,
        rss,
        rss_anon,
        rss_file,
        pss,
        cpu,
        net,
        rows_held,
        machine,
    })
}

// ------------------------------------------------------------- propagation

async fn propagation(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
) -> Result<Propagation, String> {
    let n = cluster.len();
    let writers = connect_all(cluster).await?;
    let observers = connect_all(cluster).await?;
    let tracker = Tracker::new("probe", 1, n);
    let inserts = prepare_all(&writers, &tracker.insert_sql()).await?;
    let poll = settings.poll(n);
    let count = (settings.rate * settings.prop_secs).round().max(1.0) as usize;
    let period = Duration::from_secs_f64(1.0 / settings.rate);
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let before = total_bytes(net);
    let meter = CpuMeter::start(node_pids(cluster)?);

    let write = async {
        let t0 = Instant::now();
        let result = write_probes(&tracker, &writers, &inserts, period, count).await;
        tracker.finish(PROBE_DRAIN);
        result.map(|written| written as f64 / t0.elapsed().as_secs_f64())
    };
    let observe = futures::future::join_all(
        observers
            .iter()
            .enumerate()
            .map(|(i, c)| tracker.observe(i, c, poll)),
    );
    let (rate, observed) = tokio::join!(write, observe);
    let cpu = meter.stop();
    let rate = rate?;
    for o in observed {
        o?;
    }
    let after = total_bytes(net);
    let stats = tracker.stats();
    let per = stats.probes.max(1) as f64;
    let net_per_probe = traffic_between(&before, &after, &ips).map(|(p, b)| (p / per, b / per));
    progress(&format!(
        "  all nodes p50 {} p99 {} max {}; one hop p50 {}; missing {}",
        opt_dur(pct(&stats.all_nodes, 0.5)),
        opt_dur(pct(&stats.all_nodes, 0.99)),
        opt_dur(stats.all_nodes.last().copied()),
        opt_dur(pct(&stats.first_remote, 0.5)),
        stats.missing
    ));
    Ok(Propagation {
        stats,
        rate,
        poll,
        net_per_probe,
        cpu,
    })
}

/// Writes `count` probes, one every `period` on the next node in turn,
/// open loop: each INSERT goes out on schedule whether or not the earlier
/// ones were acknowledged (at most one in flight per node connection is
/// typical; more are pipelined). Returns how many were written.
async fn write_probes(
    tracker: &Tracker,
    writers: &[Client],
    inserts: &[Statement],
    period: Duration,
    count: usize,
) -> Result<usize, String> {
    let n = writers.len();
    let t0 = tokio::time::Instant::now();
    let mut in_flight = FuturesUnordered::new();
    for k in 0..count {
        let at = t0 + period * k as u32;
        // acknowledge what completes while waiting for the next slot
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(at) => break,
                Some(done) = in_flight.next(), if !in_flight.is_empty() => done?,
            }
        }
        let origin = k % n;
        let (idx, seq) = tracker.begin(origin);
        let client = &writers[origin];
        let insert = &inserts[origin];
        in_flight.push(async move {
            let origin_col = origin as i32;
            bounded(
                || format!("node {origin}: probe insert"),
                client.execute(insert, &[&seq, &origin_col]),
            )
            .await?;
            tracker.acked(idx, Instant::now());
            Ok::<_, String>(())
        });
    }
    while let Some(done) = in_flight.next().await {
        done?;
    }
    Ok(count)
}

// -------------------------------------------------------------- throughput

async fn throughput(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
) -> Result<Throughput, String> {
    let n = cluster.len();
    let probe_writers = connect_all(cluster).await?;
    let observers = connect_all(cluster).await?;
    let counters = connect_all(cluster).await?;
    let tracker = Tracker::new("probe", 1_000_000_000, n);
    let probe_inserts = prepare_all(&probe_writers, &tracker.insert_sql()).await?;
    let mut bulk = Vec::new();
    for c in 0..settings.writers {
        let node = c % n;
        let client = connect(cluster, node).await?;
        let statement = bounded(
            || format!("node {node}: prepare"),
            client.prepare("INSERT INTO bulk (id, v, n) VALUES ($1, $2, $3)"),
        )
        .await?;
        bulk.push((node, client, statement));
    }
    let poll = settings.poll(n);
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let next_id = Cell::new(1i64);
    let load_for = Duration::from_secs_f64(settings.tput_secs);
    let before = total_bytes(net);
    let meter = CpuMeter::start(node_pids(cluster)?);
    let t0 = Instant::now();
    let end = t0 + load_for;

    let writers = bulk.iter().map(|(node, client, statement)| {
        let next_id = &next_id;
        async move {
            let mut latencies = Vec::new();
            while Instant::now() < end {
                let id = next_id.get();
                next_id.set(id + 1);
                let v = format!("row {id} from node {node}");
                let m = (id % 1000) as i32;
                let t = Instant::now();
                bounded(
                    || format!("node {node}: bulk insert"),
                    client.execute(statement, &[&id, &v, &m]),
                )
                .await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, String>(latencies)
        }
    });
    let probes = async {
        let count = (load_for.as_secs_f64() / TPUT_PROBE_EVERY.as_secs_f64()) as usize;
        let result = write_probes(
            &tracker,
            &probe_writers,
            &probe_inserts,
            TPUT_PROBE_EVERY,
            count,
        )
        .await;
        tracker.finish(PROBE_DRAIN);
        result
    };
    let observe = futures::future::join_all(
        observers
            .iter()
            .enumerate()
            .map(|(i, c)| tracker.observe(i, c, poll)),
    );
    let load = async {
        let (bulk_results, probes) = tokio::join!(futures::future::join_all(writers), probes);
        let loaded_in = t0.elapsed();
        let cpu = meter.stop();
        let mut latencies = Vec::new();
        for r in bulk_results {
            latencies.extend(r?);
        }
        let probes = probes?;
        let bulk_rows = latencies.len() as i64;
        progress(&format!(
            "  {bulk_rows} rows + {probes} probes in {loaded_in:.2?}; waiting for the drain"
        ));
        // every committed bulk row on every node
        let drain = watch_counts(
            &counters,
            "SELECT count(*) FROM bulk",
            &[bulk_rows],
            SPREAD_DEADLINE,
            Duration::from_millis((n as u64 * 5).max(50)),
        )
        .await
        .map(|per_node| slowest(&per_node, 0));
        Ok::<_, String>((latencies, probes, loaded_in, drain, cpu))
    };
    let (load, observed) = tokio::join!(load, observe);
    let (mut bulk_latency, probes, loaded_in, drain, cpu) = load?;
    for o in observed {
        o?;
    }
    let after = total_bytes(net);
    bulk_latency.sort();
    let bulk_rows = bulk_latency.len() as i64;
    let transactions = bulk_rows as u64 + probes as u64;
    let stats = tracker.stats();
    progress(&format!(
        "  {:.0} tx/s; lag p50 {} p99 {}; drain {}",
        transactions as f64 / loaded_in.as_secs_f64(),
        opt_dur(pct(&stats.all_nodes, 0.5)),
        opt_dur(pct(&stats.all_nodes, 0.99)),
        match &drain {
            Ok(d) => dur(*d),
            Err(e) => e.clone(),
        }
    ));
    Ok(Throughput {
        writers: settings.writers,
        secs: loaded_in.as_secs_f64(),
        bulk_rows,
        transactions,
        bulk_latency,
        stats,
        drain,
        net_per_tx: traffic_between(&before, &after, &ips).map(|(p, b)| {
            let per = transactions.max(1) as f64;
            (p / per, b / per)
        }),
        cpu,
    })
}

// --------------------------------------------------------------- partition

async fn partition(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
) -> Result<Heal, String> {
    let n = cluster.len();
    let side_a: Vec<usize> = (0..n / 2).collect();
    let side_b: Vec<usize> = (n / 2..n).collect();
    let clients = connect_all(cluster).await?;
    let mut rounds = Vec::new();
    // a short split first (healed as soon as each half holds its rows,
    // before SWIM declares the other half down), then the long ones
    let long_rounds = if settings.wait_down {
        settings.partition_rounds
    } else {
        0
    };
    for r in 0..=long_rounds {
        let mut round =
            heal_round(settings, cluster, net, &clients, &side_a, &side_b, r, r > 0).await?;
        // membership whole again (SWIM re-admitted the halves) before the
        // next round, and how long after the heal that took
        round.membership = wait_membership(cluster, MEMBERSHIP_DEADLINE)
            .await
            .map(|_| round.healed_at.elapsed());
        progress(&format!(
            "  round {r}: membership whole again {} after the heal",
            round
                .membership
                .as_ref()
                .map_or_else(|e| e.clone(), |d| format!("{d:.2?}"))
        ));
        rounds.push(round);
        tokio::time::sleep(Duration::from_secs_f64(settings.settle_secs.min(1.0))).await;
    }
    Ok(Heal {
        sides: (side_a.len(), side_b.len()),
        rows_per_side: settings.split_rows,
        rounds,
    })
}

/// Per node of `nodes`, the others it does not see up: by its log, the
/// last "member up"/"member down" line naming their gossip address ("member
/// up" is a debug line of `patina_replication::core::node`: see
/// `NODE_LOG`).
fn membership_gaps(cluster: &Cluster, nodes: &[usize]) -> Vec<(usize, Vec<usize>)> {
    let mut gaps = Vec::new();
    for &i in nodes {
        let mut up: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
        for line in cluster.log(i).lines() {
            for (event, is_up) in [
                ("member up id=", true),
                ("member down id=", false),
                ("event=MemberUp(", true),
                ("event=MemberDown(", false),
            ] {
                if let Some(pos) = line.find(event) {
                    let id = &line[pos + event.len()..];
                    if let (Some(at), Some(hash)) = (id.find('@'), id.find('#'))
                        && at < hash
                    {
                        up.insert(id[at + 1..hash].to_owned(), is_up);
                    }
                }
            }
        }
        let missing: Vec<usize> = nodes
            .iter()
            .copied()
            .filter(|&j| j != i && up.get(&cluster.gossip_addr(j).to_string()) != Some(&true))
            .collect();
        if !missing.is_empty() {
            gaps.push((i, missing));
        }
    }
    gaps
}

/// Waits until every node's log shows every other node up.
async fn wait_membership(cluster: &Cluster, deadline: Duration) -> Result<Duration, String> {
    let nodes: Vec<usize> = (0..cluster.len()).collect();
    let logged = |i: usize| {
        let log = cluster.log(i);
        log.contains("member up id=") || log.contains("event=MemberUp(")
    };
    if !nodes.iter().any(|&i| logged(i)) {
        return Err(format!(
            "not awaited: the nodes do not log \"member up\" (RUST_LOG without {NODE_LOG:?}?)"
        ));
    }
    let t = Instant::now();
    loop {
        let gaps = membership_gaps(cluster, &nodes);
        if gaps.is_empty() {
            return Ok(t.elapsed());
        }
        if t.elapsed() > deadline {
            let shown: Vec<String> = gaps
                .iter()
                .take(5)
                .map(|(i, missing)| format!("node {i} does not see {missing:?} up"))
                .collect();
            return Err(format!(
                "membership incomplete after {deadline:?}: {}{}",
                shown.join("; "),
                if gaps.len() > 5 { "; …" } else { "" }
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Nodes of `nodes` that logged no "member down" for a node of the other
/// half since `offsets`.
fn not_noticed(
    cluster: &Cluster,
    offsets: &[usize],
    nodes: &[usize],
    side_a: &[usize],
    side_b: &[usize],
) -> Vec<usize> {
    nodes
        .iter()
        .copied()
        .filter(|&i| {
            let other = if side_a.contains(&i) { side_b } else { side_a };
            let log = cluster.log(i);
            let since = log.get(offsets[i]..).unwrap_or("");
            !since.lines().any(|line| {
                line.contains("member down")
                    && other
                        .iter()
                        .any(|j| line.contains(&format!("@{}", cluster.gossip_addr(*j))))
            })
        })
        .collect()
}

/// One partition: split, each half writes `split_rows` rows of its own
/// (keys of this round only), each half converges inside, (if `long`)
/// SWIM notices, heal, converge.
#[allow(clippy::too_many_arguments)]
async fn heal_round(
    settings: &Settings,
    cluster: &Cluster,
    net: Option<&NetCounters>,
    clients: &[Client],
    side_a: &[usize],
    side_b: &[usize],
    round: usize,
    long: bool,
) -> Result<HealRound, String> {
    let n = cluster.len();
    let rows = settings.split_rows;
    let base = round as i64 * 2 * rows;
    let count_sql = format!("SELECT count(*) FROM split WHERE k > {base}");
    let log_offsets: Vec<usize> = (0..n).map(|i| cluster.log(i).len()).collect();
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let partition = cluster.partition(side_a, side_b)?;
    let partitioned = Instant::now();
    let net_start = total_bytes(net);

    // each half writes its own rows: A keys base+1..=base+rows, B the next rows
    let write_side = |side: &[usize], first_key: i64| {
        let side = side.to_vec();
        async move {
            let mut batch = 0usize;
            let mut first = first_key;
            while first < first_key + rows {
                let last = (first + SPLIT_BATCH - 1).min(first_key + rows - 1);
                let node = side[batch % side.len()];
                let sql = format!(
                    "INSERT INTO split (k, v) WITH RECURSIVE s(x) AS \
                     (SELECT {first} UNION ALL SELECT x + 1 FROM s WHERE x < {last}) \
                     SELECT x, 'written on node {node} during partition {round}, key ' || x FROM s"
                );
                bounded(
                    || format!("node {node}: split insert"),
                    clients[node].batch_execute(&sql),
                )
                .await?;
                first = last + 1;
                batch += 1;
            }
            Ok::<_, String>(())
        }
    };
    let (a, b) = tokio::join!(
        write_side(side_a, base + 1),
        write_side(side_b, base + rows + 1)
    );
    a?;
    b?;
    let written_in = partitioned.elapsed();
    // each half converged inside (and nothing crossed)
    let t = Instant::now();
    watch_counts(
        clients,
        &count_sql,
        &[rows],
        SPREAD_DEADLINE,
        Duration::from_millis((n as u64 * 5).max(25)),
    )
    .await?;
    let sides_converged_in = t.elapsed();
    let net_inside = total_bytes(net);
    for (i, client) in clients.iter().enumerate() {
        let c: i64 = bounded(
            || format!("node {i}: count"),
            client.query_one(count_sql.as_str(), &[]),
        )
        .await?
        .get(0);
        if c != rows {
            return Err(format!(
                "node {i} holds {c} rows of round {round} during the partition, not {rows}: rows crossed it"
            ));
        }
    }
    let everyone: Vec<usize> = (0..n).collect();
    let noticed = if long {
        // SWIM notices the partition: every node logs a member of the
        // other half down
        let t = Instant::now();
        loop {
            let waiting = not_noticed(cluster, &log_offsets, &everyone, side_a, side_b);
            if waiting.is_empty() {
                break Ok(t.elapsed());
            }
            if t.elapsed() > DOWN_DEADLINE {
                break Err(format!(
                    "nodes {waiting:?} logged no \"member down\" for the other half within {DOWN_DEADLINE:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    } else {
        let waiting = not_noticed(cluster, &log_offsets, &everyone, side_a, side_b);
        Err(format!(
            "healed before waiting: {} of {n} nodes had logged the other half down",
            n - waiting.len()
        ))
    };
    let held = partitioned.elapsed();
    let net_healing = total_bytes(net);
    partition.heal();
    let healed_at = Instant::now();
    let times = watch_counts(
        clients,
        &count_sql,
        &[rows + 1, 2 * rows],
        SPREAD_DEADLINE,
        Duration::from_millis((n as u64 * 2).max(20)),
    )
    .await;
    let net_healed = total_bytes(net);
    let (first_cross, converged) = match times {
        Ok(per_node) => (Ok(slowest(&per_node, 0)), Ok(slowest(&per_node, 1))),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    // row deliveries: inside, every row to the other nodes of its half;
    // at the heal, every row to every node of the other half
    let inside_deliveries = rows as f64 * (side_a.len() + side_b.len() - 2) as f64;
    let heal_deliveries = rows as f64 * n as f64;
    let bytes_inside = traffic_between(&net_start, &net_inside, &ips)
        .filter(|_| inside_deliveries > 0.0)
        .map(|(_, b)| b / inside_deliveries);
    let bytes_heal =
        traffic_between(&net_healing, &net_healed, &ips).map(|(_, b)| b / heal_deliveries);
    progress(&format!(
        "  round {round} ({}): halves {side_a:?} | {side_b:?} wrote {rows} rows each in {written_in:.2?}, \
         converged inside {sides_converged_in:.2?} later; {}; held {held:.2?}; after the heal every node \
         had a row of the other half in {} and all rows in {}",
        if long { "long" } else { "short" },
        match &noticed {
            Ok(d) => format!("SWIM saw the other half down {d:.2?} later"),
            Err(e) => e.clone(),
        },
        first_cross.as_ref().map_or_else(|e| e.clone(), |d| dur(*d)),
        converged.as_ref().map_or_else(|e| e.clone(), |d| dur(*d)),
    ));
    Ok(HealRound {
        long,
        written_in,
        sides_converged_in,
        noticed,
        held,
        first_cross,
        converged,
        healed_at,
        membership: Err("not awaited".to_owned()),
        bytes_inside,
        bytes_heal,
    })
}

// ---------------------------------------------------------------- catch-up

async fn catchup(settings: &Settings, n: usize) -> Result<Catchup, String> {
    let rows = settings.catchup_rows;
    progress(&format!("{n} nodes: catch-up cluster, loading {rows} rows"));
    let mut cluster = Cluster::start(n, ClusterOptions::default()).await;
    for i in 0..n {
        cluster.try_query(i, CATCHUP_TABLE).await?;
    }
    let loader = connect(&cluster, 0).await?;
    let ips: Vec<IpAddr> = (0..n).map(|i| cluster.ip(i)).collect();
    let net = NetCounters::new(&ips).ok();
    let net_before = total_bytes(net.as_ref());
    let t = Instant::now();
    let mut first = 1;
    while first <= rows {
        let last = (first + CATCHUP_BATCH - 1).min(rows);
        bounded(
            || "node 0: load".to_owned(),
            loader.batch_execute(&format!(
                "INSERT INTO kv (k, v) WITH RECURSIVE s(x) AS \
                 (SELECT {first} UNION ALL SELECT x + 1 FROM s WHERE x < {last}) \
                 SELECT x, 'row ' || x FROM s"
            )),
        )
        .await?;
        first = last + 1;
    }
    let loaded_in = t.elapsed();
    let clients = connect_all(&cluster).await?;
    let spread_in = watch_counts(
        &clients,
        "SELECT count(*) FROM kv",
        &[rows],
        SPREAD_DEADLINE,
        Duration::from_millis((n as u64 * 5).max(50)),
    )
    .await
    .map(|_| t.elapsed());
    progress(&format!(
        "  loaded in {loaded_in:.2?}; on all {n} nodes after {}",
        spread_in
            .as_ref()
            .map_or_else(|e| e.clone(), |d| format!("{d:.2?}"))
    ));
    drop(clients);
    spread_in
        .as_ref()
        .map_err(|e| format!("the load did not spread: {e}"))?;
    let spread_bytes = traffic_between(&net_before, &total_bytes(net.as_ref()), &ips)
        .map(|(_, b)| b / (rows as f64 * (n - 1).max(1) as f64));
    drop(net);

    let joining = cluster
        .add_node_with(NodeOptions {
            bootstrap: Some(vec![]),
            ..NodeOptions::default()
        })
        .await;
    cluster.try_query(joining, CATCHUP_TABLE).await?;
    let new_ip = [cluster.ip(joining)];
    let new_net = NetCounters::new(&new_ip).ok();
    let new_net_before = total_bytes(new_net.as_ref());
    let t = Instant::now();
    cluster.restart_with_bootstrap(joining, &[0]).await;
    let ready = t.elapsed();
    let new_pid = procfs::pid_of(&cluster.node(joining).data_dir());
    let new_cpu_before = new_pid.and_then(procfs::cpu_seconds);
    let meter = node_pids(&cluster).ok().map(CpuMeter::start);
    let client = connect(&cluster, joining).await?;
    let times = watch_counts(
        std::slice::from_ref(&client),
        "SELECT count(*) FROM kv",
        &[1, rows],
        SPREAD_DEADLINE,
        Duration::from_millis(10),
    )
    .await;
    let cpu = meter.map(|m| m.stop());
    let catchup_bytes = traffic_between(&new_net_before, &total_bytes(new_net.as_ref()), &new_ip)
        .map(|(_, b)| b / rows as f64);
    let new_node_cpu = match (new_cpu_before, new_pid.and_then(procfs::cpu_seconds)) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    let (first_row, done) = match times {
        Ok(per_node) => (Ok(ready + per_node[0][0]), Ok(ready + per_node[0][1])),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    let rss_after = procfs::pid_of(&cluster.node(joining).data_dir())
        .and_then(procfs::rss)
        .map(|b| b as f64);
    keep_logs(&cluster, "catchup");
    let result = Catchup {
        rows,
        loaded_in,
        spread_in,
        ready,
        first_row,
        done,
        rss_after,
        new_node_cpu,
        cpu,
        spread_bytes,
        catchup_bytes,
    };
    progress(&format!(
        "  new node: accepting after {ready:.2?}, first row {}, all rows {} ({} rows/s)",
        result
            .first_row
            .as_ref()
            .map_or_else(|e| e.clone(), |d| dur(*d)),
        result.done.as_ref().map_or_else(|e| e.clone(), |d| dur(*d)),
        result.rate().map_or_else(|| "—".to_owned(), count),
    ));
    Ok(result)
}

// ------------------------------------------------------------------ report

fn propagation_target(n: usize) -> Option<Duration> {
    match n {
        0..=3 => Some(Duration::from_millis(10)),
        4..=10 => Some(Duration::from_millis(25)),
        11..=30 => Some(Duration::from_millis(100)),
        _ => None,
    }
}

const HEAL_TARGET: Duration = Duration::from_secs(3);
const CATCHUP_TARGET: f64 = 50_000.0;
const RSS_TARGET: f64 = 15e6;

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

fn mb(b: f64) -> String {
    format!("{:.1} MB", b / 1e6)
}

fn cell<T>(r: &Option<Result<T, String>>, f: impl FnOnce(&T) -> String) -> String {
    match r {
        None => "not run".to_owned(),
        Some(Err(e)) if e.starts_with("skipped") => "skipped".to_owned(),
        Some(Err(_)) => "failed (see below)".to_owned(),
        Some(Ok(v)) => f(v),
    }
}

fn print_report(settings: &Settings, reports: &[SizeReport], took: Duration) {
    let sizes: Vec<String> = reports.iter().map(|r| format!("{} nodes", r.n)).collect();
    println!();
    println!("## Cluster bench ({})", sizes.join(", "));
    println!();
    println!("| measure | {} | target |", sizes.join(" | "));
    println!("|---|{}---|", "---|".repeat(reports.len()));
    let row = |label: &str, f: &dyn Fn(&SizeReport) -> String, target: &str| {
        let cells: Vec<String> = reports.iter().map(f).collect();
        println!("| {label} | {} | {target} |", cells.join(" | "));
    };
    row(
        "propagation p50, commit → visible on all nodes",
        &|r| cell(&r.propagation, |p| opt_dur(pct(&p.stats.all_nodes, 0.5))),
        "",
    );
    row(
        "propagation p99, commit → visible on all nodes",
        &|r| {
            cell(&r.propagation, |p| {
                let p99 = pct(&p.stats.all_nodes, 0.99);
                match (p99, propagation_target(r.n)) {
                    (Some(v), Some(t)) if p.stats.missing == 0 => {
                        format!("{} ({})", dur(v), verdict(v <= t))
                    }
                    (Some(v), Some(_)) => {
                        format!("{} + {} never seen (**missed**)", dur(v), p.stats.missing)
                    }
                    (v, None) => opt_dur(v),
                    (None, _) => "—".to_owned(),
                }
            })
        },
        "≤ 10 ms (3), ≤ 25 ms (10), ≤ 100 ms (30)",
    );
    row(
        "propagation: probe writes/s (open loop, on schedule)",
        &|r| cell(&r.propagation, |p| format!("{:.0}", p.rate)),
        &format!("{}", settings.rate),
    );
    row(
        "propagation max; first other node p50",
        &|r| {
            cell(&r.propagation, |p| {
                format!(
                    "{}; {}",
                    opt_dur(p.stats.all_nodes.last().copied()),
                    opt_dur(pct(&p.stats.first_remote, 0.5))
                )
            })
        },
        "",
    );
    row(
        &format!(
            "sustained writes, single-row autocommit, {} clients",
            settings.writers
        ),
        &|r| {
            cell(&r.throughput, |t| {
                format!("{} tx/s", count(t.transactions as f64 / t.secs))
            })
        },
        "",
    );
    row(
        "replication lag under that load, p50 / p99",
        &|r| {
            cell(&r.throughput, |t| {
                let missing = if t.stats.missing > 0 {
                    format!(" ({} never seen)", t.stats.missing)
                } else {
                    String::new()
                };
                format!(
                    "{} / {}{missing}",
                    opt_dur(pct(&t.stats.all_nodes, 0.5)),
                    opt_dur(pct(&t.stats.all_nodes, 0.99))
                )
            })
        },
        "",
    );
    row(
        "drain: load stops → every row on every node",
        &|r| {
            cell(&r.throughput, |t| {
                t.drain
                    .as_ref()
                    .map_or_else(|_| "not drained".to_owned(), |d| dur(*d))
            })
        },
        "",
    );
    let each = |h: &Heal, f: &dyn Fn(&HealRound) -> String| -> String {
        h.long().map(f).collect::<Vec<_>>().join(", ")
    };
    row(
        &format!(
            "partition heal, {} divergent rows per side, split noticed by SWIM: heal → converged, worst (each round)",
            count(settings.split_rows as f64)
        ),
        &|r| {
            cell(&r.partition, |h| {
                let worst = h
                    .long()
                    .map(|round| round.converged.as_ref().ok().copied())
                    .try_fold(Duration::ZERO, |worst, d| d.map(|d| worst.max(d)));
                match worst {
                    Some(w) if h.long().count() > 0 => format!(
                        "{} ({}) ({})",
                        dur(w),
                        verdict(w <= HEAL_TARGET),
                        each(h, &|round| opt_dur(round.converged.as_ref().ok().copied()))
                    ),
                    Some(_) => "no long round".to_owned(),
                    None => "not converged (**missed**)".to_owned(),
                }
            })
        },
        "≤ 3 s",
    );
    row(
        "  of which heal → a row across on every node (rediscovery), each round",
        &|r| {
            cell(&r.partition, |h| {
                each(h, &|round| {
                    opt_dur(round.first_cross.as_ref().ok().copied())
                })
            })
        },
        "",
    );
    row(
        "partition heal, short split (healed before SWIM noticed): heal → converged",
        &|r| {
            cell(&r.partition, |h| match h.short() {
                Some(round) => round.converged.as_ref().map_or_else(
                    |_| "not converged".to_owned(),
                    |d| format!("{} ({})", dur(*d), verdict(*d <= HEAL_TARGET)),
                ),
                None => "—".to_owned(),
            })
        },
        "≤ 3 s",
    );
    row(
        &format!(
            "catch-up of a new empty node, {} rows",
            count(settings.catchup_rows as f64)
        ),
        &|r| {
            cell(&r.catchup, |c| match c.rate() {
                Some(rate) => format!(
                    "{} rows/s: all in {} ({}); first row after {}, then {} rows/s",
                    count(rate),
                    opt_dur(c.done.as_ref().ok().copied()),
                    verdict(rate >= CATCHUP_TARGET),
                    opt_dur(c.first_row.as_ref().ok().copied()),
                    c.transfer_rate().map_or_else(|| "—".to_owned(), count),
                ),
                None => "not caught up (**missed**)".to_owned(),
            })
        },
        "≥ 50,000 rows/s",
    );
    row(
        "idle RSS per node, fresh: mean / max",
        &|r| {
            cell(&r.idle_fresh, |i| {
                format!(
                    "{} / {} ({})",
                    mb(mean(&i.rss)),
                    mb(max(&i.rss)),
                    verdict(max(&i.rss) <= RSS_TARGET)
                )
            })
        },
        "≤ 15 MB",
    );
    row(
        "idle RSS per node after the workloads: mean / max",
        &|r| {
            cell(&r.idle_after, |i| {
                format!(
                    "{} / {} ({})",
                    mb(mean(&i.rss)),
                    mb(max(&i.rss)),
                    verdict(max(&i.rss) <= RSS_TARGET)
                )
            })
        },
        "≤ 15 MB",
    );
    row(
        "idle memory per node after the workloads: RssAnon / Pss mean",
        &|r| {
            cell(&r.idle_after, |i| {
                format!("{} / {}", mb(mean(&i.rss_anon)), mb(mean(&i.pss)))
            })
        },
        "",
    );
    let net_cell = |i: &Idle| match &i.net {
        Ok(per_node) => {
            let b: Vec<f64> = per_node.iter().map(|(_, b)| *b).collect();
            format!("{}/s / {}/s", bytes(mean(&b)), bytes(max(&b)))
        }
        Err(_) => "—".to_owned(),
    };
    row(
        "idle gossip received per node, fresh: mean / max",
        &|r| cell(&r.idle_fresh, net_cell),
        "",
    );
    row(
        "idle gossip received per node, after: mean / max",
        &|r| cell(&r.idle_after, net_cell),
        "",
    );
    row(
        "idle CPU per node, fresh / after (mean, % of a core)",
        &|r| {
            format!(
                "{} / {}",
                cell(&r.idle_fresh, |i| format!("{:.1}%", mean(&i.cpu) * 100.0)),
                cell(&r.idle_after, |i| format!("{:.1}%", mean(&i.cpu) * 100.0))
            )
        },
        "",
    );
    let share = |c: Option<&CpuUse>| {
        c.and_then(others_share)
            .map_or_else(|| "—".to_owned(), |p| format!("{p:.0}%"))
    };
    row(
        "CPU used by other processes on the machine: idle (fresh) / propagation / throughput",
        &|r| {
            format!(
                "{} / {} / {}",
                share(
                    r.idle_fresh
                        .as_ref()
                        .and_then(|i| i.as_ref().ok())
                        .map(|i| &i.machine)
                ),
                share(
                    r.propagation
                        .as_ref()
                        .and_then(|p| p.as_ref().ok())
                        .map(|p| &p.cpu)
                ),
                share(
                    r.throughput
                        .as_ref()
                        .and_then(|t| t.as_ref().ok())
                        .map(|t| &t.cpu)
                ),
            )
        },
        "≈ 0% (else the run was disturbed)",
    );
    println!();
    println!(
        "Loopback, 2 cores shared by every node and the bench's clients; release build, \
         `--durability normal`, default replication settings. Propagation: {} single-row \
         INSERTs/s on rotating nodes for {} s; the observers poll while a probe is missing \
         (every {} ms per node at the sizes run), so a latency is at most one poll interval \
         late. Bench ran {:.0?}.",
        settings.rate,
        settings.prop_secs,
        reports
            .iter()
            .map(|r| format!("{:.1}", settings.poll(r.n).as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(" / "),
        took
    );
    println!();
    print_details(reports);
}

/// The all-nodes latency per second of the run: p50 and max.
fn timeline(s: &ProbeStats) -> String {
    let mut buckets: Vec<Vec<Duration>> = Vec::new();
    for (at, latency) in &s.timeline {
        let b = at.as_secs() as usize;
        if buckets.len() <= b {
            buckets.resize(b + 1, Vec::new());
        }
        buckets[b].push(*latency);
    }
    buckets
        .iter_mut()
        .enumerate()
        .filter(|(_, b)| !b.is_empty())
        .map(|(i, b)| {
            b.sort();
            format!(
                "{i}–{} s: {} / {}",
                i + 1,
                opt_dur(pct(b, 0.5)),
                opt_dur(b.last().copied())
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn poll_gap(s: &ProbeStats) -> String {
    format!(
        "{} observer queries, {} apart on a node on average",
        count(s.polls as f64),
        opt_dur(s.mean_poll_gap)
    )
}

fn print_details(reports: &[SizeReport]) {
    println!("### Details");
    for r in reports {
        println!();
        println!("**{} nodes**", r.n);
        if let Some(d) = r.started_in {
            println!("- cluster started (all nodes accepting) in {}", dur(d));
        }
        if let Some(d) = r.membership_in {
            println!(
                "- after the tables and one row per node, every node's log showed every other node up {} later",
                dur(d)
            );
        }
        for note in &r.notes {
            println!("- note: {note}");
        }
        for (label, idle) in [
            ("fresh", &r.idle_fresh),
            ("after the workloads", &r.idle_after),
        ] {
            match idle {
                Some(Ok(i)) => {
                    let net = match &i.net {
                        Ok(per_node) => {
                            let p: Vec<f64> = per_node.iter().map(|(p, _)| *p).collect();
                            let b: Vec<f64> = per_node.iter().map(|(_, b)| *b).collect();
                            format!(
                                "gossip received {:.1} packets/s, {}/s per node (mean; cluster total {}/s)",
                                mean(&p),
                                bytes(mean(&b)),
                                bytes(b.iter().sum())
                            )
                        }
                        Err(e) => format!("no network numbers: {}", first_line(e)),
                    };
                    println!(
                        "- idle ({label}, {} rows held, {:.0} s): VmRSS mean {} (min {}, max {}) = RssAnon {} + RssFile {} (mean; \
                         RssFile is mostly the binary's pages, shared by every node); Pss mean {}; CPU mean {:.1}% (max {:.1}%); {net}",
                        count(i.rows_held as f64),
                        i.secs,
                        mb(mean(&i.rss)),
                        mb(i.rss.iter().copied().fold(f64::INFINITY, f64::min)),
                        mb(max(&i.rss)),
                        mb(mean(&i.rss_anon)),
                        mb(mean(&i.rss_file)),
                        mb(mean(&i.pss)),
                        mean(&i.cpu) * 100.0,
                        max(&i.cpu) * 100.0,
                    );
                }
                Some(Err(e)) => println!("- idle ({label}): {e}"),
                None => {}
            }
        }
        match &r.propagation {
            Some(Ok(p)) => {
                let s = &p.stats;
                println!(
                    "- propagation: {} probes at {:.0}/s, poll every {:.1} ms per node ({}); \
                     all nodes p50 {} p90 {} p99 {} max {} (upper bounds: p50 {} p99 {}); per (probe, other node) p50 {} p99 {}; \
                     first other node p50 {} p99 {}; writer's INSERT p50 {} p99 {}; never seen everywhere {}{}; {}",
                    s.probes,
                    p.rate,
                    p.poll.as_secs_f64() * 1e3,
                    poll_gap(s),
                    opt_dur(pct(&s.all_nodes, 0.5)),
                    opt_dur(pct(&s.all_nodes, 0.9)),
                    opt_dur(pct(&s.all_nodes, 0.99)),
                    opt_dur(s.all_nodes.last().copied()),
                    opt_dur(pct(&s.all_nodes_upper, 0.5)),
                    opt_dur(pct(&s.all_nodes_upper, 0.99)),
                    opt_dur(pct(&s.per_node, 0.5)),
                    opt_dur(pct(&s.per_node, 0.99)),
                    opt_dur(pct(&s.first_remote, 0.5)),
                    opt_dur(pct(&s.first_remote, 0.99)),
                    opt_dur(pct(&s.write, 0.5)),
                    opt_dur(pct(&s.write, 0.99)),
                    s.missing,
                    traffic("probe", p.net_per_probe),
                    cpu_line(&p.cpu),
                );
                println!("  - {}", spread(s));
            }
            Some(Err(e)) => println!("- propagation: {e}"),
            None => {}
        }
        match &r.throughput {
            Some(Ok(t)) => {
                let s = &t.stats;
                println!(
                    "- throughput: {} clients, {} bulk rows + {} probes in {:.2} s = {} tx/s; client INSERT p50 {} p99 {}; \
                     lag (probe every 20 ms, {}) p50 {} p90 {} p99 {} max {}, never seen everywhere {}; \
                     drain {}{}; {}",
                    t.writers,
                    count(t.bulk_rows as f64),
                    s.probes,
                    t.secs,
                    count(t.transactions as f64 / t.secs),
                    opt_dur(pct(&t.bulk_latency, 0.5)),
                    opt_dur(pct(&t.bulk_latency, 0.99)),
                    poll_gap(s),
                    opt_dur(pct(&s.all_nodes, 0.5)),
                    opt_dur(pct(&s.all_nodes, 0.9)),
                    opt_dur(pct(&s.all_nodes, 0.99)),
                    opt_dur(s.all_nodes.last().copied()),
                    s.missing,
                    match &t.drain {
                        Ok(d) => dur(*d),
                        Err(e) => first_line(e),
                    },
                    traffic("transaction", t.net_per_tx),
                    cpu_line(&t.cpu),
                );
                println!("  - lag by second of the load (p50 / max): {}", timeline(s));
                println!("  - {}", spread(s));
            }
            Some(Err(e)) => println!("- throughput: {e}"),
            None => {}
        }
        match &r.partition {
            Some(Ok(h)) => {
                println!(
                    "- partition {}|{} nodes, {} rows written per side per round:",
                    h.sides.0,
                    h.sides.1,
                    count(h.rows_per_side as f64)
                );
                for (i, round) in h.rounds.iter().enumerate() {
                    println!(
                        "  - round {i} ({}): written in {}, each half converged inside {} later; {}; held {} in all; \
                         after the heal: a row across on every node {}, converged {}, membership whole again by {} (checked from convergence on); \
                         gossip bytes received per row delivered: {} inside the halves, {} after the heal",
                        if round.long { "long" } else { "short" },
                        dur(round.written_in),
                        dur(round.sides_converged_in),
                        match &round.noticed {
                            Ok(d) =>
                                format!("every node logged the other half down {} later", dur(*d)),
                            Err(e) => first_line(e),
                        },
                        dur(round.held),
                        round
                            .first_cross
                            .as_ref()
                            .map_or_else(|e| first_line(e), |d| dur(*d)),
                        round
                            .converged
                            .as_ref()
                            .map_or_else(|e| first_line(e), |d| dur(*d)),
                        round
                            .membership
                            .as_ref()
                            .map_or_else(|e| first_line(e), |d| dur(*d)),
                        round
                            .bytes_inside
                            .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
                        round
                            .bytes_heal
                            .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
                    );
                }
            }
            Some(Err(e)) => println!("- partition: {e}"),
            None => {}
        }
        match &r.catchup {
            Some(Ok(c)) => println!(
                "- catch-up: {} rows loaded on node 0 in {} ({} rows/s), on all {} nodes {} after the load began; \
                 new node accepting {} after its restart began, first row at {}, all rows at {} \
                 ({} rows/s overall, {} rows/s from first row to last); its VmRSS then {}; \
                 the new node used {} CPU-s meanwhile; {}; gossip bytes received per row delivered: {} while \
                 the load spread, {} by the new node",
                count(c.rows as f64),
                dur(c.loaded_in),
                count(c.rows as f64 / c.loaded_in.as_secs_f64()),
                r.n,
                c.spread_in
                    .as_ref()
                    .map_or_else(|e| first_line(e), |d| dur(*d)),
                dur(c.ready),
                c.first_row
                    .as_ref()
                    .map_or_else(|e| first_line(e), |d| dur(*d)),
                c.done.as_ref().map_or_else(|e| first_line(e), |d| dur(*d)),
                c.rate().map_or_else(|| "—".to_owned(), count),
                c.transfer_rate().map_or_else(|| "—".to_owned(), count),
                c.rss_after.map_or_else(|| "—".to_owned(), mb),
                c.new_node_cpu
                    .map_or_else(|| "—".to_owned(), |s| format!("{s:.2}")),
                c.cpu.as_ref().map_or_else(|| "—".to_owned(), cpu_line),
                c.spread_bytes
                    .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
                c.catchup_bytes
                    .map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B")),
            ),
            Some(Err(e)) => println!("- catch-up: {e}"),
            None => {}
        }
    }
}
