//! Reading the changes of one site's versions back out, for a peer that
//! lacks them: the version log says which rows each version wrote, the
//! clocks say which of their cells that version still holds. Works the same
//! for this node's own versions and for versions merged from others
//! (relaying).

use std::ops::RangeInclusive;

use rusqlite::types::Type;
use rusqlite::{Connection, params};

use crate::schema::Registry;
use crate::{Change, ChangeSet, SiteId, Value, Versions, keys, pack, row_state};

/// Log entries with this table number only record that a version exists.
pub(crate) const VERSION_MARKER: i64 = 0;

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
    let mut entries: Vec<(u64, u64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT dbv, seq, tbl, pk FROM __patina_log WHERE site = ?1 AND dbv BETWEEN ?2 AND ?3",
        )?
        .query_map(
            params![ord, *first.start() as i64, *last.end() as i64],
            |row| {
                Ok((
                    row.get::<_, i64>(0)? as u64,
                    row.get::<_, i64>(1)? as u64,
                    row.get(2)?,
                    row.get(3)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    entries.sort_by_key(|(version, seq, ..)| (*version, *seq));

    let mut rows: Vec<(u64, Change)> = Vec::new();
    for (version, seq, tbl, packed) in entries {
        if tbl == VERSION_MARKER {
            continue;
        }
        let table = registry.by_id(tbl).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(2, format!("table #{tbl}"), Type::Integer)
        })?;
        let pk = pack::unpack(&packed)
            .ok_or_else(|| rusqlite::Error::InvalidColumnType(3, "pk".to_owned(), Type::Blob))?;
        let Some(state) = row_state::read(conn, table, &pk)? else {
            continue;
        };
        let cl = state.life.version;
        if state.life.is(ord, version) {
            rows.push((
                version,
                Change {
                    table: table.name.clone(),
                    pk: pk.clone(),
                    column: None,
                    value: Value::Null,
                    col_version: cl,
                    causal_length: cl,
                    seq,
                },
            ));
        }
        for (i, (cell, value)) in state.cells.iter().zip(state.values).enumerate() {
            if let Some(stamp) = cell.filter(|c| c.is(ord, version)) {
                rows.push((
                    version,
                    Change {
                        table: table.name.clone(),
                        pk: pk.clone(),
                        column: Some(table.columns[i].clone()),
                        value,
                        col_version: stamp.version,
                        causal_length: cl,
                        seq,
                    },
                ));
            }
        }
    }

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
                keys: keys::of(registry, &changes),
                changes,
            }));
            next = version + 1;
        }
    }
    Ok(out)
}
