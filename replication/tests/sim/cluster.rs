//! The simulated cluster: nodes (a `Node` and a real `Store` each), one
//! event queue on virtual time, a seeded RNG for every choice, and a driver
//! that does what the async agent does: moves messages (with the
//! scenario's faults), runs sync sessions against the stores, merges apply
//! batches, fires timers, runs local writes, crashes and restarts nodes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use patina_replication::core::{Applied, Event, Node, batch_chunks, chunk_versions};
use patina_replication::{Chunk, Message, NodeId, SyncState};
use patina_store::{SiteId, Store};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::scenario::Scenario;
use super::stores::SimStore;
use super::workload;

/// One simulated machine. The store survives crashes; the node does not.
pub struct SimNode {
    pub addr: SocketAddr,
    pub store: Store,
    /// Keeps the in-memory database alive.
    _keeper: rusqlite::Connection,
    pub node: Option<Node>,
    /// Bumped at every crash: sessions and apply outcomes of an earlier run
    /// are void.
    pub generation: u64,
    /// The incarnation of the last run (the next run uses one more).
    pub incarnation: u64,
    pub left: bool,
    /// A batch is being merged: the next is taken when it is done (so the
    /// node can gather more into it meanwhile).
    applying: bool,
    /// The highest own version handed to `local_changes`.
    last_local: u64,
    counter: u64,
    /// Unique keys this node inserted (they must end up everywhere).
    pub unique: Vec<i64>,
}

struct Session {
    client: usize,
    client_generation: u64,
    server: usize,
    server_generation: u64,
    /// serve_sync said yes: the server must be told when it ends.
    serving: bool,
    done: bool,
}

enum Ev {
    Deliver {
        to: usize,
        from: SocketAddr,
        message: Message,
    },
    SyncRequest {
        session: u64,
        request: SyncState,
    },
    SyncChunks {
        session: u64,
        chunks: Vec<Chunk>,
    },
    SyncEnd {
        session: u64,
        ok: bool,
    },
    Applied {
        node: usize,
        generation: u64,
        results: Vec<Applied>,
    },
    Write {
        node: usize,
    },
    Crash {
        node: usize,
        down: Duration,
    },
    Restart {
        node: usize,
    },
    Partition {
        side: Vec<usize>,
    },
    Heal,
    FaultsEnd,
}

/// What a run exercised, for the summary line.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub delivered: u64,
    pub dropped: u64,
    pub sessions: u64,
    pub sessions_failed: u64,
    pub batches: u64,
    pub batches_failed: u64,
    pub writes: u64,
    pub crashes: u64,
    /// Chunks sent that are one part of a larger version.
    pub parts: u64,
    /// Events the nodes reported.
    pub evicted: u64,
    pub sync_timeouts: u64,
    pub members_down: u64,
    pub rejoins: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.delivered += o.delivered;
        self.dropped += o.dropped;
        self.sessions += o.sessions;
        self.sessions_failed += o.sessions_failed;
        self.batches += o.batches;
        self.batches_failed += o.batches_failed;
        self.writes += o.writes;
        self.crashes += o.crashes;
        self.parts += o.parts;
        self.evicted += o.evicted;
        self.sync_timeouts += o.sync_timeouts;
        self.members_down += o.members_down;
        self.rejoins += o.rejoins;
    }
}

fn multipart(chunks: &[Chunk]) -> u64 {
    chunks
        .iter()
        .filter(|c| matches!(c, Chunk::Changes { parts, .. } if *parts > 1))
        .count() as u64
}

pub struct Sim {
    pub scenario: Scenario,
    rng: SmallRng,
    base: Instant,
    pub now: Duration,
    seq: u64,
    queue: BTreeMap<(Duration, u64), Ev>,
    pub nodes: Vec<SimNode>,
    by_addr: BTreeMap<SocketAddr, usize>,
    sessions: BTreeMap<u64, Session>,
    next_session: u64,
    /// Which side of the current partition each node is on.
    partition: Option<Vec<bool>>,
    faults_on: bool,
    pub stats: Stats,
    /// Guards against a node asking for a timeout that never advances.
    spin: (usize, Duration, u32),
}

fn addr_of(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, (i / 200) as u8, (i % 200 + 1) as u8], 7878))
}

