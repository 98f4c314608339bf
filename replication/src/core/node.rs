//! The node: membership, broadcast, reassembly, apply and anti-entropy
//! state, driven by inputs and drained of outputs.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use foca::{Foca, NoCustomBroadcast, OwnedNotification, PostcardCodec};
use patina_store::{ChangeSet, SiteId, Versions};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;

use super::anti_entropy::AntiEntropy;
use super::apply::ApplyQueue;
use super::broadcast::{BroadcastQueue, Transmit, choose};
use super::chunk::chunk_versions;
use super::config::Config;
use super::membership::{Event, Member, MemberState, Outbox, swim_for_size};
use super::reassembly::{Insert, Reassembly, Source};
use super::recontact::Recontact;
use super::timers::Timers;
use crate::identity::NodeId;
use crate::message::{Chunk, Message};
use crate::sync::{Holdings, SyncState};

type Swim = Foca<NodeId, PostcardCodec, SmallRng, NoCustomBroadcast>;

/// The identity an announce to a bootstrap address is sent to: foca accepts
/// an announce addressed to any identity at its own address.
fn placeholder(addr: SocketAddr) -> NodeId {
    NodeId::new(SiteId([0; 16]), addr, 0)
}

/// The outcome of applying one item of a batch from [`Node::poll_apply`]:
/// the item's site, its versions, and whether the merge committed.
pub type Applied = (SiteId, RangeInclusive<u64>, bool);

/// One node's replication logic, sans IO.
///
/// # Driving it
///
/// Inputs (`handle_*`, [`Node::join`], [`Node::leave`],
/// [`Node::local_changes`], the sync session calls, [`Node::applied`]) take
/// the current time; the node never reads a clock and draws randomness only
/// from the seed given to [`Node::new`]. After every input, the driver
/// drains the outputs until each returns `None`:
///
/// 1. [`Node::poll_transmit`] (or [`Node::poll_transmit_many`]): messages
///    to send (SWIM packets as datagrams, broadcasts on streams);
/// 2. [`Node::poll_sync`]: sync sessions to open: send the request to the
///    peer, then feed its answer to [`Node::sync_chunks`] and its end (or
///    failure, busy answer, timeout) to [`Node::sync_ended`];
/// 3. [`Node::poll_apply`]: batches to merge into the store, whose outcome
///    goes to [`Node::applied`] (every batch handed out must be reported,
///    ok or not, or its versions stay in flight). Better taken one at a
///    time, when the previous merge is done: versions that arrive
///    meanwhile wait in the node and go out together in the next batch;
/// 4. [`Node::poll_event`]: what happened, for logs and metrics;
///
/// then sleeps until [`Node::poll_timeout`] (or the next input), and calls
/// [`Node::handle_timeout`] once that instant has passed.
///
/// Serving a peer's sync: [`Node::serve_sync`] says which ranges to send
/// (or that the node is busy); the driver reads them from the store, cuts
/// them with [`chunk_versions`](super::chunk_versions) (and groups them into
/// messages with [`batch_chunks`](super::batch_chunks)), sends them and
/// calls [`Node::served`] at the end.
///
/// Every version this node commits must reach [`Node::local_changes`]: the
/// node serves its own site's versions from what it was told, not from the
/// store.
pub struct Node {
    config: Config,
    rng: SmallRng,
    swim: Swim,
    /// What of foca's settings follows the cluster's size, as applied.
    swim_scale: SwimScale,
    outbox: Outbox,
    timers: Timers<foca::Timer<NodeId>>,
    left: bool,
    bootstrap: Vec<SocketAddr>,
    /// While no member is active: when to announce again.
    rejoin_at: Option<Instant>,
    recontact: Recontact,
    /// When to announce to members seen down next (none while none is).
    recontact_at: Option<Instant>,
    /// When a member last came up, and when to ask one for the members it
    /// knows next (see [`Config::member_exchange`]).
    member_up_at: Option<Instant>,
    exchange_at: Option<Instant>,
    /// Versions merged into the store (or committed here).
    holdings: Holdings,
    have: SyncState,
    /// Versions complete and queued, or handed to the driver to merge.
    pending: Holdings,
    reassembly: Reassembly,
    apply: ApplyQueue,
    broadcast: BroadcastQueue,
    anti_entropy: AntiEntropy,
    transmits: VecDeque<Transmit>,
    syncs: VecDeque<(SocketAddr, SyncState)>,
    events: VecDeque<Event>,
    /// The latest time an input gave.
    now: Instant,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("id", self.swim.identity())
            .field("left", &self.left)
            .field("active_members", &self.swim.num_members())
            .field("have", &self.have)
            .field("ready", &self.apply.len())
            .field("sessions", &self.anti_entropy.open_sessions())
            .field("served", &self.anti_entropy.served_sessions())
            .finish_non_exhaustive()
    }
}

