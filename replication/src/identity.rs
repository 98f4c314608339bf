//! Who a node is in the cluster: its site id, the address its gossip
//! socket listens on, and an incarnation that grows each time the node
//! starts (or is declared down and renews itself), so peers tell a
//! restarted node from the stale memory of its previous run.

use std::fmt;
use std::net::SocketAddr;

use patina_store::SiteId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId {
    pub site: SiteId,
    pub addr: SocketAddr,
    pub incarnation: u64,
}

impl NodeId {
    pub fn new(site: SiteId, addr: SocketAddr, incarnation: u64) -> NodeId {
        NodeId {
            site,
            addr,
            incarnation,
        }
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}#{}", self.site, self.addr, self.incarnation)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl foca::Identity for NodeId {
    /// One member per gossip address: a node restarted on the same address
    /// replaces its previous run.
    type Addr = SocketAddr;

    fn renew(&self) -> Option<NodeId> {
        Some(NodeId {
            incarnation: self.incarnation + 1,
            ..*self
        })
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The later run of a node wins; between different databases on one
    /// address (a wiped data directory), the later start wins too.
    fn win_addr_conflict(&self, adversary: &NodeId) -> bool {
        (self.incarnation, self.site) > (adversary.incarnation, adversary.site)
    }
}

#[cfg(test)]
mod tests {
    use foca::Identity;

    use super::*;

    fn node(incarnation: u64) -> NodeId {
        NodeId::new(
            SiteId([1; 16]),
            "127.0.0.1:7878".parse().expect("addr"),
            incarnation,
        )
    }

    #[test]
    fn renewed_identity_wins_the_address() {
        let first = node(5);
        let renewed = first.renew().expect("renews");
        assert_eq!(renewed.addr(), first.addr());
        assert!(renewed.win_addr_conflict(&first));
        assert!(!first.win_addr_conflict(&renewed));
    }
}
