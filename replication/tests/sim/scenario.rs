//! A whole simulated run, derived from one seed: cluster size, workload,
//! faults and node settings.

use std::num::NonZeroU32;
use std::time::Duration;

use patina_replication::core::Config;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Which family of runs a seed is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 2–8 nodes, tens of writes, every kind of fault.
    Small,
    /// 20–50 nodes, a hundred-odd writes, milder faults.
    Large,
}

/// Network faults while the fault phase lasts (after it: none).
#[derive(Debug, Clone)]
pub struct Faults {
    /// Chance a message (datagram or broadcast stream) is lost.
    pub loss: f64,
    /// Chance a message is delivered twice.
    pub duplicate: f64,
    /// Chance a message is held back for 100–1000 ms (reordering).
    pub straggle: f64,
    /// Chance a sync session breaks partway.
    pub session_break: f64,
    /// Chance a sync request is swallowed: no answer, no end (the opener
    /// must time it out).
    pub session_hang: f64,
    /// Chance an apply batch fails without changing the store.
    pub apply_failure: f64,
    /// (start, end, nodes on one side) of network partitions.
    pub partitions: Vec<(Duration, Duration, Vec<usize>)>,
    /// (when, how long down, node) of crash-restarts.
    pub crashes: Vec<(Duration, Duration, usize)>,
    /// Chance a node crashes right after a commit, before broadcasting it.
    pub crash_after_commit: f64,
}

impl Faults {
    pub fn none() -> Faults {
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            straggle: 0.0,
            session_break: 0.0,
            session_hang: 0.0,
            apply_failure: 0.0,
            partitions: Vec::new(),
            crashes: Vec::new(),
            crash_after_commit: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    pub nodes: usize,
    /// Local write transactions, spread over the write phase.
    pub writes: usize,
    /// How long writes go on (from the start).
    pub write_phase: Duration,
    /// How long faults go on: at least the write phase, longer if a
    /// partition or a crash outlasts it.
    pub fault_phase: Duration,
    /// One-way latency: base plus up to jitter.
    pub latency: Duration,
    pub jitter: Duration,
    pub faults: Faults,
    pub config: Config,
    /// How long after the fault phase the cluster has to converge.
    pub settle_limit: Duration,
    /// Every node joins through node 0 (as a fleet started from one
    /// bootstrap address does) instead of through three random others.
    pub join_through_first: bool,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

impl Scenario {
    pub fn new(class: Class, seed: u64) -> Scenario {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5ce7_a710);
        let nodes = match class {
            // Mostly 2–4 nodes (cheap), up to 8.
            Class::Small => match rng.random_range(0..10) {
                0..=2 => 2,
                3..=4 => 3,
                5..=6 => 4,
                _ => rng.random_range(5..=8),
            },
            Class::Large => rng.random_range(20..=50),
        };
        let writes = match class {
            Class::Small => rng.random_range(8..=24),
            Class::Large => rng.random_range(40..=80),
        };
        let write_phase = match class {
            Class::Small => ms(rng.random_range(1_000..=6_000)),
            Class::Large => ms(rng.random_range(3_000..=6_000)),
        };
        let phase_ms = write_phase.as_millis() as u64;
        let mut faults = Faults::none();
        // A quarter of the runs have a perfect network.
        if rng.random_bool(0.75) {
            let severity: f64 = match class {
                Class::Small => rng.random_range(0.0..1.0),
                Class::Large => rng.random_range(0.0..0.3),
            };
            faults.loss = 0.2 * severity;
            faults.duplicate = 0.05 * severity;
            faults.straggle = 0.03 * severity;
            faults.session_break = 0.2 * severity;
            faults.session_hang = 0.05 * severity;
            faults.apply_failure = 0.1 * severity;
            faults.crash_after_commit = 0.03 * severity;
            if rng.random_bool(0.3) {
                // Long enough, sometimes, for each side to declare the
                // other down.
                let start = ms(rng.random_range(0..phase_ms));
                let length = ms(rng.random_range(200..=15_000));
                let side: Vec<usize> = (0..nodes).filter(|_| rng.random_bool(0.5)).collect();
                faults.partitions.push((start, start + length, side));
            }
            let crashes = match class {
                Class::Small if rng.random_bool(0.4) => rng.random_range(1..=3),
                Class::Large if rng.random_bool(0.5) => rng.random_range(1..=4),
                _ => 0,
            };
            for _ in 0..crashes {
                let at = ms(rng.random_range(0..phase_ms));
                let down = ms(rng.random_range(10..=12_000));
                faults.crashes.push((at, down, rng.random_range(0..nodes)));
            }
        }
        let mut config =
            Config::for_cluster_size(NonZeroU32::new(nodes as u32).unwrap_or(NonZeroU32::MIN));
        // Small bounds, so versions split into parts and batches fill.
        config.max_chunk_bytes = rng.random_range(100..=3_000);
        config.max_apply_changes = rng.random_range(1..=200);
        config.broadcast_window = ms(rng.random_range(0..=20));
        config.fanout = rng.random_range(1..=4);
        // Direct broadcasts, epidemic ones, and clusters that cross over.
        config.direct_broadcast_limit = rng.random_range(0..=nodes);
        config.sync_peers = rng.random_range(1..=3);
        config.max_served_syncs = rng.random_range(1..=3);
        config.sync_timeout = Duration::from_secs(3);
        if rng.random_bool(0.2) {
            // Tiny parts and tight reassembly buffers: parts get evicted.
            config.max_chunk_bytes = rng.random_range(100..=250);
            config.max_pending_bytes = rng.random_range(100..=2_000);
        }
        let fault_phase = faults
            .partitions
            .iter()
            .map(|(_, end, _)| *end)
            .chain(faults.crashes.iter().map(|(at, down, _)| *at + *down))
            .fold(write_phase, Duration::max);
        Scenario {
            seed,
            nodes,
            writes,
            write_phase,
            fault_phase,
            latency: Duration::from_micros(rng.random_range(50..=2_000)),
            jitter: Duration::from_micros(rng.random_range(0..=10_000)),
            faults,
            config,
            settle_limit: Duration::from_secs(120),
            join_through_first: false,
        }
    }
}
