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

#[path = "cluster/catchup.rs"]
mod catchup;
#[path = "cluster/idle.rs"]
mod idle;
#[path = "cluster/nodes.rs"]
mod nodes;
#[path = "cluster/partition.rs"]
mod partition;
#[path = "cluster/propagation.rs"]
mod propagation;
#[path = "cluster/report.rs"]
mod report;
#[path = "cluster/results.rs"]
mod results;
#[path = "cluster/settings.rs"]
mod settings;
#[path = "cluster/mod.rs"]
mod support;
#[path = "cluster/throughput.rs"]
mod throughput;

use std::cell::Cell;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::FutureExt;
use patina_tests::tokio_postgres::{Client, Statement};
use patina_tests::{
    Cluster, ClusterOptions, NodeOptions, Partition, describe_error, try_connect_to, workspace_root,
};

use catchup::*;
use idle::*;
use nodes::*;
use partition::*;
use propagation::*;
use report::*;
use results::*;
use settings::*;
use throughput::*;

use support::nft::{self, NetCounters};
use support::probes::{ProbeStats, Tracker};
use support::procfs::{self, CpuMeter, CpuUse};
use support::schedule::open_loop;
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
