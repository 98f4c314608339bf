//! Trimming the version log: an entry whose row no longer holds any clock
//! of its version points at nothing and can go. This node's highest entry
//! always stays (it is the last committed db_version).

use rusqlite::{Connection, params};

use crate::extract::VERSION_MARKER;
use crate::merge::local_version;
use crate::schema::Registry;
use crate::{pack, row_state};

/// Where the next compaction call resumes: the last log key it examined.
#[derive(Debug, Default)]
pub(crate) struct Cursor(Option<(i64, i64, i64, Vec<u8>)>);

/// What one compaction call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub removed: usize,
    /// This call reached the end of the log: the next starts from the top.
    pub pass_complete: bool,
}

pub(crate) fn compact(
    conn: &Connection,
    registry: &Registry,
    cursor: &mut Cursor,
    limit: usize,
) -> rusqlite::Result<Compaction> {
    let top = local_version(conn)? as i64;
    let (site, dbv, tbl, pk) = cursor.0.clone().unwrap_or((-1, 0, 0, Vec::new()));
    let entries: Vec<(i64, i64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT site, dbv, tbl, pk FROM __patina_log WHERE (site, dbv, tbl, pk) > (?1, ?2, ?3, ?4) \
             ORDER BY site, dbv, tbl, pk LIMIT ?5",
        )?
        .query_map(params![site, dbv, tbl, pk, limit.min(i64::MAX as usize) as i64], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let pass_complete = entries.len() < limit;
    cursor.0 = if pass_complete {
        None
    } else {
        entries.last().cloned()
    };

    let mut delete = conn.prepare_cached(
        "DELETE FROM __patina_log WHERE site = ?1 AND dbv = ?2 AND tbl = ?3 AND pk = ?4",
    )?;
    let mut removed = 0;
    for (site, dbv, tbl, packed) in entries {
        if site == 0 && dbv == top {
            continue;
        }
        let live = match (registry.by_id(tbl), pack::unpack(&packed)) {
            (Some(table), Some(pk)) => row_state::read(conn, table, &pk)?
                .is_some_and(|state| state.holds(site, dbv as u64)),
            _ => tbl != VERSION_MARKER,
        };
        if !live {
            removed += delete.execute(params![site, dbv, tbl, packed])?;
        }
    }
    Ok(Compaction {
        removed,
        pass_complete,
    })
}
