//! The statements one merge runs against each table. Their SQL text is
//! built once per table, with the registry (`TableSql`), and they are
//! prepared once in the connection's statement cache, across merges: a
//! node of a large cluster merges one row at a time, and building the text
//! and preparing it again was most of such a merge's own work. Within a
//! merge they are taken out of the cache on first use and held until it
//! ends: a change set of thousands of rows runs the same few statements
//! thousands of times, and looking each up in the cache by its SQL text
//! (hashing it, moving it in and out of the cache) cost about a tenth of
//! the merge.
//!
//! The held statements name the table's columns as the registry had them
//! when they were prepared, so [`Statements::forget`] must run whenever
//! the registry changes under a merge (a merged schema change).

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{CachedStatement, Connection, ToSql, params_from_iter};

use crate::schema::TableInfo;
use crate::{Value, row_state};

/// The statements held per table.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// The row's clocks and values (the table's `row_state` SQL).
    RowState,
    /// Creates the row with every value column given (an upsert).
    RowPut,
    /// Creates the row with only its key (values default), if missing.
    RowCreate,
    RowDelete,
    /// Writes every value column of an existing row.
    ValuesPut,
    /// Writes the row's life, clearing every column clock.
    LifePut,
    /// Writes the clock row whole: the row's life and every column clock.
    ClocksRowPut,
    /// Writes every column clock of an existing clock row.
    ClocksPut,
}

const KINDS: usize = 8;

type Held<'conn> = [Option<CachedStatement<'conn>>; KINDS];

pub(super) struct Statements<'conn> {
    conn: &'conn Connection,
    /// By table number.
    tables: RefCell<HashMap<i64, Held<'conn>>>,
    /// The version-log insert.
    log: RefCell<Option<CachedStatement<'conn>>>,
}

/// Records a row written by a version: site, db_version, table, packed key,
/// seq (the first entry of a row and version stands).
const LOG_INSERT: &str = "INSERT INTO __patina_log (site, dbv, tbl, pk, seq) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";

impl<'conn> Statements<'conn> {
    pub fn new(conn: &'conn Connection) -> Statements<'conn> {
        Statements {
            conn,
            tables: RefCell::new(HashMap::new()),
            log: RefCell::new(None),
        }
    }

    pub fn conn(&self) -> &'conn Connection {
        self.conn
    }

    /// Drops every held statement (the registry changed).
    pub fn forget(&self) {
        self.tables.borrow_mut().clear();
    }

    /// Runs statement `kind` of `table` with the key values, then `extra`.
    pub fn run(
        &self,
        table: &TableInfo,
        kind: Kind,
        pk: &[Value],
        extra: &[&dyn ToSql],
    ) -> rusqlite::Result<()> {
        self.with(table, kind, |stmt| {
            let params = pk
                .iter()
                .map(|v| v as &dyn ToSql)
                .chain(extra.iter().copied());
            stmt.execute(params_from_iter(params)).map(drop)
        })
    }

    /// Runs the version-log insert ([`LOG_INSERT`]).
    pub fn log(&self, params: &[&dyn ToSql]) -> rusqlite::Result<()> {
        let mut held = self.log.borrow_mut();
        let stmt = match &mut *held {
            Some(stmt) => stmt,
            None => held.insert(self.conn.prepare_cached(LOG_INSERT)?),
        };
        stmt.execute(params).map(drop)
    }

    /// Reads the row's state (see [`row_state::read`]).
    pub fn row_state(
        &self,
        table: &TableInfo,
        pk: &[Value],
    ) -> rusqlite::Result<Option<row_state::RowState>> {
        self.with(table, Kind::RowState, |stmt| {
            row_state::read_with(stmt, table, pk)
        })
    }

    fn with<T>(
        &self,
        table: &TableInfo,
        kind: Kind,
        f: impl FnOnce(&mut CachedStatement<'conn>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let mut tables = self.tables.borrow_mut();
        let held = &mut tables.entry(table.id).or_default()[kind as usize];
        let stmt = match held {
            Some(stmt) => stmt,
            None => held.insert(self.conn.prepare_cached(sql(table, kind))?),
        };
        f(stmt)
    }
}

fn sql(table: &TableInfo, kind: Kind) -> &str {
    let sql = &table.sql;
    match kind {
        Kind::RowState => &sql.row_state,
        Kind::RowPut => &sql.row_put,
        Kind::RowCreate => &sql.row_create,
        Kind::RowDelete => &sql.row_delete,
        Kind::ValuesPut => &sql.values_put,
        Kind::LifePut => &sql.life_put,
        Kind::ClocksRowPut => &sql.clock_row_put,
        Kind::ClocksPut => &sql.clocks_put,
    }
}
