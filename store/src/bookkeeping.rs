//! Which db_versions of each remote site this node has applied, as disjoint
//! coalesced ranges in `__patina_seen(site, start, end)`. This node's own
//! versions are `1..=db_version` and are not stored here.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// What a node has of one site's versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteProgress {
    /// The highest version applied (0 if none).
    pub max_version: u64,
    /// Versions below `max_version` not yet applied, in ascending order.
    pub gaps: Vec<RangeInclusive<u64>>,
}

pub(crate) fn is_applied(conn: &Connection, site: i64, version: u64) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT end FROM __patina_seen WHERE site = ?1 AND start <= ?2 ORDER BY start DESC LIMIT 1",
    )?;
    let mut rows = stmt.query(params![site, version as i64])?;
    Ok(match rows.next()? {
        Some(row) => row.get::<_, i64>(0)? >= version as i64,
        None => false,
    })
}

/// Records `versions` as applied, merging with neighbouring ranges.
pub(crate) fn mark_applied(
    conn: &Connection,
    site: i64,
    versions: RangeInclusive<u64>,
) -> rusqlite::Result<()> {
    let (mut start, mut end) = (*versions.start() as i64, *versions.end() as i64);
    let touching: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT start, end FROM __patina_seen WHERE site = ?1 AND start <= ?2 + 1 \
             ORDER BY start DESC",
        )?
        .query_map(params![site, end], |row| Ok((row.get(0)?, row.get(1)?)))?
        .take_while(|r| r.as_ref().map_or(true, |(_, e)| *e + 1 >= start))
        .collect::<rusqlite::Result<_>>()?;
    // The lowest touching range (the last, in descending order) is widened
    // in place if it starts no later: the usual case, the next version of
    // a site, is one update.
    let widened = touching.last().filter(|(s, _)| *s <= start).copied();
    let mut delete =
        conn.prepare_cached("DELETE FROM __patina_seen WHERE site = ?1 AND start = ?2")?;
    for (s, e) in touching {
        start = start.min(s);
        end = end.max(e);
        if widened.is_none_or(|(first, _)| first != s) {
            delete.execute(params![site, s])?;
        }
    }
    match widened {
        Some((_, e)) if e >= end => {}
        Some((s, _)) => {
            conn.prepare_cached(
                "UPDATE __patina_seen SET end = ?3 WHERE site = ?1 AND start = ?2",
            )?
            .execute(params![site, s, end])?;
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO __patina_seen (site, start, end) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![site, start, end])?;
        }
    }
    Ok(())
}

/// The applied ranges of `site` that intersect `within`, clipped to it.
pub(crate) fn applied_within(
    conn: &Connection,
    site: i64,
    within: &RangeInclusive<u64>,
) -> rusqlite::Result<Vec<RangeInclusive<u64>>> {
    let (lo, hi) = (*within.start(), *within.end());
    conn.prepare_cached(
        "SELECT start, end FROM __patina_seen WHERE site = ?1 AND end >= ?2 AND start <= ?3 \
         ORDER BY start",
    )?
    .query_map(params![site, lo as i64, hi as i64], |row| {
        let (s, e): (i64, i64) = (row.get(0)?, row.get(1)?);
        Ok((s as u64).max(lo)..=(e as u64).min(hi))
    })?
    .collect()
}

/// Progress for every remote site with at least one applied version, keyed
/// by site ordinal.
pub(crate) fn progress(conn: &Connection) -> rusqlite::Result<BTreeMap<i64, SiteProgress>> {
    let mut stmt =
        conn.prepare_cached("SELECT site, start, end FROM __patina_seen ORDER BY site, start")?;
    let mut rows = stmt.query([])?;
    let mut sites: BTreeMap<i64, SiteProgress> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let (site, start, end): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let progress = sites.entry(site).or_insert(SiteProgress {
            max_version: 0,
            gaps: Vec::new(),
        });
        if start as u64 > progress.max_version + 1 {
            progress
                .gaps
                .push(progress.max_version + 1..=start as u64 - 1);
        }
        progress.max_version = end as u64;
    }
    Ok(sites)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE __patina_seen (site INTEGER NOT NULL, start INTEGER NOT NULL, \
             end INTEGER NOT NULL, PRIMARY KEY (site, start)) WITHOUT ROWID",
        )
        .expect("create");
        conn
    }

    fn ranges(conn: &Connection, site: i64) -> Vec<RangeInclusive<u64>> {
        applied_within(conn, site, &(0..=u64::MAX >> 1)).expect("read")
    }

    #[test]
    fn coalesces_adjacent_and_overlapping_ranges() {
        let conn = db();
        for v in [5, 1, 3, 2] {
            mark_applied(&conn, 1, v..=v).expect("mark");
        }
        assert_eq!(ranges(&conn, 1), vec![1..=3, 5..=5]);
        mark_applied(&conn, 1, 4..=4).expect("mark");
        assert_eq!(ranges(&conn, 1), vec![1..=5]);
        mark_applied(&conn, 1, 3..=9).expect("mark");
        assert_eq!(ranges(&conn, 1), vec![1..=9]);
        mark_applied(&conn, 1, 2..=4).expect("mark");
        assert_eq!(ranges(&conn, 1), vec![1..=9]);
        assert!(ranges(&conn, 2).is_empty());
        // A range reaching below the lowest one it touches replaces them.
        for r in [5..=6, 9..=9, 3..=3] {
            mark_applied(&conn, 2, r).expect("mark");
        }
        mark_applied(&conn, 2, 1..=4).expect("mark");
        assert_eq!(ranges(&conn, 2), vec![1..=6, 9..=9]);
        mark_applied(&conn, 2, 7..=8).expect("mark");
        assert_eq!(ranges(&conn, 2), vec![1..=9]);
    }

    #[test]
    fn progress_reports_max_and_gaps() {
        let conn = db();
        for r in [2..=3, 7..=7, 10..=12] {
            mark_applied(&conn, 4, r).expect("mark");
        }
        let progress = progress(&conn).expect("progress");
        assert_eq!(
            progress[&4],
            SiteProgress {
                max_version: 12,
                gaps: vec![1..=1, 4..=6, 8..=9]
            }
        );
        assert!(is_applied(&conn, 4, 11).expect("read"));
        assert!(!is_applied(&conn, 4, 9).expect("read"));
        assert!(!is_applied(&conn, 3, 11).expect("read"));
    }

    #[test]
    fn applied_within_clips_to_the_window() {
        let conn = db();
        mark_applied(&conn, 1, 1..=10).expect("mark");
        mark_applied(&conn, 1, 20..=30).expect("mark");
        assert_eq!(
            applied_within(&conn, 1, &(5..=25)).expect("read"),
            vec![5..=10, 20..=25]
        );
    }
}
