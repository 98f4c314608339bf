//! What each phase measured, for the report.

use super::*;

#[derive(Debug, Default)]
pub(crate) struct SizeReport {
    pub(crate) n: usize,
    pub(crate) started_in: Option<Duration>,
    /// Setup done → every node sees every other up.
    pub(crate) membership_in: Option<Duration>,
    pub(crate) idle_fresh: Option<Result<Idle, String>>,
    pub(crate) propagation: Option<Result<Propagation, String>>,
    pub(crate) throughput: Option<Result<Throughput, String>>,
    pub(crate) partition: Option<Result<Heal, String>>,
    pub(crate) idle_after: Option<Result<Idle, String>>,
    pub(crate) catchup: Option<Result<Catchup, String>>,
    pub(crate) notes: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Idle {
    pub(crate) secs: f64,
    pub(crate) rss: Vec<f64>,
    pub(crate) rss_anon: Vec<f64>,
    pub(crate) rss_file: Vec<f64>,
    pub(crate) pss: Vec<f64>,
    /// CPU used, fraction of one core.
    pub(crate) cpu: Vec<f64>,
    /// Per node: packets/s and bytes/s received over UDP (gossip).
    pub(crate) net: Result<Vec<(f64, f64)>, String>,
    pub(crate) rows_held: i64,
    pub(crate) machine: CpuUse,
}

#[derive(Debug)]
pub(crate) struct Propagation {
    pub(crate) stats: ProbeStats,
    pub(crate) rate: f64,
    pub(crate) poll: Duration,
    /// Gossip packets and bytes received by all nodes, per probe.
    pub(crate) net_per_probe: Option<(f64, f64)>,
    pub(crate) cpu: CpuUse,
}

#[derive(Debug)]
pub(crate) struct Throughput {
    pub(crate) writers: usize,
    pub(crate) secs: f64,
    pub(crate) bulk_rows: i64,
    pub(crate) transactions: u64,
    pub(crate) bulk_latency: Vec<Duration>,
    pub(crate) stats: ProbeStats,
    pub(crate) drain: Result<Duration, String>,
    /// Gossip packets and bytes received by all nodes per committed
    /// transaction, from the start of the load to the end of the drain.
    pub(crate) net_per_tx: Option<(f64, f64)>,
    /// Over the load (not the drain).
    pub(crate) cpu: CpuUse,
}

#[derive(Debug)]
pub(crate) struct Heal {
    pub(crate) sides: (usize, usize),
    pub(crate) rows_per_side: i64,
    /// The short round first, then the long ones.
    pub(crate) rounds: Vec<HealRound>,
}

impl Heal {
    pub(crate) fn long(&self) -> impl Iterator<Item = &HealRound> {
        self.rounds.iter().filter(|r| r.long)
    }

    pub(crate) fn short(&self) -> Option<&HealRound> {
        self.rounds.iter().find(|r| !r.long)
    }
}

#[derive(Debug)]
pub(crate) struct HealRound {
    /// Held until SWIM noticed (else healed as soon as each half held its
    /// rows).
    pub(crate) long: bool,
    pub(crate) written_in: Duration,
    pub(crate) sides_converged_in: Duration,
    pub(crate) noticed: Result<Duration, String>,
    pub(crate) held: Duration,
    /// Heal → every node holds at least one row of the other half.
    pub(crate) first_cross: Result<Duration, String>,
    /// Heal → every node holds both halves.
    pub(crate) converged: Result<Duration, String>,
    pub(crate) healed_at: Instant,
    /// Heal → every node's log shows every other node up again.
    pub(crate) membership: Result<Duration, String>,
    /// Gossip bytes received per row delivered: inside the halves (from
    /// the split to their convergence), and from the heal to convergence.
    pub(crate) bytes_inside: Option<f64>,
    pub(crate) bytes_heal: Option<f64>,
}

#[derive(Debug)]
pub(crate) struct Catchup {
    pub(crate) rows: i64,
    pub(crate) loaded_in: Duration,
    pub(crate) spread_in: Result<Duration, String>,
    /// Restart → accepting connections.
    pub(crate) ready: Duration,
    /// Restart → first row / all rows.
    pub(crate) first_row: Result<Duration, String>,
    pub(crate) done: Result<Duration, String>,
    pub(crate) rss_after: Option<f64>,
    /// From accepting connections to holding every row: the new node's
    /// CPU seconds, and every node's with the bench's.
    pub(crate) new_node_cpu: Option<f64>,
    pub(crate) cpu: Option<CpuUse>,
    /// Gossip bytes received per row delivered: while the load spread
    /// (rows × (n − 1) deliveries), and by the new node while catching up.
    pub(crate) spread_bytes: Option<f64>,
    pub(crate) catchup_bytes: Option<f64>,
}

impl Catchup {
    pub(crate) fn rate(&self) -> Option<f64> {
        self.done
            .as_ref()
            .ok()
            .map(|d| self.rows as f64 / d.as_secs_f64())
    }

    /// Rows/s from the first row received to the last.
    pub(crate) fn transfer_rate(&self) -> Option<f64> {
        let (Ok(first), Ok(done)) = (&self.first_row, &self.done) else {
            return None;
        };
        let span = done.saturating_sub(*first).as_secs_f64();
        (span > 0.0).then(|| self.rows as f64 / span)
    }
}