impl Node {
    /// A node with identity `id` holding `have` (the store's
    /// [`sync_state`](patina_store::Store::sync_state), its own site
    /// included). `seed` feeds every random choice; `now` starts the sync
    /// schedule. The node knows no member until [`Node::join`].
    pub fn new(id: NodeId, have: SyncState, config: Config, seed: u64, now: Instant) -> Node {
        let mut rng = SmallRng::seed_from_u64(seed);
        let swim_rng = SmallRng::from_rng(&mut rng);
        let recontact = Recontact::new(config.recontact_fast, config.recontact_doubling, now);
        let swim_config = swim_config(&config, 0);
        let swim_scale = SwimScale::of(&swim_config);
        let swim = Foca::new(id, swim_config, swim_rng, PostcardCodec);
        let holdings = Holdings::from_state(&have);
        let anti_entropy = AntiEntropy::new(&config, &mut rng, now);
        Node {
            have: holdings.to_state(),
            holdings,
            pending: Holdings::new(),
            reassembly: Reassembly::new(config.max_pending_bytes),
            apply: ApplyQueue::new(config.max_apply_changes),
            broadcast: BroadcastQueue::new(config.broadcast_window, config.max_chunk_bytes),
            anti_entropy,
            rng,
            swim,
            swim_scale,
            outbox: Outbox::default(),
            timers: Timers::new(),
            left: false,
            bootstrap: Vec::new(),
            rejoin_at: None,
            recontact,
            recontact_at: None,
            member_up_at: None,
            exchange_at: None,
            transmits: VecDeque::new(),
            syncs: VecDeque::new(),
            events: VecDeque::new(),
            now,
            config,
        }
    }

    /// This node's current identity (its incarnation grows when it is
    /// declared down and rejoins).
    pub fn id(&self) -> NodeId {
        *self.swim.identity()
    }

    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    fn own_site(&self) -> SiteId {
        self.swim.identity().site
    }

    /// Asks to join the cluster through `bootstrap` (a SWIM announce to each
    /// address). The addresses are remembered: while this node knows no
    /// active member, it announces to them again every
    /// [`Config::rejoin_interval`].
    pub fn join(&mut self, bootstrap: &[SocketAddr], now: Instant) {
        self.tick(now);
        let own = self.id().addr;
        for addr in bootstrap {
            if *addr != own && !self.bootstrap.contains(addr) {
                self.bootstrap.push(*addr);
            }
        }
        self.announce(self.bootstrap.clone(), now);
        if self.swim.num_members() == 0 {
            self.rejoin_at = Some(now + self.rejoin_period(now));
        }
    }

    /// While this node knows no active member: how long until it announces
    /// again.
    fn rejoin_period(&self, now: Instant) -> Duration {
        self.recontact.period(now, self.config.rejoin_interval)
    }

    /// Announces to a few members seen down, if it is time (and this node
    /// has active members: while alone, rejoining announces to all of
    /// them), and schedules the next round while any is down.
    fn recontact_down(&mut self, now: Instant) {
        if self.recontact_at.is_some_and(|at| at > now) {
            return;
        }
        let up = self.up_addrs(|_| true);
        let mut down: Vec<SocketAddr> = self
            .swim
            .iter_membership_state()
            .filter(|m| m.state() == foca::State::Down && !up.contains(&m.id().addr))
            .map(|m| m.id().addr)
            .collect();
        down.sort();
        down.dedup();
        if down.is_empty() || self.left {
            self.recontact_at = None;
            return;
        }
        if self.recontact_at.is_some() && self.swim.num_members() > 0 {
            let targets = choose(&mut self.rng, &down, self.config.recontact_members);
            tracing::trace!(?targets, "announcing to members seen down");
            self.announce(targets, now);
        }
        let period = self.recontact.period(now, self.config.recontact_slow);
        self.recontact_at = Some(now + period);
    }

