//! The knobs of a [`Node`](super::Node).

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

/// The largest SWIM packet: fits a QUIC datagram on any sane path.
pub const SWIM_MAX_PACKET: usize = 1100;

/// How a node spreads, fetches and applies changes, and its SWIM settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// In a cluster of at most this many up members (this node excluded),
    /// a node sends its own versions straight to every member and nobody
    /// relays: one hop, and the fewest messages. Above it, broadcasts are
    /// epidemic: to [`Config::fanout`] random members, each relaying once.
    pub direct_broadcast_limit: usize,
    /// How many random up members a broadcast (or a relay) goes to in a
    /// cluster larger than [`Config::direct_broadcast_limit`].
    pub fanout: usize,
    /// Broadcasts go out at once when none went out within this window;
    /// otherwise they are batched (one message per peer) until it ends.
    pub broadcast_window: Duration,
    /// The estimated size above which a version is split into parts, and
    /// the size a batch of chunks in one message stays under.
    pub max_chunk_bytes: usize,
    /// How often anti-entropy opens sessions (jittered by ±25%).
    pub sync_interval: Duration,
    /// The interval while behind: a gap was seen, or the last session
    /// brought data.
    pub sync_interval_behind: Duration,
    /// Up members beyond which regular rounds come less often than
    /// [`Config::sync_interval`], in proportion (a round every
    /// `sync_interval × members / sync_rate_members`), so a cluster opens
    /// about as many sessions per second at any size; 0: never slower.
    pub sync_rate_members: usize,
    /// How many sessions this node keeps open at once.
    pub sync_peers: usize,
    /// How many sessions this node serves at once; more get "busy".
    pub max_served_syncs: usize,
    /// Sessions (opened or served) not ended within this are dropped.
    pub sync_timeout: Duration,
    /// Change rows per apply batch (a batch holds at least one version).
    pub max_apply_changes: usize,
    /// Bound on the estimated bytes of parts of versions waiting for their
    /// other parts; the oldest are dropped first (never those of the version
    /// a part was just added to, so a version larger than the bound can
    /// still complete).
    pub max_pending_bytes: usize,
    /// While this node knows no active member (alone, or partitioned away),
    /// it announces itself to the bootstrap addresses and to the members it
    /// knows as down this often.
    pub rejoin_interval: Duration,
    /// Members seen down are announced to ([`Config::recontact_members`]
    /// of them at a time; all of them and the bootstrap addresses while
    /// this node knows no active member) this often right after a member
    /// was lost; the period doubles every [`Config::recontact_doubling`]
    /// since, up to [`Config::recontact_slow`] (or
    /// [`Config::rejoin_interval`] while alone). This replaces foca's
    /// `periodic_announce_to_down_members`, which is ignored.
    pub recontact_fast: Duration,
    pub recontact_doubling: Duration,
    pub recontact_slow: Duration,
    pub recontact_members: usize,
    /// While members keep coming up (a fleet starting, a partition
    /// healing), a node asks a random up member for the members it knows
    /// this often, until [`Config::member_exchange_for`] passed without a
    /// new one: the news of a member rides on a bounded number of SWIM
    /// messages, and when many arrive at once some nodes miss some of it.
    pub member_exchange: Duration,
    pub member_exchange_for: Duration,
    /// SWIM (foca) settings.
    pub swim: foca::Config,
}

impl Config {
    /// Settings for a cluster of about `cluster_size` nodes: foca's LAN
    /// profile (probe every second, suspicion scaled by cluster size) with
    /// packets sized for QUIC datagrams and members seen down re-contacted
    /// every 250 ms at first, backing off to every 2 s, so a healed
    /// partition rejoins on its own, soon.
    pub fn for_cluster_size(cluster_size: NonZeroU32) -> Config {
        let mut swim = foca::Config::new_lan(cluster_size);
        swim.max_packet_size = NonZeroUsize::new(SWIM_MAX_PACKET).unwrap_or(NonZeroUsize::MIN);
        // Membership's own anti-entropy: every 5 s (foca's LAN profile:
        // 30 s) a node asks a random member for the members it knows. News
        // of a member is gossiped a bounded number of times, and at 30
        // nodes started one after another some missed it and saw a member
        // up only when it came to probe them, up to half a minute later.
        swim.periodic_announce = Some(foca::PeriodicParams {
            frequency: Duration::from_secs(5),
            num_members: NonZeroUsize::MIN,
        });
        Config {
            direct_broadcast_limit: 32,
            fanout: 3,
            broadcast_window: Duration::from_millis(2),
            max_chunk_bytes: 64 * 1024,
            sync_interval: Duration::from_secs(1),
            sync_interval_behind: Duration::from_millis(50),
            sync_rate_members: 10,
            sync_peers: 2,
            max_served_syncs: 3,
            sync_timeout: Duration::from_secs(30),
            max_apply_changes: 10_000,
            max_pending_bytes: 64 * 1024 * 1024,
            rejoin_interval: Duration::from_secs(5),
            recontact_fast: Duration::from_millis(250),
            recontact_doubling: Duration::from_secs(5),
            recontact_slow: Duration::from_secs(2),
            recontact_members: 2,
            member_exchange: Duration::from_millis(500),
            member_exchange_for: Duration::from_secs(2),
            swim,
        }
    }
}

impl Default for Config {
    /// [`Config::for_cluster_size`] for a handful of nodes.
    fn default() -> Config {
        Config::for_cluster_size(NonZeroU32::new(8).unwrap_or(NonZeroU32::MIN))
    }
}
