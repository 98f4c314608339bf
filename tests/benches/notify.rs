//! Notification latency and the cost of query subscriptions, on real
//! `patina agent` processes, against a real PostgreSQL 15 where it applies.
//!
//! ```text
//! cargo build --release -p patina-cli
//! cp target/release/patina /tmp/patina-bench-bin
//! PATINA_BIN=/tmp/patina-bench-bin cargo bench -p patina-tests --bench notify
//! ```
//! (`PATINA_BIN` is required: the harness would otherwise run the debug
//! build.) Every client is driven from the bench's one thread; timestamps
//! are taken when a connection task reads the message.
//!
//! 1. A 3-node cluster (`patina_tests::Cluster`, loopback addresses of
//!    their own). Propagation first: single-row INSERTs on node 0, open
//!    loop at `NOTIFY_RATE`/s (default 100) for `NOTIFY_SECS` (default 5),
//!    observers polling every node every 1 ms while a row is missing
//!    (`cluster/probes.rs`): commit acknowledgement → visible on another
//!    node. Then, at the same rate and length, with the writer on node 0
//!    and one listener on node 0 and one on node 1: plain `NOTIFY`, a row
//!    feed (`LISTEN "patina:changes:feed"`, INSERTs) and a query
//!    subscription (`patina_subscribe('SELECT k, v FROM subbed')`,
//!    INSERTs): commit acknowledgement on the writer → NotificationResponse
//!    on the listener, p50/p99/max. Plain NOTIFY also runs on a real
//!    PostgreSQL 15 (default settings) the same way, for the ratio.
//! 2. One node, a table of `NOTIFY_SUBS` rows (default 1,000), taking
//!    `NOTIFY_LOAD_RATE` single-row UPDATEs/s (default 1,000; open loop
//!    over 4 connections) for `NOTIFY_LOAD_SECS` (default 5): first with no
//!    subscription, then with `NOTIFY_SUBS` distinct ones (`SELECT k, v
//!    FROM load WHERE k = <i>`, over 10 listening sessions). Reported: the
//!    node's CPU (/proc), the writers' commit latency, and the commit →
//!    notification latency under that load.
//!
//! To look at phase 1 alone, make phase 2 short: `NOTIFY_LOAD_SECS=0.5
//! NOTIFY_SUBS=10`.
//!
//! No assertion: it measures and prints a Markdown table. Every wait is
//! bounded; nodes and PostgreSQL stop when dropped (also on error).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "notify/latency.rs"]
mod latency;
#[path = "notify/load.rs"]
mod load;
// Shared with the cluster bench, which uses all of them; this bench uses
// part.
#[allow(dead_code)]
#[path = "cluster/probes.rs"]
mod probes;
#[allow(dead_code)]
#[path = "cluster/procfs.rs"]
mod procfs;
#[path = "cluster/schedule.rs"]
mod schedule;
#[allow(dead_code)]
#[path = "cluster/stats.rs"]
mod stats;
#[path = "notify/timed.rs"]
mod timed;

use std::time::{Duration, Instant};

use patina_tests::{Cluster, ClusterOptions, Postgres};

use latency::{Kind, KindLatency};
use stats::{dur, opt_dur, pct};
use timed::{Latencies, exec, listener};

/// Same-node p99 target; the other-node one is propagation p99 + this.
const TARGET: Duration = Duration::from_millis(5);

fn main() {
    // `cargo test --benches` runs bench binaries with no arguments too; only
    // `cargo bench` passes `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if std::env::var_os("PATINA_BIN").is_none() {
        eprintln!(
            "notify bench: set PATINA_BIN to a release build of patina \
             (cargo build --release -p patina-cli; see the bench's doc)"
        );
        std::process::exit(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("notify bench: no runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("notify bench: {e}");
        std::process::exit(1);
    }
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v: &f64| *v > 0.0)
        .unwrap_or(default)
}

pub fn progress(line: &str) {
    eprintln!("{line}");
}

async fn run() -> Result<(), String> {
    let started = Instant::now();
    let rate = env_f64("NOTIFY_RATE", 100.0);
    let secs = env_f64("NOTIFY_SECS", 5.0);
    let load_rate = env_f64("NOTIFY_LOAD_RATE", 1000.0);
    let load_secs = env_f64("NOTIFY_LOAD_SECS", 5.0);
    let subs = env_f64("NOTIFY_SUBS", 1000.0) as usize;
    let count = (rate * secs).round().max(1.0) as usize;
    let period = Duration::from_secs_f64(1.0 / rate);

    progress("3-node cluster …");
    let cluster = Cluster::start(3, ClusterOptions::default()).await;
    let admin = listener(cluster.pg_addr(0)).await?.client;
    exec(&admin, latency::TABLES).await?;
    for table in ["feed", "subbed", "probe"] {
        cluster.wait_count(Duration::from_secs(30), table, 0).await;
    }
    progress(&format!("  propagation, {rate}/s for {secs} s …"));
    let propagation = latency::propagation(&cluster, count, period).await?;
    let kinds = latency::on_cluster(&cluster, count, period).await?;
    drop(cluster);

    progress("PostgreSQL 15 …");
    let pg = Postgres::try_start_durable()
        .await
        .map_err(|e| format!("cannot start PostgreSQL: {e}"))?;
    let postgres = latency::on_postgres(&pg, count, period).await?;
    drop(pg);

    progress("1 node under load …");
    let load = load::run(load_rate, load_secs, subs).await?;

    report(rate, secs, &propagation, &kinds, &postgres, &load);
    println!(
        "\nMachine: {} CPUs (shared by the nodes, PostgreSQL and the bench's clients); load \
         average at the end: {}. Bench ran {:.0?}.",
        procfs::machine_busy().map_or(0, |(_, cpus)| cpus),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        started.elapsed()
    );
    Ok(())
}

