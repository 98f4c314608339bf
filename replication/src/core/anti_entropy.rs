//! When to sync and with whom: the sessions this node opened, the ones it
//! serves, and the schedule of rounds (faster while behind, slower in a
//! large cluster).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::Rng;

use super::broadcast::choose;
use super::config::Config;

#[derive(Debug)]
struct Session {
    opened: Instant,
    deadline: Instant,
    /// Frames the peer sent, and how many of them brought news.
    frames: u64,
    news: u64,
    brought_data: bool,
}

#[derive(Debug)]
pub(crate) struct AntiEntropy {
    interval: Duration,
    interval_behind: Duration,
    /// Up members beyond which rounds slow down (see [`round_interval`]).
    rate_members: usize,
    peers: usize,
    max_served: usize,
    timeout: Duration,
    next_round: Instant,
    /// When the current round started.
    round_at: Instant,
    /// Sessions the current round may still open, one after another.
    round_left: usize,
    /// Peers the current round opened a session with.
    round_peers: Vec<SocketAddr>,
    behind: bool,
    open: BTreeMap<SocketAddr, Session>,
    served: Vec<(SocketAddr, Instant)>,
    /// Peers known to hold what this node lacks: synced with as soon as a
    /// session slot is free.
    priority: BTreeSet<SocketAddr>,
    priority_since: Option<Instant>,
    /// Until then, rounds keep the normal pace (see [`AntiEntropy::back_off`]).
    calm_until: Option<Instant>,
}

/// The interval between regular rounds with `members` up: `interval` up
/// to `rate_members` of them, longer in proportion beyond, so the sessions
/// a cluster opens per second stay about `sync_peers × rate_members /
/// interval` however large it grows. Each round costs a session on both
/// sides even when nothing is missing, and at 30 nodes on two cores the
/// fixed rate (60 sessions/s) was CPU every write waited for. A node that
/// is behind (a gap seen, news fetched) still syncs at
/// `sync_interval_behind`; a member that comes up is synced with at once.
pub(crate) fn round_interval(interval: Duration, rate_members: usize, members: usize) -> Duration {
    if rate_members == 0 || members <= rate_members {
        return interval;
    }
    interval.mul_f64(members as f64 / rate_members as f64)
}

/// `base` scaled by a random factor in [0.75, 1.25).
pub(crate) fn jittered<R: Rng>(rng: &mut R, base: Duration) -> Duration {
    base.mul_f64(rng.random_range(0.75..1.25))
}

impl AntiEntropy {
    pub fn new<R: Rng>(config: &Config, rng: &mut R, now: Instant) -> AntiEntropy {
        AntiEntropy {
            interval: config.sync_interval,
            interval_behind: config.sync_interval_behind,
            rate_members: config.sync_rate_members,
            peers: config.sync_peers,
            max_served: config.max_served_syncs,
            timeout: config.sync_timeout,
            next_round: now + jittered(rng, config.sync_interval),
            round_at: now,
            round_left: 0,
            round_peers: Vec::new(),
            behind: false,
            open: BTreeMap::new(),
            served: Vec::new(),
            priority: BTreeSet::new(),
            priority_since: None,
            calm_until: None,
        }
    }

    /// Free session slots at `now`. A session still unanswered after its
    /// grace holds none: the transport drops a first answer that late (a
    /// peer across a partition that just healed would otherwise stream
    /// what the sessions opened since fetch), so it will bring nothing,
    /// and waiting for it to end (a connection attempt across a partition
    /// can take seconds) would hold back the sessions that do.
    fn slots(&self, now: Instant) -> usize {
        let holding = self
            .open
            .values()
            .filter(|s| s.frames > 0 || now < s.opened + self.grace())
            .count();
        self.peers.saturating_sub(holding)
    }

    /// When [`AntiEntropy::poll`] or [`AntiEntropy::expire`] has work.
    pub fn deadline(&self) -> Option<Instant> {
        let free = self.free_at();
        let priority = self
            .priority_since
            .zip(free)
            .map(|(since, free)| since.max(free));
        let round = free
            .filter(|_| self.round_left > 0)
            .map(|free| free.max(self.round_at));
        let sessions = self.open.values().map(|s| s.deadline);
        let served = self.served.iter().map(|(_, at)| *at);
        std::iter::once(self.next_round)
            .chain(priority)
            .chain(round)
            .chain(sessions)
            .chain(served)
            .min()
    }

