//! What the agent reports through the `metrics` facade (a no-op unless the
//! binary installs a recorder): changes applied and sent, bytes moved,
//! members up and down, sync rounds, when a remote change last landed and
//! the replication lag.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use metrics::{counter, gauge};
use patina_store::{SiteId, Versions};

use super::apply::Applied;
use crate::core::{MemberState, Node};
use crate::transport::TransportStats;

/// After a batch of remote versions was merged (or refused).
pub(super) fn applied(results: &Applied) {
    let applied = results.iter().filter(|(_, _, ok)| *ok).count();
    let refused = results.len() - applied;
    counter!("patina_changes_applied_total").increment(applied as u64);
    if refused > 0 {
        counter!("patina_changes_refused_total").increment(refused as u64);
    }
    if applied > 0 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        gauge!("patina_last_applied_timestamp_seconds").set(now);
    }
}

/// Local commits handed to the node for broadcast.
pub(super) fn local_changes(versions: &[Versions]) {
    counter!("patina_changes_sent_total").increment(versions.len() as u64);
}

/// A sync session this node opened ended.
pub(super) fn sync_ended(ok: bool) {
    let result = if ok { "ok" } else { "failed" };
    counter!("patina_sync_rounds_total", "result" => result).increment(1);
}

/// The membership as the node sees it now.
pub(super) fn members(node: &Node) {
    let members = node.members();
    let down = members
        .iter()
        .filter(|member| member.state == MemberState::Down)
        .count();
    gauge!("patina_members_up").set((members.len() - down) as f64);
    gauge!("patina_members_down").set(down as f64);
}

/// The transport's counters since it was bound.
pub(super) fn transport(stats: TransportStats) {
    counter!("patina_bytes_sent_total").absolute(stats.bytes_sent);
    counter!("patina_bytes_received_total").absolute(stats.bytes_received);
    counter!("patina_messages_sent_total").absolute(stats.messages_sent);
    counter!("patina_messages_received_total").absolute(stats.messages_received);
    counter!("patina_messages_dropped_total").absolute(stats.dropped);
    counter!("patina_peer_connections_refused_total").absolute(stats.connections_refused);
    gauge!("patina_peer_connections_open").set(stats.open_connections as f64);
}

/// The replication lag in seconds as of `now`: that of the site this node
/// has waited on longest (0 when it lacks nothing it knows of).
pub(super) fn lag(lagging_since: &BTreeMap<SiteId, SystemTime>, now: SystemTime) {
    let lag = lagging_since
        .values()
        .filter_map(|since| now.duration_since(*since).ok())
        .max()
        .unwrap_or_default();
    gauge!("patina_replication_lag_seconds").set(lag.as_secs_f64());
}
