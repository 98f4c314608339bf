//! Anti-entropy's data: what a node has of every site's versions, and the
//! difference between two nodes' holdings.
//!
//! - [`SyncState`]: the form that travels in a sync request and that the
//!   store reports ([`patina_store::Store::sync_state`]).
//! - [`RangeSet`], [`Holdings`]: the same as range sets, to compute with.
//! - [`missing`]: what one node holds that another lacks.

use std::collections::BTreeMap;

use patina_store::{SiteId, SiteProgress};
use serde::{Deserialize, Serialize};

mod diff;
mod holdings;
mod ranges;

pub use diff::missing;
pub use holdings::Holdings;
pub use ranges::RangeSet;

/// Per site, the highest version a node applied and the gaps below it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub sites: BTreeMap<SiteId, SiteProgress>,
}

impl SyncState {
    /// Whether `version` of `site` is held (at most `max_version`, not in a
    /// gap).
    pub fn contains(&self, site: &SiteId, version: u64) -> bool {
        self.sites.get(site).is_some_and(|p| {
            version >= 1
                && version <= p.max_version
                && !p.gaps.iter().any(|gap| gap.contains(&version))
        })
    }

    /// The highest version held of `site` (0 if none).
    pub fn max_version(&self, site: &SiteId) -> u64 {
        self.sites.get(site).map_or(0, |p| p.max_version)
    }

    /// The same holdings with sites that hold nothing left out, so two
    /// states holding the same versions compare equal.
    pub fn normalized(&self) -> SyncState {
        Holdings::from_state(self).to_state()
    }
}

impl From<BTreeMap<SiteId, SiteProgress>> for SyncState {
    /// From [`patina_store::Store::sync_state`].
    fn from(sites: BTreeMap<SiteId, SiteProgress>) -> SyncState {
        SyncState { sites }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_respects_gaps_and_max() {
        let site = SiteId([1; 16]);
        let state = SyncState::from(BTreeMap::from([(
            site,
            SiteProgress {
                max_version: 9,
                gaps: vec![3..=4],
            },
        )]));
        assert!(state.contains(&site, 1) && state.contains(&site, 9));
        assert!(!state.contains(&site, 3) && !state.contains(&site, 10));
        assert!(!state.contains(&site, 0));
        assert!(!state.contains(&SiteId([2; 16]), 1));
        assert_eq!(state.max_version(&site), 9);
    }
}
