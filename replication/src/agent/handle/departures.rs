//! Which down members left rather than failed.
//!
//! SWIM marks both down; they differ in how they get there. A failed
//! member is suspected first and declared down once the suspicion times
//! out (seconds, many status refreshes later). A member that leaves
//! announces itself down while still alive, so its peers see it go from
//! alive to down directly. Sans-IO: told the members at each status
//! refresh, it says which down ones left.

use std::collections::{HashMap, HashSet};

use crate::core::{Member, MemberState};
use crate::identity::NodeId;

#[derive(Debug, Default)]
pub(crate) struct Departures {
    /// Each member's state at the previous refresh.
    last: HashMap<NodeId, MemberState>,
    /// Down members that went down straight from alive.
    left: HashSet<NodeId>,
}

impl Departures {
    /// Takes in the members as of a refresh; members no longer listed are
    /// forgotten.
    pub fn observe(&mut self, members: &[Member]) {
        for member in members {
            let before = self.last.insert(member.id, member.state);
            match (before, member.state) {
                (Some(MemberState::Alive), MemberState::Down) => {
                    self.left.insert(member.id);
                }
                (_, MemberState::Down) => {}
                _ => {
                    self.left.remove(&member.id);
                }
            }
        }
        self.last
            .retain(|id, _| members.iter().any(|member| member.id == *id));
        self.left.retain(|id| self.last.contains_key(id));
    }

    /// Whether `id` is down because it left.
    pub fn left(&self, id: &NodeId) -> bool {
        self.left.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use patina_store::SiteId;

    use super::*;

    fn id(n: u8) -> NodeId {
        let addr: SocketAddr = format!("127.0.0.{n}:7878").parse().unwrap();
        NodeId::new(SiteId([n; 16]), addr, 1)
    }

    fn members(states: &[(u8, MemberState)]) -> Vec<Member> {
        states
            .iter()
            .map(|(n, state)| Member {
                id: id(*n),
                state: *state,
            })
            .collect()
    }

    #[test]
    fn down_straight_from_alive_left_down_after_suspicion_failed() {
        use MemberState::{Alive, Down, Suspect};
        let mut departures = Departures::default();
        departures.observe(&members(&[(1, Alive), (2, Alive)]));
        departures.observe(&members(&[(1, Down), (2, Suspect)]));
        departures.observe(&members(&[(1, Down), (2, Down)]));
        assert!(departures.left(&id(1)));
        assert!(!departures.left(&id(2)));
        // Still down at the next refresh: still left.
        departures.observe(&members(&[(1, Down), (2, Down)]));
        assert!(departures.left(&id(1)));
        // Forgotten by SWIM: forgotten here.
        departures.observe(&members(&[(2, Down)]));
        assert!(!departures.left(&id(1)));
        assert!(departures.last.len() == 1 && departures.left.is_empty());
    }

    #[test]
    fn first_seen_down_is_not_known_to_have_left() {
        let mut departures = Departures::default();
        departures.observe(&members(&[(3, MemberState::Down)]));
        assert!(!departures.left(&id(3)));
    }
}
