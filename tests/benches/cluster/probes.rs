//! Visibility probes: single-row INSERTs into a probe table whose arrival
//! on every node is watched.
//!
//! A writer calls [`Tracker::begin`] before sending a probe INSERT and
//! [`Tracker::acked`] when the commit is acknowledged. One observer per
//! node ([`Tracker::observe`], a connection of its own) polls
//! `SELECT seq FROM <table> WHERE seq >= $1` (prepared; `$1` is the oldest
//! probe that node has not shown yet, so an answer holds only the few
//! probes in flight) every `poll`, and only while some probe is missing on
//! that node: between probes the observers sleep.
//!
//! Each poll is taken to run on the node at the midpoint of its round
//! trip. A probe became visible on a node after the last poll that did not
//! show it (or its acknowledgement, if later) and before the first poll
//! that did; the estimate is the middle of that window (its error at most
//! half the window, ± and unbiased for arrivals uniform in it), the end of
//! the window is an upper bound. The origin node counts it visible at the
//! acknowledgement.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use patina_tests::describe_error;
use patina_tests::tokio_postgres::Client;
use tokio::sync::Notify;

const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
struct Probe {
    origin: usize,
    sent: Instant,
    acked: Option<Instant>,
}

/// When a node first showed a probe: the previous poll that did not show
/// it (if any), and the poll that did.
#[derive(Debug, Clone, Copy)]
struct Seen {
    before: Option<Instant>,
    at: Instant,
}

#[derive(Debug)]
pub struct Tracker {
    table: String,
    base: i64,
    probes: RefCell<Vec<Probe>>,
    /// `[node][probe]`.
    seen: RefCell<Vec<Vec<Option<Seen>>>>,
    /// Per node: every probe before this one was seen there.
    next_unseen: RefCell<Vec<usize>>,
    wake: Vec<Notify>,
    writing: Cell<bool>,
    stop_at: Cell<Option<Instant>>,
    polls: Cell<u64>,
    /// Sum and count of the gaps between consecutive polls of one node.
    gap_sum: Cell<Duration>,
    gaps: Cell<u64>,
}

/// What the probes showed. Latencies run from the writer's commit
/// acknowledgement; sorted.
#[derive(Debug, Clone, Default)]
pub struct ProbeStats {
    pub probes: usize,
    /// → visible on every node (estimate); probes never seen everywhere
    /// are left out (see `missing`).
    pub all_nodes: Vec<Duration>,
    /// → visible on every node, upper bound (the poll that showed it on
    /// the last node).
    pub all_nodes_upper: Vec<Duration>,
    /// → visible on the first node other than the origin.
    pub first_remote: Vec<Duration>,
    /// → visible on a node, every (probe, other node) pair.
    pub per_node: Vec<Duration>,
    /// Client-side INSERT latency (send → acknowledgement).
    pub write: Vec<Duration>,
    /// (acknowledgement since the first probe's, all-nodes latency), in
    /// probe order.
    pub timeline: Vec<(Duration, Duration)>,
    /// Probes not seen on every node by the end of the drain.
    pub missing: usize,
    /// Observer queries run.
    pub polls: u64,
    /// Mean time between two consecutive polls of a node (while a probe
    /// was missing there).
    pub mean_poll_gap: Option<Duration>,
}

impl Tracker {
    pub fn new(table: &str, base: i64, nodes: usize) -> Tracker {
        Tracker {
            table: table.to_owned(),
            base,
            probes: RefCell::new(Vec::new()),
            seen: RefCell::new(vec![Vec::new(); nodes]),
            next_unseen: RefCell::new(vec![0; nodes]),
            wake: (0..nodes).map(|_| Notify::new()).collect(),
            writing: Cell::new(true),
            stop_at: Cell::new(None),
            polls: Cell::new(0),
            gap_sum: Cell::new(Duration::ZERO),
            gaps: Cell::new(0),
        }
    }

    pub fn insert_sql(&self) -> String {
        format!("INSERT INTO {} (seq, origin) VALUES ($1, $2)", self.table)
    }

    /// Registers a probe written on `origin`; returns its index and `seq`.
    pub fn begin(&self, origin: usize) -> (usize, i64) {
        let mut probes = self.probes.borrow_mut();
        probes.push(Probe {
            origin,
            sent: Instant::now(),
            acked: None,
        });
        for seen in self.seen.borrow_mut().iter_mut() {
            seen.push(None);
        }
        let k = probes.len() - 1;
        (k, self.base + k as i64)
    }

    /// Probe `k` committed (acknowledged at `at`): observers start looking.
    pub fn acked(&self, k: usize, at: Instant) {
        let origin = {
            let mut probes = self.probes.borrow_mut();
            probes[k].acked = Some(at);
            probes[k].origin
        };
        self.seen.borrow_mut()[origin][k].get_or_insert(Seen { before: None, at });
        self.advance(origin);
        for wake in &self.wake {
            wake.notify_one();
        }
    }

