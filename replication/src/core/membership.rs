//! The glue to foca: a [`foca::Runtime`] that collects what foca wants done
//! (packets, timers, notifications) for the node to drain after each call,
//! and the member view the node exposes.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use foca::{Notification, OwnedNotification, Runtime, Timer};

use crate::identity::NodeId;

/// foca's requests from one call, in the order made.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub sends: Vec<(SocketAddr, Vec<u8>)>,
    pub timers: Vec<(Duration, Timer<NodeId>)>,
    pub notifications: Vec<OwnedNotification<NodeId>>,
}

impl Runtime<NodeId> for Outbox {
    fn notify(&mut self, notification: Notification<'_, NodeId>) {
        self.notifications.push(notification.to_owned());
    }

    fn send_to(&mut self, to: NodeId, data: &[u8]) {
        self.sends.push((to.addr, data.to_vec()));
    }

    fn submit_after(&mut self, event: Timer<NodeId>, after: Duration) {
        self.timers.push((after, event));
    }
}

/// foca's settings for a cluster of `size` active members (this node
/// included): as it grows, an update rides on more messages and a suspect
/// has longer to refute, as foca's LAN profile for that size says; never
/// less than `base` gives. `base` alone is sized for a handful of nodes:
/// at 30, a member up then reached most members but not all, and those
/// missed learned of it only when it came to probe them, one member a
/// second.
pub(crate) fn swim_for_size(base: &foca::Config, size: usize) -> foca::Config {
    let size = NonZeroU32::new(u32::try_from(size).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
    let lan = foca::Config::new_lan(size);
    let mut config = base.clone();
    config.max_transmissions = base.max_transmissions.max(lan.max_transmissions);
    config.suspect_to_down_after = base.suspect_to_down_after.max(lan.suspect_to_down_after);
    config
}

/// How this node sees a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberState {
    Alive,
    /// Alive for every purpose until it refutes the suspicion or is
    /// declared down.
    Suspect,
    /// Declared down (remembered for a while, then forgotten).
    Down,
}

impl MemberState {
    /// Alive or suspect: a target for broadcasts and sync.
    pub fn is_up(self) -> bool {
        matches!(self, MemberState::Alive | MemberState::Suspect)
    }
}

impl From<foca::State> for MemberState {
    fn from(state: foca::State) -> MemberState {
        match state {
            foca::State::Alive => MemberState::Alive,
            foca::State::Suspect => MemberState::Suspect,
            foca::State::Down => MemberState::Down,
        }
    }
}

/// A member as this node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub id: NodeId,
    pub state: MemberState,
}

/// Something that happened, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A member became active.
    MemberUp(NodeId),
    /// A member was declared down (or left).
    MemberDown(NodeId),
    /// A member restarted or renewed itself: `new` replaces `old` at the
    /// same address.
    MemberRenamed { old: NodeId, new: NodeId },
    /// This node is known to at least one active member.
    Active,
    /// This node knows no active member.
    Idle,
    /// This node's identity was declared down (or it left).
    Defunct,
    /// This node was declared down and rejoined with a renewed identity.
    Rejoined(NodeId),
    /// A sync session this node opened did not end in time and was dropped.
    SyncTimedOut(SocketAddr),
    /// Parts of an incomplete version were dropped to stay under
    /// `max_pending_bytes`; anti-entropy fetches it again.
    PartsEvicted {
        site: patina_store::SiteId,
        version: u64,
    },
}

impl Event {
    /// The event for a foca notification, if it is worth one.
    pub(crate) fn from_notification(notification: &OwnedNotification<NodeId>) -> Option<Event> {
        Some(match notification {
            OwnedNotification::MemberUp(id) => Event::MemberUp(*id),
            OwnedNotification::MemberDown(id) => Event::MemberDown(*id),
            OwnedNotification::Rename(old, new) => Event::MemberRenamed {
                old: *old,
                new: *new,
            },
            OwnedNotification::Active => Event::Active,
            OwnedNotification::Idle => Event::Idle,
            OwnedNotification::Defunct => Event::Defunct,
            OwnedNotification::Rejoin(id) => Event::Rejoined(*id),
            #[allow(unreachable_patterns)]
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use patina_store::SiteId;

    use super::*;

    #[test]
    fn swim_settings_grow_with_the_cluster_never_below_the_base() {
        let base = foca::Config::new_lan(NonZeroU32::new(8).unwrap_or(NonZeroU32::MIN));
        let small = swim_for_size(&base, 3);
        assert_eq!(small.max_transmissions, base.max_transmissions);
        assert_eq!(small.suspect_to_down_after, base.suspect_to_down_after);
        let large = swim_for_size(&base, 30);
        assert!(large.max_transmissions > base.max_transmissions);
        assert!(large.suspect_to_down_after > base.suspect_to_down_after);
        assert_eq!(large.probe_period, base.probe_period);
        assert_eq!(large.max_packet_size, base.max_packet_size);
    }

    #[test]
    fn outbox_collects_in_order() {
        let id = NodeId::new(SiteId([1; 16]), SocketAddr::from(([127, 0, 0, 1], 9)), 0);
        let mut outbox = Outbox::default();
        outbox.send_to(id, b"ab");
        outbox.notify(Notification::MemberUp(&id));
        outbox.submit_after(Timer::PeriodicGossip(0), Duration::from_millis(5));
        assert_eq!(outbox.sends, vec![(id.addr, b"ab".to_vec())]);
        assert_eq!(
            Event::from_notification(&outbox.notifications[0]),
            Some(Event::MemberUp(id))
        );
        assert_eq!(outbox.timers.len(), 1);
        assert!(MemberState::Suspect.is_up() && !MemberState::Down.is_up());
    }
}