    /// From when a session may open: once a slot is free and no open
    /// session may be fetching what this node lacks. One that brought news
    /// may stream on until it ends (`None`: not before then); one that has
    /// not answered yet may start to, until its grace is over. The answer
    /// to a sync request is everything the asking node lacks, so concurrent
    /// sessions with peers holding the same versions would each stream all
    /// of them.
    fn free_at(&self) -> Option<Instant> {
        let mut at = None;
        for session in self.open.values() {
            if session.brought_data {
                return None;
            }
            if session.frames == 0 {
                at = at.max(Some(session.opened + self.grace()));
            }
        }
        // A time already past when nothing holds sessions back.
        let at = at.unwrap_or(self.round_at);
        (self.slots(at) > 0).then_some(at)
    }

    /// How long an unanswered session counts as fetching.
    fn grace(&self) -> Duration {
        self.interval
    }

    pub fn is_behind(&self) -> bool {
        self.behind
    }

    /// Opens the sessions due at `now`, none while one may be fetching
    /// what this node lacks (see [`AntiEntropy::free_at`]): a priority peer
    /// first (each was prioritized for holding what this node lacks); each
    /// round, random picks from `up`
    /// (members with no session with this node either way), up to
    /// `sync_peers` per round, each opened once no open session may be
    /// fetching (a session with nothing to bring ends at once, so a quiet
    /// round still reaches `sync_peers` peers within moments). Rounds come
    /// every [`round_interval`] for the members `up` at the round's start,
    /// or `sync_interval_behind` while behind, jittered. With `active`
    /// false (this node left) nothing opens.
    pub fn poll<R: Rng>(
        &mut self,
        now: Instant,
        up: &[SocketAddr],
        active: bool,
        rng: &mut R,
    ) -> Vec<SocketAddr> {
        if now >= self.next_round {
            let base = if self.behind {
                self.interval_behind
            } else {
                round_interval(self.interval, self.rate_members, up.len())
            };
            self.next_round = now + jittered(rng, base);
            self.behind = false;
            self.round_at = now;
            self.round_left = self.peers;
            self.round_peers.clear();
        }
        if !active {
            self.priority.clear();
            self.priority_since = None;
            self.round_left = 0;
            return Vec::new();
        }
        let mut chosen = None;
        let free = self.free_at().is_some_and(|at| at <= now);
        let due = self.priority_since.is_some_and(|at| at <= now) || self.round_left > 0;
        if due && free {
            // A random one: after a heal every node of one half has the
            // same peers to pick from, and all taking the lowest address
            // would queue them at one server (busy for the rest).
            let candidates: Vec<SocketAddr> = self.priority.iter().copied().collect();
            if let Some(&peer) = choose(rng, &candidates, 1).first() {
                self.priority.remove(&peer);
                self.round_left = self.round_left.saturating_sub(1);
                chosen = Some(peer);
            }
        }
        if self.priority.is_empty() {
            self.priority_since = None;
        }
        if chosen.is_none() && self.round_left > 0 && free {
            let candidates: Vec<SocketAddr> = up
                .iter()
                .filter(|peer| {
                    !self.open.contains_key(peer)
                        && !self.round_peers.contains(peer)
                        && !self.served.iter().any(|(p, _)| p == *peer)
                })
                .copied()
                .collect();
            chosen = choose(rng, &candidates, 1).first().copied();
            match chosen {
                Some(peer) => {
                    self.round_left -= 1;
                    self.round_peers.push(peer);
                }
                None => self.round_left = 0,
            }
        }
        let Some(peer) = chosen else {
            return Vec::new();
        };
        self.open.insert(
            peer,
            Session {
                opened: now,
                deadline: now + self.timeout,
                frames: 0,
                news: 0,
                brought_data: false,
            },
        );
        vec![peer]
    }

    /// A gap was seen, or a session brought data: sync sooner.
    pub fn mark_behind(&mut self, now: Instant) {
        if self.calm_until.is_some_and(|until| now < until) {
            return;
        }
        self.behind = true;
        self.next_round = self.next_round.min(now + self.interval_behind);
    }

    /// Fetched versions could not be applied (a table this node does not
    /// have yet, a failing disk): fetched again at once they would fail
    /// again, so for one interval rounds keep the normal pace whatever the
    /// sessions bring.
    pub fn back_off(&mut self, now: Instant) {
        self.behind = false;
        self.calm_until = Some(now + self.interval);
    }

    /// `peer` holds versions this node lacks: open a session with it as
    /// soon as a slot is free (unless one is open).
    pub fn prioritize(&mut self, peer: SocketAddr, now: Instant) {
        if !self.open.contains_key(&peer) && self.priority.insert(peer) {
            self.priority_since.get_or_insert(now);
        }
    }

