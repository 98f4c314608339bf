//! Store benchmark: the cost of change capture, and merge throughput.
//!
//! `cargo bench -p patina-store` prints a Markdown table:
//! - single-row autocommit INSERT and UPDATE into a replicated table vs the
//!   same table not replicated, on the same settings (WAL,
//!   synchronous=NORMAL), in interleaved rounds (median round reported);
//! - the same INSERTs 100 to a transaction, where the cost of commit is
//!   shared and what remains is the capture work itself;
//! - merge of a 100k-row change stream (1,000 versions of 100 rows, each row
//!   four change rows) into an empty replica, in batches of 50 versions;
//! - tiny merges, as a node of a 30-node cluster does them: 5,000 merges
//!   of one version of one new row each, from 30 sites in turn.
//!
//! The merge and extract rows also give CPU time (user + system) and rows
//! per CPU-second, steadier than the wall clock on a busy machine.
//!
//! `STORE_BENCH=capture`, `STORE_BENCH=merge` or `STORE_BENCH=tiny` runs
//! only that part (to profile one of them).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use patina_store::{Store, Versions};

const SCHEMA: &str =
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER DEFAULT 0, price REAL)";
const ROUNDS: usize = 5;
const OPS_PER_ROUND: usize = 4_000;
const MERGE_ROWS: usize = 100_000;
const ROWS_PER_VERSION: usize = 100;
const VERSIONS_PER_MERGE: usize = 50;
const TINY_MERGES: usize = 5_000;
const TINY_SITES: usize = 30;

struct Timings {
    per_round: Vec<Duration>,
    latencies: Vec<Duration>,
}

impl Timings {
    fn new() -> Timings {
        Timings {
            per_round: Vec::new(),
            latencies: Vec::new(),
        }
    }

    fn ops_per_sec(&self) -> f64 {
        let mut rounds = self.per_round.clone();
        rounds.sort();
        OPS_PER_ROUND as f64 / rounds[rounds.len() / 2].as_secs_f64()
    }

    fn p50_micros(&self) -> f64 {
        let mut l = self.latencies.clone();
        l.sort();
        l[l.len() / 2].as_secs_f64() * 1e6
    }
}

/// Deterministic pseudo-random row ids.
struct Ids(u64);

impl Ids {
    fn next(&mut self, below: usize) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as i64 + 1
    }
}

/// Runs `OPS_PER_ROUND` statements, `per_txn` to a transaction (1 =
/// autocommit), timing each transaction.
fn round(
    store: &Store,
    sql: &str,
    per_txn: usize,
    params: impl Fn(usize) -> (i64, String),
    t: &mut Timings,
) {
    let mut stmt = store.conn().prepare(sql).unwrap();
    let start = Instant::now();
    for txn in 0..OPS_PER_ROUND / per_txn {
        let op = Instant::now();
        if per_txn > 1 {
            store.conn().execute_batch("BEGIN").unwrap();
        }
        for i in txn * per_txn..(txn + 1) * per_txn {
            let (id, text) = params(i);
            stmt.execute(rusqlite::params![id, text]).unwrap();
        }
        if per_txn > 1 {
            store.conn().execute_batch("COMMIT").unwrap();
        }
        t.latencies.push(op.elapsed());
    }
    t.per_round.push(start.elapsed());
}

fn capture_overhead() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Store::open(dir.path().join("plain.sqlite")).unwrap();
    plain.conn().execute_batch(SCHEMA).unwrap();
    let mut crr = Store::open(dir.path().join("crr.sqlite")).unwrap();
    crr.apply_ddl(SCHEMA).unwrap();

    let insert = "INSERT INTO items (id, name, qty, price) VALUES (?1, ?2, 1, 9.5)";
    let update = "UPDATE items SET name = ?2 WHERE id = ?1";
    let (mut plain_ins, mut crr_ins) = (Timings::new(), Timings::new());
    let (mut plain_batch, mut crr_batch) = (Timings::new(), Timings::new());
    for r in 0..ROUNDS {
        let row = |i: usize| ((r * OPS_PER_ROUND + i + 1) as i64, format!("item {i}"));
        round(&plain, insert, 1, row, &mut plain_ins);
        round(&crr, insert, 1, row, &mut crr_ins);
        let row = |i: usize| {
            (
                ((ROUNDS + r) * OPS_PER_ROUND + i + 1) as i64,
                format!("item {i}"),
            )
        };
        round(&plain, insert, 100, row, &mut plain_batch);
        round(&crr, insert, 100, row, &mut crr_batch);
    }
    let rows = ROUNDS * OPS_PER_ROUND;
    let (mut plain_upd, mut crr_upd) = (Timings::new(), Timings::new());
    let mut ids = Ids(0x9e37_79b9_7f4a_7c15);
    for r in 0..ROUNDS {
        let picks: Vec<i64> = (0..OPS_PER_ROUND).map(|_| ids.next(rows)).collect();
        let row = |i: usize| (picks[i], format!("renamed {r} {i}"));
        round(&plain, update, 1, row, &mut plain_upd);
        round(&crr, update, 1, row, &mut crr_upd);
    }

    println!("| statement | plain table | replicated table | overhead |");
    println!("|---|---|---|---|");
    for (name, p, c) in [
        ("INSERT, autocommit", &plain_ins, &crr_ins),
        ("UPDATE, autocommit", &plain_upd, &crr_upd),
        ("INSERT, 100 per transaction", &plain_batch, &crr_batch),
    ] {
        println!(
            "| {name} | {:.0} rows/s (p50 {:.1} µs/txn) | {:.0} rows/s (p50 {:.1} µs/txn) | {:.2}× |",
            p.ops_per_sec(),
            p.p50_micros(),
            c.ops_per_sec(),
            c.p50_micros(),
            p.ops_per_sec() / c.ops_per_sec()
        );
    }
}

