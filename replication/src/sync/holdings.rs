//! What a node holds of every site's versions, as range sets: the working
//! form of a [`SyncState`].

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use patina_store::SiteId;

use super::SyncState;
use super::ranges::RangeSet;

/// Per site, the versions held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    sites: BTreeMap<SiteId, RangeSet>,
}

impl Holdings {
    pub fn new() -> Holdings {
        Holdings::default()
    }

    pub fn from_state(state: &SyncState) -> Holdings {
        let sites = state
            .sites
            .iter()
            .map(|(site, progress)| (*site, RangeSet::from_progress(progress)))
            .filter(|(_, set)| !set.is_empty())
            .collect();
        Holdings { sites }
    }

    /// The sync state of these holdings (sites holding nothing left out).
    pub fn to_state(&self) -> SyncState {
        SyncState {
            sites: self
                .sites
                .iter()
                .map(|(site, set)| (*site, set.to_progress()))
                .collect(),
        }
    }

    pub fn site(&self, site: &SiteId) -> Option<&RangeSet> {
        self.sites.get(site)
    }

    pub fn sites(&self) -> impl Iterator<Item = (&SiteId, &RangeSet)> {
        self.sites.iter()
    }

    pub fn insert(&mut self, site: SiteId, versions: RangeInclusive<u64>) {
        if versions.is_empty() || *versions.end() == 0 {
            return;
        }
        self.sites.entry(site).or_default().insert(versions);
    }

    pub fn remove(&mut self, site: SiteId, versions: RangeInclusive<u64>) {
        if let Some(set) = self.sites.get_mut(&site) {
            set.remove(versions);
            if set.is_empty() {
                self.sites.remove(&site);
            }
        }
    }

    pub fn contains(&self, site: &SiteId, version: u64) -> bool {
        self.sites
            .get(site)
            .is_some_and(|set| set.contains(version))
    }

    /// The highest version held of `site`.
    pub fn max(&self, site: &SiteId) -> Option<u64> {
        self.sites.get(site).and_then(RangeSet::max)
    }

    /// The parts of `versions` of `site` not held.
    pub fn missing_within(
        &self,
        site: &SiteId,
        versions: RangeInclusive<u64>,
    ) -> Vec<RangeInclusive<u64>> {
        match self.sites.get(site) {
            Some(set) => set.missing_within(versions),
            None if versions.is_empty() => Vec::new(),
            None => vec![(*versions.start()).max(1)..=*versions.end()],
        }
    }

    /// Everything in `self` or `other`.
    pub fn union(&self, other: &Holdings) -> Holdings {
        let mut out = self.clone();
        for (site, set) in &other.sites {
            for range in set.iter() {
                out.insert(*site, range);
            }
        }
        out
    }

    /// Per site, the versions held here and not in `other`, ascending by
    /// site then version.
    pub fn difference(&self, other: &Holdings) -> Vec<(SiteId, RangeInclusive<u64>)> {
        let empty = RangeSet::new();
        self.sites
            .iter()
            .flat_map(|(site, set)| {
                let theirs = other.sites.get(site).unwrap_or(&empty);
                set.difference(theirs)
                    .into_iter()
                    .map(move |range| (*site, range))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use patina_store::SiteProgress;

    use super::*;

    fn site(n: u8) -> SiteId {
        SiteId([n; 16])
    }

    #[test]
    fn converts_to_and_from_sync_state() {
        let mut h = Holdings::new();
        h.insert(site(1), 1..=4);
        h.insert(site(1), 7..=9);
        h.insert(site(2), 3..=3);
        h.insert(site(3), RangeInclusive::new(1, 0));
        let state = h.to_state();
        assert_eq!(
            state.sites[&site(1)],
            SiteProgress {
                max_version: 9,
                gaps: vec![5..=6]
            }
        );
        assert_eq!(
            state.sites[&site(2)],
            SiteProgress {
                max_version: 3,
                gaps: vec![1..=2]
            }
        );
        assert!(!state.sites.contains_key(&site(3)));
        assert_eq!(Holdings::from_state(&state), h);
    }

    #[test]
    fn a_site_with_nothing_is_dropped() {
        let mut state = SyncState::default();
        state.sites.insert(
            site(1),
            SiteProgress {
                max_version: 0,
                gaps: vec![],
            },
        );
        assert_eq!(Holdings::from_state(&state), Holdings::new());
        let mut h = Holdings::new();
        h.insert(site(1), 2..=2);
        h.remove(site(1), 1..=5);
        assert_eq!(h, Holdings::new());
        assert_eq!(h.missing_within(&site(1), 0..=2), vec![1..=2]);
    }

    #[test]
    fn union_and_difference() {
        let mut a = Holdings::new();
        a.insert(site(1), 1..=5);
        a.insert(site(2), 2..=2);
        let mut b = Holdings::new();
        b.insert(site(1), 4..=8);
        let u = a.union(&b);
        assert_eq!(u.max(&site(1)), Some(8));
        assert!(u.contains(&site(2), 2));
        assert_eq!(a.difference(&b), vec![(site(1), 1..=3), (site(2), 2..=2)]);
        assert_eq!(b.difference(&a), vec![(site(1), 6..=8)]);
    }
}
