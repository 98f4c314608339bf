//! A set of versions stored as disjoint, coalesced inclusive ranges.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use patina_store::SiteProgress;

/// Versions of one site, as disjoint ranges with no two adjacent (`1..=3`
/// and `4..=5` are kept as `1..=5`). Version 0 never occurs (versions start
/// at 1); inserting it is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet {
    /// start → end (inclusive).
    ranges: BTreeMap<u64, u64>,
}

impl RangeSet {
    pub fn new() -> RangeSet {
        RangeSet::default()
    }

    /// The versions `1..=max_version` minus the gaps.
    pub fn from_progress(progress: &SiteProgress) -> RangeSet {
        let mut set = RangeSet::new();
        if progress.max_version > 0 {
            set.insert(1..=progress.max_version);
            for gap in &progress.gaps {
                set.remove(gap.clone());
            }
        }
        set
    }

    /// The highest version and the gaps below it (everything missing from
    /// 1 up to it).
    pub fn to_progress(&self) -> SiteProgress {
        let mut gaps = Vec::new();
        let mut next = 1;
        for (&start, &end) in &self.ranges {
            if start > next {
                gaps.push(next..=start - 1);
            }
            next = end.saturating_add(1);
        }
        SiteProgress {
            max_version: self.max().unwrap_or(0),
            gaps,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The highest version held.
    pub fn max(&self) -> Option<u64> {
        self.ranges.last_key_value().map(|(_, &end)| end)
    }

    /// The ranges, ascending.
    pub fn iter(&self) -> impl Iterator<Item = RangeInclusive<u64>> + '_ {
        self.ranges.iter().map(|(&start, &end)| start..=end)
    }

    pub fn contains(&self, version: u64) -> bool {
        self.ranges
            .range(..=version)
            .next_back()
            .is_some_and(|(_, &end)| end >= version)
    }

    /// Adds `range`, coalescing with overlapping and adjacent ranges.
    pub fn insert(&mut self, range: RangeInclusive<u64>) {
        let (mut start, mut end) = ((*range.start()).max(1), *range.end());
        if start > end {
            return;
        }
        // Ranges that overlap or touch: those starting at or before end+1
        // and ending at or after start-1.
        let touching: Vec<(u64, u64)> = self
            .ranges
            .range(..=end.saturating_add(1))
            .rev()
            .take_while(|(_, e)| e.saturating_add(1) >= start)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in touching {
            self.ranges.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
    }

    /// Removes `range`, splitting ranges that straddle its ends.
    pub fn remove(&mut self, range: RangeInclusive<u64>) {
        let (start, end) = (*range.start(), *range.end());
        if start > end {
            return;
        }
        let overlapping: Vec<(u64, u64)> = self
            .ranges
            .range(..=end)
            .rev()
            .take_while(|(_, e)| **e >= start)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in overlapping {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start - 1);
            }
            if e > end {
                self.ranges.insert(end + 1, e);
            }
        }
    }

    /// The parts of `range` this set does not hold, ascending.
    pub fn missing_within(&self, range: RangeInclusive<u64>) -> Vec<RangeInclusive<u64>> {
        let (start, end) = ((*range.start()).max(1), *range.end());
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let mut next = start;
        // The range that may contain `start`, then those starting inside.
        let first = self
            .ranges
            .range(..start)
            .next_back()
            .map(|(&s, &e)| (s, e));
        let inside = self.ranges.range(start..=end).map(|(&s, &e)| (s, e));
        for (s, e) in first.into_iter().chain(inside) {
            if e < next {
                continue;
            }
            if s > next {
                out.push(next..=s - 1);
            }
            match e.checked_add(1) {
                Some(n) if n <= end => next = n,
                _ => return out,
            }
        }
        out.push(next..=end);
        out
    }

    /// The versions held here and not in `other`, ascending.
    pub fn difference(&self, other: &RangeSet) -> Vec<RangeInclusive<u64>> {
        self.iter()
            .flat_map(|range| other.missing_within(range))
            .collect()
    }

    /// Whether every version of `range` is held.
    pub fn covers(&self, range: RangeInclusive<u64>) -> bool {
        range.is_empty() || self.missing_within(range).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[RangeInclusive<u64>]) -> RangeSet {
        let mut s = RangeSet::new();
        for r in ranges {
            s.insert(r.clone());
        }
        s
    }

    fn ranges(s: &RangeSet) -> Vec<RangeInclusive<u64>> {
        s.iter().collect()
    }

    #[test]
    fn insert_coalesces_overlapping_and_adjacent() {
        let mut s = set(&[5..=5, 1..=1, 3..=3]);
        assert_eq!(ranges(&s), vec![1..=1, 3..=3, 5..=5]);
        s.insert(2..=2);
        assert_eq!(ranges(&s), vec![1..=3, 5..=5]);
        s.insert(4..=10);
        assert_eq!(ranges(&s), vec![1..=10]);
        s.insert(12..=12);
        s.insert(0..=0);
        assert_eq!(ranges(&s), vec![1..=10, 12..=12]);
        assert_eq!(s.max(), Some(12));
        assert!(s.contains(10) && !s.contains(11) && s.contains(12) && !s.contains(0));
    }

    #[test]
    fn remove_splits_ranges() {
        let mut s = set(&[1..=10, 20..=30]);
        s.remove(5..=22);
        assert_eq!(ranges(&s), vec![1..=4, 23..=30]);
        s.remove(1..=1);
        s.remove(30..=40);
        assert_eq!(ranges(&s), vec![2..=4, 23..=29]);
        s.remove(0..=100);
        assert!(s.is_empty());
    }

    #[test]
    fn missing_within_lists_the_holes() {
        let s = set(&[3..=5, 8..=9]);
        assert_eq!(s.missing_within(1..=10), vec![1..=2, 6..=7, 10..=10]);
        assert_eq!(s.missing_within(4..=8), vec![6..=7]);
        assert_eq!(s.missing_within(3..=5), Vec::<RangeInclusive<u64>>::new());
        assert_eq!(s.missing_within(10..=12), vec![10..=12]);
        assert!(s.covers(8..=9) && !s.covers(5..=6));
        let full = set(&[1..=u64::MAX]);
        assert!(full.missing_within(7..=u64::MAX).is_empty());
    }

    #[test]
    fn progress_round_trips() {
        let s = set(&[2..=3, 7..=7, 10..=12]);
        let p = s.to_progress();
        assert_eq!(p.max_version, 12);
        assert_eq!(p.gaps, vec![1..=1, 4..=6, 8..=9]);
        assert_eq!(RangeSet::from_progress(&p), s);
        let empty = RangeSet::new().to_progress();
        assert_eq!((empty.max_version, empty.gaps.len()), (0, 0));
        assert!(RangeSet::from_progress(&empty).is_empty());
    }

    #[test]
    fn difference_is_what_other_lacks() {
        let ours = set(&[1..=10, 15..=20]);
        let theirs = set(&[2..=4, 9..=16]);
        assert_eq!(ours.difference(&theirs), vec![1..=1, 5..=8, 17..=20]);
        assert!(theirs.difference(&set(&[1..=100])).is_empty());
    }
}