fn merge_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = Store::open(dir.path().join("source.sqlite")).unwrap();
    source.apply_ddl(SCHEMA).unwrap();
    {
        let mut stmt = source
            .conn()
            .prepare("INSERT INTO items (id, name, qty, price) VALUES (?1, ?2, ?1, 1.5)")
            .unwrap();
        for batch in 0..MERGE_ROWS / ROWS_PER_VERSION {
            source.conn().execute_batch("BEGIN").unwrap();
            for i in 0..ROWS_PER_VERSION {
                let id = (batch * ROWS_PER_VERSION + i + 1) as i64;
                stmt.execute(rusqlite::params![id, format!("item {id}")])
                    .unwrap();
            }
            source.conn().execute_batch("COMMIT").unwrap();
        }
    }
    let extract_start = Instant::now();
    let extract_cpu = cpu_seconds();
    let stream: Vec<Versions> = source.changes(source.site_id(), 1..=u64::MAX >> 1).unwrap();
    let extract = (extract_start.elapsed(), cpu_seconds() - extract_cpu);
    let change_rows: usize = stream
        .iter()
        .map(|v| match v {
            Versions::Changed(set) => set.changes.len(),
            Versions::Cleared { .. } => 0,
        })
        .sum();

    let mut target = Store::open(dir.path().join("target.sqlite")).unwrap();
    target.apply_ddl(SCHEMA).unwrap();
    let start = Instant::now();
    let merge_cpu = cpu_seconds();
    for batch in stream.chunks(VERSIONS_PER_MERGE) {
        target.merge(batch).unwrap();
    }
    let merge = (start.elapsed(), cpu_seconds() - merge_cpu);
    let count: i64 = target
        .conn()
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count as usize, MERGE_ROWS);

    println!();
    println!(
        "| {MERGE_ROWS} rows ({change_rows} change rows) | time | rows/s | change rows/s | CPU time | rows per CPU-s |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, (took, cpu)) in [
        ("extract (all versions)", extract),
        ("merge into empty replica", merge),
    ] {
        println!(
            "| {name} | {:.2} s | {:.0} | {:.0} | {cpu:.2} s | {:.0} |",
            took.as_secs_f64(),
            MERGE_ROWS as f64 / took.as_secs_f64(),
            change_rows as f64 / took.as_secs_f64(),
            MERGE_ROWS as f64 / cpu
        );
    }
}

/// One-row versions written on `TINY_SITES` sources, merged one at a time
/// in turn into a replica.
fn tiny_merges() {
    let dir = tempfile::tempdir().unwrap();
    let mut streams: Vec<Vec<Versions>> = Vec::new();
    for s in 0..TINY_SITES {
        let mut source = Store::open(dir.path().join(format!("source{s}.sqlite"))).unwrap();
        source.apply_ddl(SCHEMA).unwrap();
        let mut stmt = source
            .conn()
            .prepare("INSERT INTO items (id, name, qty, price) VALUES (?1, ?2, ?1, 1.5)")
            .unwrap();
        for i in 0..TINY_MERGES.div_ceil(TINY_SITES) {
            let id = (i * TINY_SITES + s + 1) as i64;
            stmt.execute(rusqlite::params![id, format!("item {id}")])
                .unwrap();
        }
        drop(stmt);
        streams.push(source.changes(source.site_id(), 1..=u64::MAX >> 1).unwrap());
    }
    let mut target = Store::open(dir.path().join("target.sqlite")).unwrap();
    target.apply_ddl(SCHEMA).unwrap();
    let start = Instant::now();
    let cpu = cpu_seconds();
    let mut merged = 0;
    'outer: for i in 0.. {
        for stream in &streams {
            if merged == TINY_MERGES {
                break 'outer;
            }
            target.merge(std::slice::from_ref(&stream[i])).unwrap();
            merged += 1;
        }
    }
    let (took, cpu) = (start.elapsed(), cpu_seconds() - cpu);
    println!();
    println!(
        "| {TINY_MERGES} merges of one row, from {TINY_SITES} sites | time | merges/s | µs per merge | CPU time | merges per CPU-s |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| merge | {:.2} s | {:.0} | {:.1} | {cpu:.2} s | {:.0} |",
        took.as_secs_f64(),
        TINY_MERGES as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / TINY_MERGES as f64,
        TINY_MERGES as f64 / cpu
    );
}

/// CPU time (user + system) this process used so far, from
/// `/proc/self/stat` (in clock ticks of 10 ms): on a shared machine it
/// moves less with the load than the wall clock does.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn main() {
    // `cargo test --benches` runs bench binaries with no arguments too; only
    // `cargo bench` passes `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let only = std::env::var("STORE_BENCH").ok();
    if only.as_deref().is_none_or(|o| o == "capture") {
        capture_overhead();
    }
    if only.as_deref().is_none_or(|o| o == "merge") {
        merge_throughput();
    }
    if only.as_deref().is_none_or(|o| o == "tiny") {
        tiny_merges();
    }
}