    /// Asks a random up member for the members it knows (a SWIM announce,
    /// answered with a feed), if it is time, and schedules the next
    /// exchange while members came up lately.
    fn exchange_members(&mut self, now: Instant) {
        if self.exchange_at.is_none_or(|at| at > now) {
            return;
        }
        let up: Vec<NodeId> = self
            .swim
            .iter_membership_state()
            .filter(|m| m.state() != foca::State::Down && !self.left)
            .map(|m| *m.id())
            .collect();
        if let Some(&member) = up.choose(&mut self.rng) {
            tracing::trace!(%member, "asking for the members it knows");
            if let Err(error) = self.swim.announce(member, &mut self.outbox) {
                tracing::debug!(%member, %error, "announce failed");
            }
        }
        let lately = self
            .member_up_at
            .is_some_and(|at| now.saturating_duration_since(at) < self.config.member_exchange_for);
        self.exchange_at = lately.then(|| now + self.config.member_exchange);
        self.drain_swim(now);
    }

    fn announce(&mut self, addrs: Vec<SocketAddr>, now: Instant) {
        for addr in addrs {
            if let Err(error) = self.swim.announce(placeholder(addr), &mut self.outbox) {
                tracing::debug!(%addr, %error, "announce failed");
            }
        }
        self.drain_swim(now);
    }

    /// Leaves the cluster: SWIM declares this node down to a few members,
    /// who spread it. The node then opens no sync and sends no broadcast
    /// (it still serves syncs); to come back, start a new `Node` with a
    /// higher incarnation.
    pub fn leave(&mut self, now: Instant) {
        self.tick(now);
        if let Err(error) = self.swim.leave_cluster(&mut self.outbox) {
            tracing::debug!(%error, "leaving the cluster failed");
        }
        self.left = true;
        self.rejoin_at = None;
        self.drain_swim(now);
    }

    /// A message from `from` outside sync sessions: a SWIM packet or a
    /// broadcast. Broadcast chunks not seen before are relayed once to
    /// [`Config::fanout`] random up members other than the sender and the
    /// version's origin, and complete versions are queued for
    /// [`Node::poll_apply`]. Malformed input is logged and dropped.
    pub fn handle_message(&mut self, from: SocketAddr, message: Message, now: Instant) {
        self.tick(now);
        match message {
            Message::Swim(packet) => {
                if let Err(error) = self.swim.handle_data(&packet, &mut self.outbox) {
                    tracing::debug!(%from, %error, "SWIM packet refused");
                }
                self.drain_swim(now);
            }
            Message::Broadcast(chunks) => self.receive_broadcast(from, chunks, now),
            Message::SyncRequest(_) | Message::SyncChunks(_) | Message::SyncBusy => {
                tracing::debug!(%from, "sync message outside a session ignored");
            }
        }
    }

    fn receive_broadcast(&mut self, from: SocketAddr, chunks: Vec<Chunk>, now: Instant) {
        let mut relayed = false;
        // Relayed only where origins do not reach every member themselves.
        let relaying = !self.left && !self.broadcasts_directly();
        for chunk in chunks {
            let copy = relaying.then(|| chunk.clone());
            if !self.receive_chunk(Source::Broadcast, chunk, now) {
                continue;
            }
            let Some(chunk) = copy else { continue };
            let origin = chunk.site();
            let candidates = self.up_addrs(|id| id.addr != from && id.site != origin);
            let targets = choose(&mut self.rng, &candidates, self.config.fanout);
            self.broadcast.enqueue(targets, vec![chunk]);
            relayed = true;
        }
        if relayed {
            self.transmits.extend(self.broadcast.poll(now));
        }
    }