    /// No more probes; observers stop once every probe is seen or `drain`
    /// has passed.
    pub fn finish(&self, drain: Duration) {
        self.writing.set(false);
        self.stop_at.set(Some(Instant::now() + drain));
        for wake in &self.wake {
            wake.notify_one();
        }
    }

    fn advance(&self, node: usize) {
        let seen = self.seen.borrow();
        let mut next = self.next_unseen.borrow_mut();
        while next[node] < seen[node].len() && seen[node][next[node]].is_some() {
            next[node] += 1;
        }
    }

    /// Watches node `node` through `client` until [`Tracker::finish`]ed and
    /// done.
    pub async fn observe(
        &self,
        node: usize,
        client: &Client,
        poll: Duration,
    ) -> Result<(), String> {
        let statement = client
            .prepare(&format!("SELECT seq FROM {} WHERE seq >= $1", self.table))
            .await
            .map_err(|e| {
                format!(
                    "node {node}: preparing the probe query: {}",
                    describe_error(&e)
                )
            })?;
        // when the previous poll ran on the node; and whether this poll
        // follows it directly (for the mean gap)
        let mut last_poll: Option<Instant> = None;
        let mut polling = false;
        loop {
            let next = self.next_unseen.borrow()[node];
            let total = self.probes.borrow().len();
            if next >= total {
                if !self.writing.get() {
                    return Ok(());
                }
                polling = false;
                self.wake[node].notified().await;
                continue;
            }
            if self.stop_at.get().is_some_and(|at| Instant::now() >= at) {
                return Ok(());
            }
            // a probe still in flight to its origin: nothing to look for yet
            if self.probes.borrow()[next].acked.is_none() {
                polling = false;
                self.wake[node].notified().await;
                continue;
            }
            let low = self.base + next as i64;
            let asked = Instant::now();
            let rows = tokio::time::timeout(QUERY_TIMEOUT, client.query(&statement, &[&low]))
                .await
                .map_err(|_| format!("node {node}: probe query took over {QUERY_TIMEOUT:?}"))?
                .map_err(|e| format!("node {node}: probe query: {}", describe_error(&e)))?;
            let at = asked + asked.elapsed() / 2;
            self.polls.set(self.polls.get() + 1);
            if polling && let Some(previous) = last_poll {
                self.gap_sum.set(self.gap_sum.get() + (at - previous));
                self.gaps.set(self.gaps.get() + 1);
            }
            {
                let mut seen = self.seen.borrow_mut();
                for row in rows {
                    let seq: i64 = row.get(0);
                    let k = seq - self.base;
                    if k >= 0
                        && let Some(slot) = seen[node].get_mut(k as usize)
                        && slot.is_none()
                    {
                        *slot = Some(Seen {
                            before: last_poll,
                            at,
                        });
                    }
                }
            }
            last_poll = Some(at);
            polling = true;
            self.advance(node);
            tokio::time::sleep(poll).await;
        }
    }

    pub fn stats(&self) -> ProbeStats {
        let probes = self.probes.borrow();
        let seen = self.seen.borrow();
        let mut stats = ProbeStats {
            probes: probes.len(),
            polls: self.polls.get(),
            mean_poll_gap: (self.gaps.get() > 0)
                .then(|| self.gap_sum.get() / self.gaps.get() as u32),
            ..ProbeStats::default()
        };
        let first_ack = probes.iter().find_map(|p| p.acked);
        for (k, probe) in probes.iter().enumerate() {
            let Some(acked) = probe.acked else {
                stats.missing += 1;
                continue;
            };
            stats.write.push(acked - probe.sent);
            // (estimate, upper bound) of the latest node
            let mut last = Some((Duration::ZERO, Duration::ZERO));
            let mut first_remote: Option<Duration> = None;
            for (node, seen) in seen.iter().enumerate() {
                let Some(s) = seen[k] else {
                    last = None;
                    continue;
                };
                let upper = s.at.saturating_duration_since(acked);
                let lower = s
                    .before
                    .map_or(Duration::ZERO, |b| b.saturating_duration_since(acked))
                    .min(upper);
                let estimate = (lower + upper) / 2;
                last = last.map(|(e, u)| (e.max(estimate), u.max(upper)));
                if node != probe.origin {
                    first_remote = Some(first_remote.map_or(estimate, |f| f.min(estimate)));
                    stats.per_node.push(estimate);
                }
            }
            match last {
                Some((estimate, upper)) => {
                    stats.all_nodes.push(estimate);
                    stats.all_nodes_upper.push(upper);
                    if let Some(first) = first_ack {
                        stats.timeline.push((acked - first, estimate));
                    }
                }
                None => stats.missing += 1,
            }
            if let Some(first) = first_remote {
                stats.first_remote.push(first);
            }
        }
        stats.all_nodes.sort();
        stats.all_nodes_upper.sort();
        stats.first_remote.sort();
        stats.per_node.sort();
        stats.write.sort();
        stats
    }
}
