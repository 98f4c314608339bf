//! Replication lag in time, per site.
//!
//! A site's lag is how long this node has known of the oldest version of
//! that site it still lacks: now minus the moment that version (or a later
//! one, which implies it) was first known to exist here — from a broadcast,
//! a sync chunk, a peer's sync request, or a gap below a version already
//! held. Zero when the node holds every version of the site it knows of.
//! Versions are first "known" as of the status refresh that sees them
//! (every 250 ms or so), and a node that starts lacking versions counts
//! from its start.
//!
//! Sans-IO: the tracker is told what the node holds, what it has heard of
//! and the time, and answers since when each lagging site has waited.

use std::collections::{BTreeMap, VecDeque};
use std::time::SystemTime;

use patina_store::{SiteId, SiteProgress};

use crate::sync::SyncState;

/// Remembers, per site, when each rise of the highest known version was
/// first seen, for as long as versions up to it are lacking.
#[derive(Debug, Default)]
pub(crate) struct LagTracker {
    sites: BTreeMap<SiteId, SiteLag>,
}

#[derive(Debug, Default)]
struct SiteLag {
    /// The highest version known so far.
    known: u64,
    /// `(v, t)`: versions up to `v` (above the previous entry's) were first
    /// known at `t`. Ascending in both.
    rises: VecDeque<(u64, SystemTime)>,
}

impl LagTracker {
    /// Takes in what the node holds and the highest version it has heard
    /// of per site, as of `now`; returns, for every site it lacks
    /// versions of, since when the oldest of them has been known.
    pub fn observe(
        &mut self,
        now: SystemTime,
        have: &SyncState,
        heard: &BTreeMap<SiteId, u64>,
    ) -> BTreeMap<SiteId, SystemTime> {
        let mut waiting = BTreeMap::new();
        let sites: Vec<SiteId> = have.sites.keys().chain(heard.keys()).copied().collect();
        for site in sites {
            let held = have.sites.get(&site);
            let heard = heard.get(&site).copied().unwrap_or(0);
            let lag = self.sites.entry(site).or_default();
            if let Some(since) = lag.observe(now, held, heard) {
                waiting.insert(site, since);
            }
        }
        waiting
    }
}

impl SiteLag {
    fn observe(
        &mut self,
        now: SystemTime,
        held: Option<&SiteProgress>,
        heard: u64,
    ) -> Option<SystemTime> {
        let held_max = held.map_or(0, |p| p.max_version);
        let known = heard.max(held_max);
        if known > self.known {
            self.rises.push_back((known, now));
            self.known = known;
        }
        let oldest_lacking = match held.and_then(|p| p.gaps.first()) {
            Some(gap) => *gap.start(),
            None if known > held_max => held_max + 1,
            None => {
                self.rises.clear();
                return None;
            }
        };
        // Rises below the oldest lacking version concern held versions only.
        while self
            .rises
            .front()
            .is_some_and(|(version, _)| *version < oldest_lacking)
        {
            self.rises.pop_front();
        }
        match self.rises.front() {
            Some((_, since)) => Some(*since),
            // Known before the tracker caught up with it (lacking since it
            // was cleared): from now on.
            None => {
                self.rises.push_back((known, now));
                Some(now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn site() -> SiteId {
        SiteId([7; 16])
    }

    fn have(max_version: u64, gaps: &[(u64, u64)]) -> SyncState {
        let progress = SiteProgress {
            max_version,
            gaps: gaps.iter().map(|(a, b)| *a..=*b).collect(),
        };
        SyncState {
            sites: BTreeMap::from([(site(), progress)]),
        }
    }

    fn heard(version: u64) -> BTreeMap<SiteId, u64> {
        BTreeMap::from([(site(), version)])
    }

    #[test]
    fn caught_up_is_no_lag() {
        let mut lag = LagTracker::default();
        assert!(lag.observe(at(10), &have(5, &[]), &heard(5)).is_empty());
        assert!(lag.observe(at(11), &have(0, &[]), &heard(0)).is_empty());
    }

    #[test]
    fn counts_from_when_the_oldest_lacking_version_was_first_known() {
        let mut lag = LagTracker::default();
        assert!(lag.observe(at(10), &have(3, &[]), &heard(3)).is_empty());
        // 4 and 5 heard of at 20, 6 at 25: the oldest lacking (4) waits
        // since 20.
        assert_eq!(
            lag.observe(at(20), &have(3, &[]), &heard(5))[&site()],
            at(20)
        );
        assert_eq!(
            lag.observe(at(25), &have(3, &[]), &heard(6))[&site()],
            at(20)
        );
        // 4 and 5 arrive: 6 waits since 25.
        assert_eq!(
            lag.observe(at(30), &have(5, &[]), &heard(6))[&site()],
            at(25)
        );
        // All of it: no lag, and nothing remembered.
        assert!(lag.observe(at(31), &have(6, &[]), &heard(6)).is_empty());
        assert!(lag.sites[&site()].rises.is_empty());
        // 7 heard of at 40.
        assert_eq!(
            lag.observe(at(40), &have(6, &[]), &heard(7))[&site()],
            at(40)
        );
    }

    #[test]
    fn a_gap_waits_since_the_version_above_it_was_known() {
        let mut lag = LagTracker::default();
        assert!(lag.observe(at(10), &have(2, &[]), &heard(2)).is_empty());
        // 5 arrives by broadcast before 3 and 4: the gap was known at 20.
        assert_eq!(
            lag.observe(at(20), &have(5, &[(3, 4)]), &heard(5))[&site()],
            at(20)
        );
        assert_eq!(
            lag.observe(at(26), &have(8, &[(3, 4)]), &heard(8))[&site()],
            at(20)
        );
        // The gap fills: nothing lacking.
        assert!(lag.observe(at(27), &have(8, &[]), &heard(8)).is_empty());
    }

    #[test]
    fn lacking_at_start_counts_from_the_first_look() {
        let mut lag = LagTracker::default();
        assert_eq!(
            lag.observe(at(100), &have(9, &[(2, 2)]), &heard(9))[&site()],
            at(100)
        );
        assert_eq!(
            lag.observe(at(105), &have(9, &[(2, 2)]), &heard(12))[&site()],
            at(100)
        );
    }

    #[test]
    fn a_site_only_heard_of_lags() {
        let mut lag = LagTracker::default();
        let nothing = SyncState::default();
        assert_eq!(lag.observe(at(3), &nothing, &heard(2))[&site()], at(3));
        assert_eq!(lag.observe(at(9), &nothing, &heard(4))[&site()], at(3));
    }
}