    /// This node's freshly committed versions (its own site's, read back
    /// from the store after commit): recorded as held, cut into chunks and
    /// broadcast to every up member in a small cluster, else to
    /// [`Config::fanout`] random ones, at once if no
    /// broadcast went out within [`Config::broadcast_window`], else at the
    /// window's end, batched per peer. Items of other sites are ignored.
    pub fn local_changes(&mut self, versions: Vec<Versions>, now: Instant) {
        self.tick(now);
        let own = self.own_site();
        let (mine, others): (Vec<Versions>, Vec<Versions>) =
            versions.into_iter().partition(|v| v.site_id() == own);
        if !others.is_empty() {
            tracing::warn!(
                count = others.len(),
                "local_changes got versions of other sites; ignored"
            );
        }
        for item in &mine {
            self.hold(own, item.versions());
        }
        if self.left || mine.is_empty() {
            return;
        }
        let chunks = chunk_versions(mine, self.config.max_chunk_bytes);
        let candidates = self.up_addrs(|_| true);
        let targets = if self.broadcasts_directly() {
            candidates
        } else {
            choose(&mut self.rng, &candidates, self.config.fanout)
        };
        let sent = self.broadcast.push(targets, chunks, now);
        self.transmits.extend(sent);
    }

    /// A peer opened a sync session with this request. `None`: busy (already
    /// serving [`Config::max_served_syncs`]); answer "busy". Otherwise the
    /// ranges of versions this node holds and `theirs` lacks, ascending by
    /// site and version, which the driver reads from the store
    /// ([`Store::changes`](patina_store::Store::changes)), cuts with
    /// [`chunk_versions`](super::chunk_versions) and sends, then calls
    /// [`Node::served`]. If `theirs` holds versions this node lacks, a
    /// session with `from` opens as soon as a slot is free.
    pub fn serve_sync(
        &mut self,
        from: SocketAddr,
        theirs: &SyncState,
        now: Instant,
    ) -> Option<Vec<(SiteId, RangeInclusive<u64>)>> {
        self.tick(now);
        if !self.anti_entropy.try_serve(from, now) {
            tracing::debug!(%from, "sync request refused: busy");
            return None;
        }
        let theirs = Holdings::from_state(theirs);
        let own = self.own_site();
        let known = self.holdings.union(&self.pending);
        let lacking = theirs
            .difference(&known)
            .into_iter()
            .any(|(site, _)| site != own);
        if lacking && !self.left {
            self.anti_entropy.prioritize(from, now);
        }
        Some(self.holdings.difference(&theirs))
    }

    /// A session served to `from` ended (however it ended).
    pub fn served(&mut self, from: SocketAddr) {
        self.anti_entropy.served_done(from);
    }

    /// Chunks received in the session this node opened with `from`.
    /// Complete versions not held are queued for [`Node::poll_apply`].
    pub fn sync_chunks(&mut self, from: SocketAddr, chunks: Vec<Chunk>, now: Instant) {
        self.tick(now);
        let mut new = false;
        for chunk in chunks {
            new |= self.receive_chunk(Source::Sync(from), chunk, now);
        }
        self.anti_entropy.received(from, new);
    }

    /// The session this node opened with `peer` ended: `ok` false for an
    /// error, a timeout or a busy answer. Parts of versions it left
    /// incomplete are dropped. A session that brought data makes the next
    /// round come sooner.
    pub fn sync_ended(&mut self, peer: SocketAddr, ok: bool, now: Instant) {
        self.tick(now);
        if !ok {
            tracing::debug!(%peer, "sync session failed");
        }
        self.anti_entropy.ended(peer, now);
        self.reassembly.discard_source(Source::Sync(peer));
    }

    /// The outcome of merging a batch from [`Node::poll_apply`], one entry
    /// per item. Versions merged are held from now on; versions that failed
    /// are forgotten, to be fetched again by the next regular sync round
    /// (not a hurried one: what failed now would likely fail again).
    pub fn applied(&mut self, results: impl IntoIterator<Item = Applied>) {
        let mut failed = false;
        for (site, versions, ok) in results {
            self.pending.remove(site, versions.clone());
            if ok {
                self.hold(site, versions);
            } else {
                failed = true;
            }
        }
        if failed {
            tracing::debug!("an apply batch failed; its versions will be fetched again");
            self.anti_entropy.back_off(self.now);
        }
    }

