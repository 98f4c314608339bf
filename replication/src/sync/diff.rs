//! The sync diff: which versions one node holds that another lacks.

use std::ops::RangeInclusive;

use patina_store::SiteId;

use super::SyncState;
use super::holdings::Holdings;

/// The versions `ours` holds and `theirs` lacks, per site, ascending by site
/// then version: exactly what a node serving a sync request sends back.
///
/// Gaps count on both sides: a version in one of our gaps is not sent (we do
/// not have it), a version in one of their gaps is (they lack it), and every
/// version above their `max_version` is.
pub fn missing(ours: &SyncState, theirs: &SyncState) -> Vec<(SiteId, RangeInclusive<u64>)> {
    Holdings::from_state(ours).difference(&Holdings::from_state(theirs))
}

#[cfg(test)]
mod tests {
    use patina_store::SiteProgress;

    use super::*;

    fn site(n: u8) -> SiteId {
        SiteId([n; 16])
    }

    fn state(sites: &[(u8, u64, &[RangeInclusive<u64>])]) -> SyncState {
        SyncState {
            sites: sites
                .iter()
                .map(|(n, max, gaps)| {
                    (
                        site(*n),
                        SiteProgress {
                            max_version: *max,
                            gaps: gaps.to_vec(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn nothing_is_missing_between_equals() {
        let s = state(&[(1, 10, &[3..=4]), (2, 5, &[])]);
        assert!(missing(&s, &s).is_empty());
        assert!(missing(&SyncState::default(), &s).is_empty());
    }

    #[test]
    fn everything_is_missing_for_an_empty_peer() {
        let ours = state(&[(1, 10, &[3..=4]), (2, 5, &[])]);
        assert_eq!(
            missing(&ours, &SyncState::default()),
            vec![(site(1), 1..=2), (site(1), 5..=10), (site(2), 1..=5)]
        );
    }

    #[test]
    fn versions_above_their_max_are_missing() {
        let ours = state(&[(1, 10, &[])]);
        let theirs = state(&[(1, 7, &[])]);
        assert_eq!(missing(&ours, &theirs), vec![(site(1), 8..=10)]);
        assert!(missing(&theirs, &ours).is_empty());
    }

    #[test]
    fn gaps_on_both_sides() {
        // We lack 3..=4 and 9; they lack 2..=5 and 8..=12 and everything
        // above 15; we hold up to 20.
        let ours = state(&[(1, 20, &[3..=4, 9..=9])]);
        let theirs = state(&[(1, 15, &[2..=5, 8..=12])]);
        assert_eq!(
            missing(&ours, &theirs),
            vec![
                (site(1), 2..=2),
                (site(1), 5..=5),
                (site(1), 8..=8),
                (site(1), 10..=12),
                (site(1), 16..=20)
            ]
        );
        assert_eq!(missing(&theirs, &ours), Vec::new());
    }

    #[test]
    fn their_gap_we_also_lack_is_not_sent() {
        let ours = state(&[(1, 6, &[2..=3])]);
        let theirs = state(&[(1, 6, &[1..=4])]);
        assert_eq!(
            missing(&ours, &theirs),
            vec![(site(1), 1..=1), (site(1), 4..=4)]
        );
    }

    #[test]
    fn sites_they_never_heard_of() {
        let ours = state(&[(1, 2, &[]), (3, 4, &[1..=3])]);
        let theirs = state(&[(1, 2, &[]), (2, 9, &[])]);
        assert_eq!(missing(&ours, &theirs), vec![(site(3), 4..=4)]);
    }

    #[test]
    fn malformed_gaps_are_tolerated() {
        // Overlapping, unsorted, empty, above max: read as "lacks these".
        let empty = RangeInclusive::new(2, 1);
        let ours = state(&[(1, 5, &[])]);
        let theirs = state(&[(1, 5, &[4..=9, 1..=2, empty, 1..=1])]);
        assert_eq!(
            missing(&ours, &theirs),
            vec![(site(1), 1..=2), (site(1), 4..=5)]
        );
    }
}