    /// Chunks arrived in the session with `peer`; `new` if any was news.
    pub fn received(&mut self, peer: SocketAddr, new: bool) {
        if let Some(session) = self.open.get_mut(&peer) {
            session.frames += 1;
            session.news += u64::from(new);
            session.brought_data |= new;
        }
    }

    /// The session with `peer` ended; false if none was open (it timed out
    /// before). One that brought data means more may be waiting: the next
    /// round comes sooner.
    pub fn ended(&mut self, peer: SocketAddr, now: Instant) -> bool {
        match self.open.remove(&peer) {
            Some(session) => {
                // Frames without news were streamed in vain (fetched by
                // another session, or by broadcast, meanwhile).
                tracing::debug!(
                    %peer,
                    frames = session.frames,
                    news = session.news,
                    "sync session closed"
                );
                if session.brought_data {
                    self.mark_behind(now);
                }
                true
            }
            None => false,
        }
    }

    /// Drops sessions (opened and served) past their deadline; returns the
    /// peers of the opened ones.
    pub fn expire(&mut self, now: Instant) -> Vec<SocketAddr> {
        self.served.retain(|(_, deadline)| *deadline > now);
        let expired: Vec<SocketAddr> = self
            .open
            .iter()
            .filter(|(_, s)| s.deadline <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in &expired {
            self.open.remove(peer);
        }
        expired
    }

    /// Takes a served session for `peer`, unless `max_served_syncs` are
    /// being served.
    pub fn try_serve(&mut self, peer: SocketAddr, now: Instant) -> bool {
        if self.served.len() >= self.max_served {
            return false;
        }
        self.served.push((peer, now + self.timeout));
        true
    }

    /// A served session with `peer` ended.
    pub fn served_done(&mut self, peer: SocketAddr) {
        if let Some(i) = self.served.iter().position(|(p, _)| *p == peer) {
            self.served.remove(i);
        }
    }

    #[cfg(test)]
    pub fn is_open(&self, peer: &SocketAddr) -> bool {
        self.open.contains_key(peer)
    }

    pub fn open_sessions(&self) -> usize {
        self.open.len()
    }

    pub fn served_sessions(&self) -> usize {
        self.served.len()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn setup() -> (AntiEntropy, SmallRng, Instant) {
        let mut rng = SmallRng::seed_from_u64(1);
        let now = Instant::now();
        let ae = AntiEntropy::new(&Config::default(), &mut rng, now);
        (ae, rng, now)
    }

    #[test]
    fn after_a_failed_apply_sessions_bringing_data_do_not_hurry_rounds() {
        let (mut ae, _, now) = setup();
        ae.mark_behind(now);
        assert!(ae.is_behind());
        ae.back_off(now);
        assert!(!ae.is_behind());
        ae.mark_behind(now + Duration::from_millis(10));
        assert!(!ae.is_behind(), "calm for one interval");
        ae.mark_behind(now + Duration::from_secs(2));
        assert!(ae.is_behind(), "then hurried again");
    }

    #[test]
    fn rounds_open_sync_peers_sessions_with_distinct_up_members_one_after_another() {
        let (mut ae, mut rng, now) = setup();
        let up: Vec<SocketAddr> = (1..=5).map(addr).collect();
        assert!(ae.poll(now, &up, true, &mut rng).is_empty());
        let first = ae.deadline().expect("a round is scheduled");
        assert!(
            first >= now + Duration::from_millis(750) && first < now + Duration::from_millis(1250)
        );
        let opened = ae.poll(first, &up, true, &mut rng);
        assert_eq!(opened.len(), 1);
        // Nothing more until it answers (or its grace is over).
        assert!(ae.poll(first, &up, true, &mut rng).is_empty());
        ae.received(opened[0], false);
        assert_eq!(ae.deadline(), Some(first), "the round goes on at once");
        let second = ae.poll(first, &up, true, &mut rng);
        assert_eq!(second.len(), 1);
        assert_ne!(opened[0], second[0]);
        // The round is done, and the next finds no free slot (both
        // answered: see the next test for sessions that never do).
        ae.received(second[0], false);
        assert!(ae.poll(first, &up, true, &mut rng).is_empty());
        assert!(ae.deadline() > Some(first));
        let next = first + Duration::from_secs(2);
        assert!(ae.poll(next, &up, true, &mut rng).is_empty());
        assert!(ae.ended(opened[0], next));
        assert!(!ae.ended(opened[0], next));
        let again = ae.poll(next + Duration::from_secs(2), &up, true, &mut rng);
        assert_eq!(again.len(), 1);
        assert_ne!(again[0], second[0]);
    }

    #[test]
    fn no_session_opens_while_another_may_fetch_the_same_versions() {
        let (mut ae, mut rng, now) = setup();
        let up: Vec<SocketAddr> = (1..=5).map(addr).collect();
        // A member came back: synced with at once.
        ae.prioritize(addr(1), now);
        assert_eq!(ae.poll(now, &up, true, &mut rng), vec![addr(1)]);
        // A round while it has not answered yet opens nothing: its answer
        // is everything this node lacks, and so would be the other's.
        ae.mark_behind(now);
        let round = ae.next_round;
        assert_eq!(round, now + Duration::from_millis(50));
        assert!(ae.poll(round, &up, true, &mut rng).is_empty());
        // Nor while it streams news, however many rounds pass.
        ae.received(addr(1), true);
        assert_eq!(ae.deadline(), Some(ae.next_round));
        let later = ae.next_round + Duration::from_secs(5);
        assert!(ae.poll(later, &up, true, &mut rng).is_empty());
        assert!(ae.poll(ae.next_round, &up, true, &mut rng).is_empty());
        // Once it ended, the round goes on.
        let end = ae.next_round;
        ae.ended(addr(1), end);
        assert_eq!(ae.poll(end, &up, true, &mut rng).len(), 1);
    }

    #[test]
    fn a_session_that_never_answers_holds_priority_back_for_a_grace_only() {
        let (mut ae, mut rng, now) = setup();
        ae.prioritize(addr(1), now);
        assert_eq!(ae.poll(now, &[], true, &mut rng), vec![addr(1)]);
        // Another holder of what this node lacks (a member back from a
        // partition) waits while the first may still answer.
        ae.prioritize(addr(2), now);
        assert_eq!(ae.deadline(), Some(now + ae.grace()));
        assert!(ae.poll(now, &[], true, &mut rng).is_empty());
        let later = now + ae.grace();
        assert_eq!(ae.poll(later, &[], true, &mut rng), vec![addr(2)]);
    }

    #[test]
    fn sessions_unanswered_past_their_grace_hold_no_slot() {
        let (mut ae, mut rng, now) = setup();
        ae.prioritize(addr(1), now);
        assert_eq!(ae.poll(now, &[], true, &mut rng), vec![addr(1)]);
        let second = now + ae.grace();
        ae.prioritize(addr(2), second);
        assert_eq!(ae.poll(second, &[], true, &mut rng), vec![addr(2)]);
        // Both still open (connecting across a partition, say), neither
        // answered: a third holder of what this node lacks is not held
        // back by them once their grace is over.
        ae.prioritize(addr(3), second);
        assert!(ae.poll(second, &[], true, &mut rng).is_empty());
        let third = second + ae.grace();
        assert_eq!(ae.poll(third, &[], true, &mut rng), vec![addr(3)]);
        assert_eq!(ae.open_sessions(), 3);
        // One that answers holds its slot again.
        ae.received(addr(1), false);
        ae.received(addr(3), false);
        ae.prioritize(addr(4), third);
        assert!(ae.poll(third + ae.grace(), &[], true, &mut rng).is_empty());
    }

    #[test]
    fn a_session_that_never_answers_holds_rounds_back_for_a_grace_only() {
        let (mut ae, mut rng, _) = setup();
        let up: Vec<SocketAddr> = (1..=5).map(addr).collect();
        let round = ae.next_round;
        let opened = ae.poll(round, &up, true, &mut rng);
        assert_eq!(opened.len(), 1);
        let resumes = round + ae.grace();
        assert_eq!(ae.free_at(), Some(resumes));
        let second = ae.poll(resumes, &up, true, &mut rng);
        assert_eq!(second.len(), 1);
        assert_ne!(second, opened);
        assert!(ae.deadline() > Some(resumes));
    }

    #[test]
    fn rounds_slow_down_in_proportion_beyond_rate_members() {
        let second = Duration::from_secs(1);
        assert_eq!(round_interval(second, 10, 3), second);
        assert_eq!(round_interval(second, 10, 10), second);
        assert_eq!(round_interval(second, 10, 29), Duration::from_millis(2900));
        assert_eq!(round_interval(second, 0, 49), second);
        let (mut ae, mut rng, _) = setup();
        // The gap between two round starts, with `members` up.
        let mut gap = |members: u16| {
            let up: Vec<SocketAddr> = (1..=members).map(addr).collect();
            let start = ae.next_round;
            ae.poll(start, &up, true, &mut rng);
            ae.next_round - start
        };
        for _ in 0..20 {
            let small = gap(5);
            assert!(small >= Duration::from_millis(750) && small < Duration::from_millis(1250));
            let large = gap(29);
            assert!(large >= Duration::from_millis(2175) && large < Duration::from_millis(3625));
        }
        // Behind, a large cluster's node syncs as soon as a small one's.
        let start = ae.next_round;
        ae.mark_behind(start);
        let up: Vec<SocketAddr> = (1..=29).map(addr).collect();
        ae.poll(start, &up, true, &mut rng);
        assert!(ae.next_round - start < Duration::from_millis(63));
    }

    #[test]
    fn behind_means_sooner_rounds_until_a_round_starts() {
        let (mut ae, mut rng, now) = setup();
        ae.mark_behind(now);
        assert_eq!(ae.deadline(), Some(now + Duration::from_millis(50)));
        let t = now + Duration::from_millis(50);
        let opened = ae.poll(t, &[addr(1)], true, &mut rng);
        assert_eq!(opened, vec![addr(1)]);
        assert!(!ae.is_behind());
        // The session brought data: behind again.
        ae.received(addr(1), true);
        ae.ended(addr(1), t);
        assert!(ae.is_behind());
        assert_eq!(ae.next_round, t + Duration::from_millis(50));
    }

    #[test]
    fn priority_peers_open_without_waiting_for_a_round() {
        let (mut ae, mut rng, now) = setup();
        ae.prioritize(addr(9), now);
        assert_eq!(ae.deadline(), Some(now));
        assert_eq!(ae.poll(now, &[], true, &mut rng), vec![addr(9)]);
        assert!(ae.is_open(&addr(9)));
        ae.prioritize(addr(9), now);
        assert!(ae.deadline() > Some(now));
    }

    #[test]
    fn priority_peers_open_one_at_a_time_and_rounds_wait_while_data_streams() {
        let (mut ae, mut rng, now) = setup();
        for p in 1..=3 {
            ae.prioritize(addr(p), now);
        }
        let first = ae.poll(now, &[], true, &mut rng);
        assert_eq!(first.len(), 1);
        assert!(ae.deadline() > Some(now), "the others wait for it");
        ae.received(first[0], true);
        let round = now + Duration::from_secs(2);
        let up = [addr(4), addr(5)];
        assert!(ae.poll(round, &up, true, &mut rng).is_empty());
        ae.ended(first[0], round);
        assert_eq!(ae.deadline(), Some(round), "the next one is due at once");
        let second = ae.poll(round, &up, true, &mut rng);
        assert_eq!(second.len(), 1);
        ae.ended(second[0], round);
        let third = ae.poll(round, &up, true, &mut rng);
        assert_eq!(third.len(), 1);
        let mut all = [first[0], second[0], third[0]];
        all.sort();
        assert_eq!(all, [addr(1), addr(2), addr(3)], "each of them once");
        assert_eq!(ae.deadline(), Some(ae.next_round));
    }

    #[test]
    fn nodes_with_the_same_priority_peers_spread_over_them() {
        let now = Instant::now();
        let mut picked = BTreeSet::new();
        for seed in 0..20 {
            let mut rng = SmallRng::seed_from_u64(seed);
            let mut ae = AntiEntropy::new(&Config::default(), &mut rng, now);
            for p in 1..=5 {
                ae.prioritize(addr(p), now);
            }
            picked.extend(ae.poll(now, &[], true, &mut rng));
        }
        assert!(picked.len() >= 4, "first picks of 20 nodes: {picked:?}");
    }

    #[test]
    fn sessions_time_out_and_serving_is_limited() {
        let (mut ae, mut rng, now) = setup();
        ae.prioritize(addr(1), now);
        ae.poll(now, &[], true, &mut rng);
        for p in 1..=3 {
            assert!(ae.try_serve(addr(p), now));
        }
        assert!(!ae.try_serve(addr(4), now));
        ae.served_done(addr(2));
        assert!(ae.try_serve(addr(4), now));
        let later = now + Duration::from_secs(30);
        assert_eq!(ae.expire(later), vec![addr(1)]);
        assert_eq!((ae.open_sessions(), ae.served_sessions()), (0, 0));
    }

    #[test]
    fn a_node_that_left_opens_nothing() {
        let (mut ae, mut rng, now) = setup();
        ae.prioritize(addr(1), now);
        let t = now + Duration::from_secs(5);
        assert!(ae.poll(t, &[addr(2)], false, &mut rng).is_empty());
        assert!(ae.deadline() > Some(t));
    }
}
