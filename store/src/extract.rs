//! Reading the changes of one site's versions back out of the clock tables,
//! for a peer that lacks them. Works the same for this node's own versions
//! and for versions merged from others (relaying).

use std::ops::RangeInclusive;

use rusqlite::{Connection, params};

use crate::schema::{Registry, TableInfo};
use crate::{Change, ChangeSet, SiteId, Value, Versions};

/// Change sets of site ordinal `ord` for the `applied` ranges (ascending,
/// disjoint), with runs of versions that hold no change reported cleared.
pub(crate) fn changes(
    conn: &Connection,
    registry: &Registry,
    site_id: SiteId,
    ord: i64,
    applied: &[RangeInclusive<u64>],
) -> rusqlite::Result<Vec<Versions>> {
    let (Some(first), Some(last)) = (applied.first(), applied.last()) else {
        return Ok(Vec::new());
    };
    let mut rows: Vec<(u64, Change)> = Vec::new();
    for table in registry.tables() {
        read_table(conn, table, ord, *first.start()..=*last.end(), &mut rows)?;
    }
    rows.sort_by_key(|(version, change)| (*version, change.seq));

    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    for range in applied {
        let mut next = *range.start();
        while next <= *range.end() {
            // Skip rows of versions outside the applied ranges (none expected).
            while rows.next_if(|(v, _)| *v < next).is_some() {}
            let with_rows = rows.peek().map(|(v, _)| *v).filter(|v| v <= range.end());
            let Some(version) = with_rows else {
                out.push(Versions::Cleared {
                    site_id,
                    versions: next..=*range.end(),
                });
                break;
            };
            if version > next {
                out.push(Versions::Cleared {
                    site_id,
                    versions: next..=version - 1,
                });
            }
            let mut changes = Vec::new();
            while let Some((_, change)) = rows.next_if(|(v, _)| *v == version) {
                changes.push(change);
            }
            out.push(Versions::Changed(ChangeSet {
                site_id,
                db_version: version,
                changes,
            }));
            next = version + 1;
        }
    }
    Ok(out)
}

fn read_table(
    conn: &Connection,
    table: &TableInfo,
    ord: i64,
    versions: RangeInclusive<u64>,
    out: &mut Vec<(u64, Change)>,
) -> rusqlite::Result<()> {
    let k = table.pk.len();
    let mut stmt = conn.prepare_cached(&table.sql.extract)?;
    let mut rows = stmt.query(params![
        ord,
        *versions.start() as i64,
        *versions.end() as i64
    ])?;
    while let Some(row) = rows.next()? {
        let pk = (0..k)
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<_>>()?;
        let cid: String = row.get(k)?;
        let version = row.get::<_, i64>(k + 2)? as u64;
        out.push((
            version,
            Change {
                table: table.name.clone(),
                pk,
                column: (!cid.is_empty()).then_some(cid),
                col_version: row.get::<_, i64>(k + 1)? as u64,
                seq: row.get::<_, i64>(k + 3)? as u64,
                value: row.get(k + 4)?,
                causal_length: row.get::<_, i64>(k + 5)? as u64,
            },
        ));
    }
    Ok(())
}
