//! Reading one row's clocks and values, as merge, extraction and
//! compaction all need them.

use rusqlite::{Connection, OptionalExtension, Statement, params_from_iter};

use crate::Value;
use crate::schema::TableInfo;

/// Who wrote a clock: its version (col_version, or causal length), and the
/// db_version and site ordinal of the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub version: u64,
    pub db_version: u64,
    pub site: i64,
}

impl Stamp {
    pub fn is(&self, site: i64, db_version: u64) -> bool {
        self.site == site && self.db_version == db_version
    }
}

#[derive(Debug)]
pub(crate) struct RowState {
    /// The causal length and its writer.
    pub life: Stamp,
    /// Each column's clock, `None` when it has none.
    pub cells: Vec<Option<Stamp>>,
    /// Each column's value (NULL for a deleted row).
    pub values: Vec<Value>,
}

impl RowState {
    /// Whether any clock of the row was written by `(site, db_version)`.
    pub fn holds(&self, site: i64, db_version: u64) -> bool {
        self.life.is(site, db_version)
            || self.cells.iter().flatten().any(|c| c.is(site, db_version))
    }
}

pub(crate) fn read(
    conn: &Connection,
    table: &TableInfo,
    pk: &[Value],
) -> rusqlite::Result<Option<RowState>> {
    let mut stmt = conn.prepare_cached(&table.sql.row_state)?;
    read_with(&mut stmt, table, pk)
}

/// [`read`] with the table's `row_state` statement prepared by the caller.
pub(crate) fn read_with(
    stmt: &mut Statement<'_>,
    table: &TableInfo,
    pk: &[Value],
) -> rusqlite::Result<Option<RowState>> {
    let n = table.columns.len();
    stmt.query_row(params_from_iter(pk.iter()), |row| {
        let stamp = |at: usize| -> rusqlite::Result<Option<Stamp>> {
            let version: i64 = row.get(at)?;
            if version == 0 {
                return Ok(None);
            }
            Ok(Some(Stamp {
                version: version as u64,
                db_version: row.get::<_, i64>(at + 1)? as u64,
                site: row.get(at + 2)?,
            }))
        };
        let life = stamp(0)?.unwrap_or(Stamp {
            version: 0,
            db_version: 0,
            site: 0,
        });
        let cells = (0..n)
            .map(|i| stamp(3 + 3 * i))
            .collect::<rusqlite::Result<_>>()?;
        let values = (0..n)
            .map(|i| row.get::<_, Value>(3 + 3 * n + i))
            .collect::<rusqlite::Result<_>>()?;
        Ok(RowState {
            life,
            cells,
            values,
        })
    })
    .optional()
}