    /// Fires what is due at `now`: SWIM timers, the broadcast window's end,
    /// sync rounds and session timeouts, re-announcing while alone, member
    /// exchanges.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        while let Some(timer) = self.timers.pop_due(now) {
            if let Err(error) = self.swim.handle_timer(timer, &mut self.outbox) {
                tracing::debug!(%error, "SWIM timer failed");
            }
            self.drain_swim(now);
        }
        let sent = self.broadcast.poll(now);
        self.transmits.extend(sent);

        for peer in self.anti_entropy.expire(now) {
            tracing::debug!(%peer, "sync session timed out");
            self.reassembly.discard_source(Source::Sync(peer));
            self.events.push_back(Event::SyncTimedOut(peer));
        }
        let up = self.up_addrs(|_| true);
        let peers = self.anti_entropy.poll(now, &up, !self.left, &mut self.rng);
        if !peers.is_empty() {
            let request = self.holdings.union(&self.pending).to_state();
            for peer in peers {
                self.syncs.push_back((peer, request.clone()));
            }
        }

        if self.rejoin_at.is_some_and(|at| at <= now) {
            self.rejoin_at = None;
            if !self.left && self.swim.num_members() == 0 {
                let mut addrs = self.bootstrap.clone();
                for member in self.swim.iter_membership_state() {
                    let addr = member.id().addr;
                    if member.state() == foca::State::Down && !addrs.contains(&addr) {
                        addrs.push(addr);
                    }
                }
                tracing::debug!(count = addrs.len(), "no active member: announcing again");
                self.announce(addrs, now);
                if self.swim.num_members() == 0 {
                    self.rejoin_at = Some(now + self.rejoin_period(now));
                }
            }
        }
        self.recontact_down(now);
        self.exchange_members(now);
    }

    /// When [`Node::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.timers.deadline(),
            self.broadcast.deadline(),
            self.anti_entropy.deadline(),
            self.rejoin_at,
            self.recontact_at,
            self.exchange_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next message to send (SWIM packets and broadcasts), one peer
    /// at a time.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Message)> {
        loop {
            let (to, message) = self.transmits.front_mut()?;
            if to.len() > 1 {
                let addr = to.remove(0);
                return Some((addr, message.clone()));
            }
            let (mut to, message) = self.transmits.pop_front()?;
            if let Some(addr) = to.pop() {
                return Some((addr, message));
            }
        }
    }

    /// [`Node::poll_transmit`], with a message due to several peers (a
    /// broadcast) given once with all of them, so it is encoded once.
    /// Drains the same queue.
    pub fn poll_transmit_many(&mut self) -> Option<(Vec<SocketAddr>, Message)> {
        self.transmits.pop_front()
    }

    /// The next sync session to open: send this request to that peer.
    pub fn poll_sync(&mut self) -> Option<(SocketAddr, SyncState)> {
        self.syncs.pop_front()
    }

    /// The next batch of complete versions to merge, in arrival order, of at
    /// most [`Config::max_apply_changes`] change rows (or one version). Its
    /// versions are in flight until [`Node::applied`].
    pub fn poll_apply(&mut self) -> Option<Vec<Versions>> {
        self.apply.pop_batch()
    }

    /// Complete versions waiting for [`Node::poll_apply`]: a driver stops
    /// reading sync sessions while this is high, so memory stays bounded
    /// when the store applies slower than peers send.
    pub fn apply_backlog(&self) -> usize {
        self.apply.len()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Every member this node knows of (down ones until foca forgets them),
    /// by address.
    pub fn members(&self) -> Vec<Member> {
        let mut members: Vec<Member> = self
            .swim
            .iter_membership_state()
            .map(|m| Member {
                id: *m.id(),
                state: MemberState::from(m.state()),
            })
            .collect();
        members.sort_by_key(|m| m.id.addr);
        members
    }

    /// The versions this node holds (merged into its store, or committed by
    /// it), per site.
    pub fn have(&self) -> &SyncState {
        &self.have
    }

    /// Whether a gap was seen (or a session brought data) since the last
    /// sync round started.
    pub fn is_behind(&self) -> bool {
        self.anti_entropy.is_behind()
    }

    /// Whether the cluster is small enough for origins to reach every
    /// member themselves ([`Config::direct_broadcast_limit`]).
    fn broadcasts_directly(&self) -> bool {
        // Counting identities is cheap and bounds the addresses from above
        // (a renamed member may hold two); it is asked for every broadcast.
        self.swim.num_members() <= self.config.direct_broadcast_limit
            || self.up_addrs(|_| true).len() <= self.config.direct_broadcast_limit
    }

    /// Addresses of up members passing `keep`, in address order.
    fn up_addrs(&self, keep: impl Fn(&NodeId) -> bool) -> Vec<SocketAddr> {
        let mut addrs: Vec<SocketAddr> = self
            .swim
            .iter_members()
            .map(|m| *m.id())
            .filter(|id| keep(id))
            .map(|id| id.addr)
            .collect();
        addrs.sort();
        addrs.dedup();
        addrs
    }

    fn hold(&mut self, site: SiteId, versions: RangeInclusive<u64>) {
        self.holdings.insert(site, versions);
        match self.holdings.site(&site) {
            Some(set) => {
                self.have.sites.insert(site, set.to_progress());
            }
            None => {
                self.have.sites.remove(&site);
            }
        }
    }

    /// Takes in one chunk; true if it was news (not held, in flight or
    /// buffered before).
    fn receive_chunk(&mut self, source: Source, chunk: Chunk, now: Instant) -> bool {
        let own = self.own_site();
        match chunk {
            Chunk::Changes {
                site,
                version,
                part,
                parts,
                changes,
                keys,
            } => {
                if site == own
                    || self.holdings.contains(&site, version)
                    || self.pending.contains(&site, version)
                {
                    return false;
                }
                self.note_version(site, version, now);
                if (part, parts) == (0, 1) && version > 0 {
                    self.complete(site, version, changes, keys);
                    return true;
                }
                match self
                    .reassembly
                    .insert(site, version, source, part, parts, changes)
                {
                    Err(error) => {
                        tracing::debug!(%site, version, %error, "chunk dropped");
                        false
                    }
                    Ok(Insert::Duplicate) => false,
                    Ok(Insert::Buffered) => {
                        for (site, version) in self.reassembly.evict((site, version)) {
                            tracing::debug!(%site, version, "incomplete version evicted");
                            self.events.push_back(Event::PartsEvicted { site, version });
                        }
                        true
                    }
                    Ok(Insert::Complete(changes)) => {
                        self.complete(site, version, changes, keys);
                        true
                    }
                }
            }
            Chunk::Cleared { site, versions } => {
                if site == own {
                    return false;
                }
                if versions.is_empty() || *versions.start() == 0 {
                    tracing::debug!(%site, ?versions, "malformed cleared chunk dropped");
                    return false;
                }
                self.note_version(site, *versions.start(), now);
                let lacking: Vec<RangeInclusive<u64>> = self
                    .holdings
                    .missing_within(&site, versions)
                    .into_iter()
                    .flat_map(|range| self.pending.missing_within(&site, range))
                    .collect();
                for range in &lacking {
                    self.pending.insert(site, range.clone());
                    self.reassembly
                        .discard_range(site, *range.start(), *range.end());
                    self.apply.push(Versions::Cleared {
                        site_id: site,
                        versions: range.clone(),
                    });
                }
                !lacking.is_empty()
            }
        }
    }

    /// `version` of `site` exists: if it is beyond the next one this node
    /// expects, this node is behind.
    fn note_version(&mut self, site: SiteId, version: u64, now: Instant) {
        let known = [
            self.holdings.max(&site),
            self.pending.max(&site),
            self.reassembly.max_version(site),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        if version > known.saturating_add(1) {
            tracing::trace!(%site, version, known, "gap seen");
            self.anti_entropy.mark_behind(now);
        }
    }

    fn complete(
        &mut self,
        site: SiteId,
        version: u64,
        changes: Vec<patina_store::Change>,
        keys: patina_store::Keys,
    ) {
        self.pending.insert(site, version..=version);
        self.reassembly.discard_version(site, version);
        self.apply.push(Versions::Changed(ChangeSet {
            site_id: site,
            db_version: version,
            changes,
            keys,
        }));
    }

    /// Moves what foca asked for into the node's queues.
    fn drain_swim(&mut self, now: Instant) {
        let outbox = std::mem::take(&mut self.outbox);
        for (addr, packet) in outbox.sends {
            self.transmits
                .push_back((vec![addr], Message::Swim(packet)));
        }
        for (after, timer) in outbox.timers {
            self.timers.schedule(now + after, timer);
        }
        let mut members_changed = false;
        for notification in outbox.notifications {
            match &notification {
                OwnedNotification::Idle if !self.left => {
                    tracing::info!("no active member left");
                    self.recontact.lost(now);
                    self.rejoin_at = Some(now + self.rejoin_period(now));
                }
                OwnedNotification::Active => {
                    tracing::info!(id = %self.id(), "joined the cluster");
                    self.rejoin_at = None;
                }
                OwnedNotification::MemberUp(id) => {
                    tracing::debug!(%id, "member up");
                    // A new member, or one back from a partition or a
                    // restart: whatever either side lacks, fetch it now.
                    self.anti_entropy.prioritize(id.addr, now);
                    self.member_up_at = Some(now);
                    self.exchange_at
                        .get_or_insert(now + self.config.member_exchange);
                    members_changed = true;
                }
                OwnedNotification::MemberDown(id) => {
                    tracing::info!(%id, "member down");
                    self.recontact.lost(now);
                    self.recontact_at = Some(now + self.config.recontact_fast);
                    members_changed = true;
                }
                OwnedNotification::Rename(old, new) => {
                    tracing::debug!(%old, %new, "member renamed")
                }
                OwnedNotification::Rejoin(id) => {
                    tracing::info!(%id, "declared down; rejoined with a renewed identity");
                    // Whoever declared us down answered an announce: the
                    // others lost may be reachable again too.
                    self.recontact_at = Some(now);
                    if self.rejoin_at.is_some() {
                        self.rejoin_at = Some(now);
                    }
                }
                OwnedNotification::Defunct => tracing::info!("this node is down"),
                _ => {}
            }
            if let Some(event) = Event::from_notification(&notification) {
                self.events.push_back(event);
            }
        }
        if members_changed {
            self.rescale_swim();
        }
    }

    /// Fits foca's settings to the number of active members.
    fn rescale_swim(&mut self) {
        let wanted = swim_config(&self.config, self.swim.num_members());
        let scale = SwimScale::of(&wanted);
        if scale == self.swim_scale {
            return;
        }
        match self.swim.set_config(wanted) {
            Ok(()) => {
                tracing::debug!(
                    members = self.swim.num_members(),
                    ?scale,
                    "SWIM settings rescaled"
                );
                self.swim_scale = scale;
            }
            Err(error) => tracing::warn!(%error, "SWIM settings not rescaled"),
        }
    }
}

/// foca's settings with `members` other active members.
fn swim_config(config: &Config, members: usize) -> foca::Config {
    let mut swim = swim_for_size(&config.swim, members + 1);
    // The node announces to members seen down itself, on its own schedule
    // (foca's is a fixed period).
    swim.periodic_announce_to_down_members = None;
    swim
}

/// The settings [`swim_for_size`] changes (foca's config has no equality).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SwimScale {
    max_transmissions: std::num::NonZeroU8,
    suspect_to_down_after: Duration,
}

impl SwimScale {
    fn of(config: &foca::Config) -> SwimScale {
        SwimScale {
            max_transmissions: config.max_transmissions,
            suspect_to_down_after: config.suspect_to_down_after,
        }
    }
}

#[cfg(test)]
mod tests;