impl Sim {
    /// Opens every node's store, starts its node and has it join through a
    /// few others; schedules the writes and faults of the scenario.
    pub fn new(scenario: Scenario) -> Sim {
        let mut rng = SmallRng::seed_from_u64(scenario.seed);
        let base = Instant::now();
        let mut nodes = Vec::with_capacity(scenario.nodes);
        let mut by_addr = BTreeMap::new();
        for i in 0..scenario.nodes {
            let SimStore { store, keeper } = SimStore::new(SiteId(rng.random()));
            let addr = addr_of(i);
            by_addr.insert(addr, i);
            nodes.push(SimNode {
                addr,
                store,
                _keeper: keeper,
                node: None,
                generation: 0,
                incarnation: 0,
                left: false,
                applying: false,
                last_local: 0,
                counter: 0,
                unique: Vec::new(),
            });
        }
        let mut sim = Sim {
            rng,
            base,
            now: Duration::ZERO,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            by_addr,
            sessions: BTreeMap::new(),
            next_session: 0,
            partition: None,
            faults_on: true,
            stats: Stats::default(),
            spin: (usize::MAX, Duration::MAX, 0),
            scenario,
        };
        for i in 0..sim.nodes.len() {
            sim.start_node(i, 1);
        }
        sim.schedule_scenario();
        sim
    }

    fn schedule_scenario(&mut self) {
        let phase = self.scenario.fault_phase;
        let writes = self.scenario.write_phase.as_micros() as u64;
        for _ in 0..self.scenario.writes {
            let at = Duration::from_micros(self.rng.random_range(0..writes));
            let node = self.rng.random_range(0..self.nodes.len());
            self.schedule(at, Ev::Write { node });
        }
        for (start, end, side) in self.scenario.faults.partitions.clone() {
            self.schedule(start, Ev::Partition { side });
            self.schedule(end.min(phase), Ev::Heal);
        }
        for (at, down, node) in self.scenario.faults.crashes.clone() {
            self.schedule(at, Ev::Crash { node, down });
        }
        self.schedule(phase, Ev::FaultsEnd);
    }

    fn instant(&self) -> Instant {
        self.base + self.now
    }

    fn schedule(&mut self, at: Duration, ev: Ev) {
        self.queue.insert((at, self.seq), ev);
        self.seq += 1;
    }

    fn after(&mut self, delay: Duration, ev: Ev) {
        self.schedule(self.now + delay, ev);
    }

    fn latency(&mut self) -> Duration {
        let jitter = self.scenario.jitter.as_micros() as u64;
        self.scenario.latency + Duration::from_micros(self.rng.random_range(0..=jitter))
    }

    /// A new run of node `i` (incarnation `incarnation`), from its store.
    fn start_node(&mut self, i: usize, incarnation: u64) {
        let now = self.instant();
        let n = &mut self.nodes[i];
        let id = NodeId::new(n.store.site_id(), n.addr, incarnation);
        let have = SyncState::from(n.store.sync_state().expect("sync state"));
        let seed = self.rng.random();
        let mut node = Node::new(id, have, self.scenario.config.clone(), seed, now);
        n.last_local = n.store.db_version().expect("db version");
        n.incarnation = incarnation;
        // Join through node 0, or through up to three others.
        let count = self.nodes.len();
        let mut bootstrap = Vec::new();
        if self.scenario.join_through_first {
            if i != 0 {
                bootstrap.push(addr_of(0));
            }
        } else if count > 1 {
            for _ in 0..3 {
                let other = (i + self.rng.random_range(1..count)) % count;
                bootstrap.push(addr_of(other));
            }
        }
        node.join(&bootstrap, now);
        self.nodes[i].node = Some(node);
        self.drain(i);
    }

    pub fn connected(&self, a: usize, b: usize) -> bool {
        self.partition
            .as_ref()
            .is_none_or(|side| side[a] == side[b])
    }