fn p50_p99(sorted: &[Duration]) -> String {
    format!(
        "{} / {} / {}",
        opt_dur(pct(sorted, 0.5)),
        opt_dur(pct(sorted, 0.99)),
        opt_dur(sorted.last().copied())
    )
}

fn cell(l: &Latencies) -> String {
    let mut s = p50_p99(&l.sorted);
    if l.missing > 0 {
        s.push_str(&format!(" ({} missing)", l.missing));
    }
    s
}

fn met(p99: Option<Duration>, target: Duration) -> &'static str {
    match p99 {
        Some(p) if p <= target => "met",
        Some(_) => "missed",
        None => "—",
    }
}

fn report(
    rate: f64,
    secs: f64,
    propagation: &[Duration],
    kinds: &[KindLatency],
    postgres: &Latencies,
    load: &load::Load,
) {
    let prop_p99 = pct(propagation, 0.99);
    let other_target = prop_p99.map(|p| p + TARGET);
    println!(
        "\n## Commit → notification, 3 nodes, writer on node 0, {rate}/s for {secs} s \
         (p50 / p99 / max)\n"
    );
    println!("| | listener on | commit ack → notification | send → notification | target: p99 ≤ |");
    println!("|---|---|---|---|---|");
    for k in kinds {
        let sides = [
            ("the writer's node", Some(&k.same), Some(TARGET)),
            ("another node", k.other.as_ref(), other_target),
        ];
        for (side, l, target) in sides {
            let Some(l) = l else { continue };
            println!(
                "| {} | {side} | {} | {} | {} ({}) |",
                k.kind.name(),
                cell(l),
                p50_p99(&l.from_send),
                opt_dur(target),
                target.map_or("—", |t| met(pct(&l.sorted, 0.99), t)),
            );
        }
    }
    println!(
        "| plain NOTIFY, PostgreSQL 15 | the writer's server | {} | {} | |",
        cell(postgres),
        p50_p99(&postgres.from_send)
    );
    println!(
        "| a row becomes visible (propagation) | another node | {} | | |",
        p50_p99(propagation)
    );
    if let Some(notify) = kinds.iter().find(|k| k.kind == Kind::Notify) {
        let ratio = |ours: &[Duration], theirs: &[Duration], p: f64| -> String {
            match (pct(ours, p), pct(theirs, p)) {
                (Some(a), Some(b)) if !b.is_zero() => {
                    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
                }
                _ => "—".to_owned(),
            }
        };
        println!(
            "\nplain NOTIFY on the writer's node, patina / PostgreSQL: send → notification \
             p50 {}, p99 {}; commit ack → notification p99 {}",
            ratio(&notify.same.from_send, &postgres.from_send, 0.5),
            ratio(&notify.same.from_send, &postgres.from_send, 0.99),
            ratio(&notify.same.sorted, &postgres.sorted, 0.99),
        );
    }
    let early: Vec<String> = kinds
        .iter()
        .flat_map(|k| {
            [("same", Some(&k.same)), ("other", k.other.as_ref())]
                .into_iter()
                .filter_map(move |(side, l)| {
                    l.filter(|l| l.early > 0)
                        .map(|l| format!("{} {side}: {}", k.kind.name(), l.early))
                })
        })
        .collect();
    if !early.is_empty() {
        println!(
            "notifications read before the writer read its acknowledgement (counted as 0): {}",
            early.join(", ")
        );
    }

    println!(
        "\n## {} live query subscriptions, one node, {}/s single-row UPDATEs for {} s\n",
        load.subs, load.rate, load.with.secs
    );
    println!(
        "| | node CPU time ÷ load time | commit p50 / p99 / max | commit ack → notification p50 / p99 / max | \
         writes not notified on their own (folded into a later one) | rows whose last write \
         was not notified |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, round) in [
        ("no subscription", &load.without),
        ("with subscriptions", &load.with),
    ] {
        println!(
            "| {name} | {:.0}% of a core | {} | {} | {} | {} |",
            100.0 * round.cpu.nodes / round.secs,
            p50_p99(&round.writes),
            round
                .notifications
                .as_ref()
                .map_or_else(|| "—".to_owned(), |l| p50_p99(&l.sorted)),
            round
                .notifications
                .as_ref()
                .map_or_else(|| "—".to_owned(), |l| l.missing.to_string()),
            if round.notifications.is_some() {
                round.lost.to_string()
            } else {
                "—".to_owned()
            },
        );
    }
    let added = |p: f64| match (pct(&load.with.writes, p), pct(&load.without.writes, p)) {
        (Some(a), Some(b)) => {
            let (a, b) = (a.as_secs_f64(), b.as_secs_f64());
            if a >= b {
                format!("+{}", dur(Duration::from_secs_f64(a - b)))
            } else {
                format!("−{}", dur(Duration::from_secs_f64(b - a)))
            }
        }
        _ => "—".to_owned(),
    };
    println!(
        "\nadded: CPU {:+.0} points of a core, commit p50 {}, p99 {}; subscribing took {}; \
         machine CPU (all processes) {:.0}% / {:.0}% of {} cores",
        100.0 * (load.with.cpu.nodes / load.with.secs - load.without.cpu.nodes / load.without.secs),
        added(0.5),
        added(0.99),
        dur(load.subscribe),
        100.0 * load.without.cpu.machine.unwrap_or(0.0)
            / load.without.cpu.wall
            / load.without.cpu.cpus.max(1) as f64,
        100.0 * load.with.cpu.machine.unwrap_or(0.0)
            / load.with.cpu.wall
            / load.with.cpu.cpus.max(1) as f64,
        load.with.cpu.cpus,
    );
}