    /// Sends a message over the simulated network.
    fn send(&mut self, from: usize, to: SocketAddr, message: Message) {
        let Some(&to) = self.by_addr.get(&to) else {
            self.stats.dropped += 1;
            return;
        };
        let faults = &self.scenario.faults;
        let (loss, duplicate, straggle) = (faults.loss, faults.duplicate, faults.straggle);
        if self.faults_on && (!self.connected(from, to) || self.rng.random_bool(loss)) {
            self.stats.dropped += 1;
            return;
        }
        let copies = if self.faults_on && self.rng.random_bool(duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = self.latency();
            if self.faults_on && self.rng.random_bool(straggle) {
                delay += Duration::from_millis(self.rng.random_range(100..=1_000));
            }
            let from = self.nodes[from].addr;
            self.after(
                delay,
                Ev::Deliver {
                    to,
                    from,
                    message: message.clone(),
                },
            );
        }
    }

    /// Carries out what node `i` asks for.
    fn drain(&mut self, i: usize) {
        let applying = self.nodes[i].applying;
        let Some(node) = self.nodes[i].node.as_mut() else {
            return;
        };
        while let Some(event) = node.poll_event() {
            match event {
                Event::PartsEvicted { .. } => self.stats.evicted += 1,
                Event::SyncTimedOut(_) => self.stats.sync_timeouts += 1,
                Event::MemberDown(_) => self.stats.members_down += 1,
                Event::Rejoined(_) => self.stats.rejoins += 1,
                _ => {}
            }
        }
        let mut transmits = Vec::new();
        while let Some(t) = node.poll_transmit() {
            transmits.push(t);
        }
        let mut syncs = Vec::new();
        while let Some(s) = node.poll_sync() {
            syncs.push(s);
        }
        let batch = if applying { None } else { node.poll_apply() };
        for (to, message) in transmits {
            if let Message::Broadcast(chunks) = &message {
                self.stats.parts += multipart(chunks);
            }
            self.send(i, to, message);
        }
        for (peer, request) in syncs {
            self.open_session(i, peer, request);
        }
        if let Some(batch) = batch {
            self.nodes[i].applying = true;
            self.stats.batches += 1;
            let fail = self.faults_on && self.rng.random_bool(self.scenario.faults.apply_failure);
            let ok = if fail {
                self.stats.batches_failed += 1;
                false
            } else {
                self.nodes[i]
                    .store
                    .merge(&batch)
                    .unwrap_or_else(|e| panic!("merge failed on node {i}: {e}"));
                true
            };
            let results: Vec<Applied> = batch
                .iter()
                .map(|v| (v.site_id(), v.versions(), ok))
                .collect();
            // The merge takes a while: the next batch waits for it.
            let delay = Duration::from_micros(self.rng.random_range(100..=3_000));
            let generation = self.nodes[i].generation;
            self.after(
                delay,
                Ev::Applied {
                    node: i,
                    generation,
                    results,
                },
            );
        }
    }

    fn open_session(&mut self, client: usize, peer: SocketAddr, request: SyncState) {
        self.stats.sessions += 1;
        let Some(&server) = self.by_addr.get(&peer) else {
            panic!("node {client} opened a session with unknown {peer}");
        };
        let id = self.next_session;
        self.next_session += 1;
        self.sessions.insert(
            id,
            Session {
                client,
                client_generation: self.nodes[client].generation,
                server,
                server_generation: self.nodes[server].generation,
                serving: false,
                done: false,
            },
        );
        let faults = &self.scenario.faults;
        let (loss, hang) = (faults.loss, faults.session_hang);
        let delay = self.latency();
        if self.faults_on && (!self.connected(client, server) || self.rng.random_bool(loss)) {
            self.after(
                delay * 2,
                Ev::SyncEnd {
                    session: id,
                    ok: false,
                },
            );
        } else if self.faults_on && self.rng.random_bool(hang) {
            // Swallowed: the client's node must time it out.
        } else {
            self.after(
                delay,
                Ev::SyncRequest {
                    session: id,
                    request,
                },
            );
        }
    }

    fn serve(&mut self, id: u64, request: SyncState) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let (client, server) = (s.client, s.server);
        let alive = self.nodes[server].generation == s.server_generation
            && self.nodes[server].node.is_some();
        let now = self.instant();
        let client_addr = self.nodes[client].addr;
        let ranges = match self.nodes[server].node.as_mut() {
            Some(node) if alive => node.serve_sync(client_addr, &request, now),
            _ => None,
        };
        self.drain(server);
        let Some(ranges) = ranges else {
            let delay = self.latency();
            self.after(
                delay,
                Ev::SyncEnd {
                    session: id,
                    ok: false,
                },
            );
            return;
        };
        if let Some(s) = self.sessions.get_mut(&id) {
            s.serving = true;
        }
        let store = &self.nodes[server].store;
        let mut versions = Vec::new();
        for (site, range) in ranges {
            versions.extend(store.changes(site, range).expect("changes"));
        }
        let max = self.scenario.config.max_chunk_bytes;
        let frames = batch_chunks(chunk_versions(versions, max), max);
        let cut = if self.faults_on && self.rng.random_bool(self.scenario.faults.session_break) {
            Some(self.rng.random_range(0..=frames.len()))
        } else {
            None
        };
        let mut at = self.latency();
        self.stats.parts += frames.iter().map(|f| multipart(f)).sum::<u64>();
        for (k, chunks) in frames.into_iter().enumerate() {
            if cut == Some(k) {
                break;
            }
            self.after(
                at,
                Ev::SyncChunks {
                    session: id,
                    chunks,
                },
            );
            at += Duration::from_micros(self.rng.random_range(10..=500));
        }
        self.after(
            at,
            Ev::SyncEnd {
                session: id,
                ok: cut.is_none(),
            },
        );
    }

    /// Whether the session's server still runs the run that served it and
    /// can reach the client.
    fn session_intact(&self, s: &Session) -> bool {
        self.nodes[s.server].generation == s.server_generation
            && self.nodes[s.server].node.is_some()
            && (!self.faults_on || self.connected(s.client, s.server))
    }

    fn end_session(&mut self, id: u64, ok: bool) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        if s.done {
            return;
        }
        s.done = true;
        let (client, server, serving, client_generation, server_generation) = (
            s.client,
            s.server,
            s.serving,
            s.client_generation,
            s.server_generation,
        );
        if !ok {
            self.stats.sessions_failed += 1;
        }
        let now = self.instant();
        let (client_addr, server_addr) = (self.nodes[client].addr, self.nodes[server].addr);
        if serving && self.nodes[server].generation == server_generation {
            if let Some(node) = self.nodes[server].node.as_mut() {
                node.served(client_addr);
            }
            self.drain(server);
        }
        if self.nodes[client].generation == client_generation {
            if let Some(node) = self.nodes[client].node.as_mut() {
                node.sync_ended(server_addr, ok, now);
            }
            self.drain(client);
        }
        self.sessions.remove(&id);
    }

    fn chunks(&mut self, id: u64, chunks: Vec<Chunk>) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        if s.done {
            return;
        }
        if !self.session_intact(s) {
            self.end_session(id, false);
            return;
        }
        let (client, client_generation, server) = (s.client, s.client_generation, s.server);
        let now = self.instant();
        let server_addr = self.nodes[server].addr;
        if self.nodes[client].generation == client_generation {
            if let Some(node) = self.nodes[client].node.as_mut() {
                node.sync_chunks(server_addr, chunks, now);
            }
            self.drain(client);
        }
    }

    fn write(&mut self, i: usize) {
        if self.nodes[i].node.is_none() || self.nodes[i].left {
            return;
        }
        self.stats.writes += 1;
        let n = &mut self.nodes[i];
        let inserted = workload::write(&n.store, i, &mut n.counter, &mut self.rng);
        n.unique.extend(inserted);
        let head = n.store.db_version().expect("db version");
        if head <= n.last_local {
            return;
        }
        let crash_after_commit = self.scenario.faults.crash_after_commit;
        if self.faults_on && self.rng.random_bool(crash_after_commit) {
            let down = Duration::from_millis(self.rng.random_range(10..=2_000));
            self.crash(i, down);
            return;
        }
        let site = n.store.site_id();
        let versions = n
            .store
            .changes(site, n.last_local + 1..=head)
            .expect("changes");
        n.last_local = head;
        let now = self.instant();
        let n = &mut self.nodes[i];
        if let Some(node) = n.node.as_mut() {
            node.local_changes(versions, now);
        }
        self.drain(i);
    }

    fn crash(&mut self, i: usize, down: Duration) {
        let n = &mut self.nodes[i];
        let Some(node) = n.node.take() else {
            return;
        };
        n.incarnation = node.id().incarnation;
        n.generation += 1;
        n.applying = false;
        self.stats.crashes += 1;
        self.after(down, Ev::Restart { node: i });
    }

    fn restart(&mut self, i: usize) {
        if self.nodes[i].node.is_some() {
            return;
        }
        let incarnation = self.nodes[i].incarnation + 1;
        self.start_node(i, incarnation);
    }

    /// Crashes node `i` now and restarts it after `down`.
    pub fn crash_restart(&mut self, i: usize, down: Duration) {
        self.crash(i, down);
    }

    /// Node `i` leaves the cluster (it keeps running, silent).
    pub fn leave(&mut self, i: usize) {
        let now = self.instant();
        if let Some(node) = self.nodes[i].node.as_mut() {
            node.leave(now);
            self.nodes[i].left = true;
        }
        self.drain(i);
    }

    fn handle(&mut self, ev: Ev) {
        let now = self.instant();
        match ev {
            Ev::Deliver { to, from, message } => {
                if let Some(node) = self.nodes[to].node.as_mut() {
                    self.stats.delivered += 1;
                    node.handle_message(from, message, now);
                    self.drain(to);
                }
            }
            Ev::SyncRequest { session, request } => self.serve(session, request),
            Ev::SyncChunks { session, chunks } => self.chunks(session, chunks),
            Ev::SyncEnd { session, ok } => {
                let intact = self
                    .sessions
                    .get(&session)
                    .is_some_and(|s| self.session_intact(s));
                self.end_session(session, ok && intact);
            }
            Ev::Applied {
                node,
                generation,
                results,
            } => {
                if self.nodes[node].generation == generation
                    && let Some(n) = self.nodes[node].node.as_mut()
                {
                    n.applied(results);
                    self.nodes[node].applying = false;
                    self.drain(node);
                }
            }
            Ev::Write { node } => self.write(node),
            Ev::Crash { node, down } => self.crash(node, down),
            Ev::Restart { node } => self.restart(node),
            Ev::Partition { side } => {
                let set: BTreeSet<usize> = side.into_iter().collect();
                self.partition = Some((0..self.nodes.len()).map(|i| set.contains(&i)).collect());
            }
            Ev::Heal => self.partition = None,
            Ev::FaultsEnd => {
                self.faults_on = false;
                self.partition = None;
                for i in 0..self.nodes.len() {
                    self.restart(i);
                }
            }
        }
    }

    /// The earliest node timeout: (when, node).
    fn next_timeout(&self) -> Option<(Duration, usize)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let at = n.node.as_ref()?.poll_timeout()?;
                Some((at.saturating_duration_since(self.base), i))
            })
            .min()
    }

    /// Runs events and timers up to `until` (virtual).
    pub fn run_until(&mut self, until: Duration) {
        loop {
            let event = self.queue.first_key_value().map(|(k, _)| k.0);
            let timer = self.next_timeout();
            let take_timer = match (event, timer) {
                (None, None) => break,
                (Some(e), Some((t, _))) => t < e,
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if take_timer {
                let Some((at, i)) = timer else { break };
                if at > until {
                    break;
                }
                self.now = self.now.max(at);
                self.guard_spin(i);
                let now = self.instant();
                if let Some(node) = self.nodes[i].node.as_mut() {
                    node.handle_timeout(now);
                }
                self.drain(i);
            } else {
                let Some(entry) = self.queue.first_entry() else {
                    break;
                };
                if entry.key().0 > until {
                    break;
                }
                let ((at, _), ev) = entry.remove_entry();
                self.now = self.now.max(at);
                self.handle(ev);
            }
        }
        self.now = self.now.max(until);
    }

    fn guard_spin(&mut self, i: usize) {
        if self.spin.0 == i && self.spin.1 == self.now {
            self.spin.2 += 1;
            assert!(
                self.spin.2 < 10_000,
                "node {i} keeps asking for a timeout at {:?} without advancing",
                self.now
            );
        } else {
            self.spin = (i, self.now, 0);
        }
    }

    pub fn fault_phase_over(&self) -> bool {
        !self.faults_on
    }
}
