//! The statements one merge runs against each table, prepared on first use
//! and held until the merge ends: a change set of thousands of rows runs
//! the same few statements thousands of times, and looking each up in the
//! connection's cache by its SQL text (hashing it, moving it in and out of
//! the cache) cost about a tenth of the merge.
//!
//! The held statements name the table's columns as the registry had them
//! when they were prepared, so [`Statements::forget`] must run whenever
//! the registry changes under a merge (a merged schema change).

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{CachedStatement, Connection, ToSql, params_from_iter};

use crate::schema::{TableInfo, clock_columns};
use crate::sql::{column_list, ident};
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
            None => held.insert(self.conn.prepare_cached(&sql(table, kind))?),
        };
        f(stmt)
    }
}

fn sql(table: &TableInfo, kind: Kind) -> String {
    let all: Vec<&String> = table.columns.iter().collect();
    match kind {
        Kind::RowState => table.sql.row_state.clone(),
        Kind::RowPut => row_upsert(table, &all),
        Kind::RowCreate => table.sql.row_create.clone(),
        Kind::RowDelete => table.sql.row_delete.clone(),
        Kind::ValuesPut => table.sql.values_put.clone(),
        Kind::LifePut => table.sql.life_put.clone(),
        Kind::ClocksRowPut => clock_row_put(table),
        Kind::ClocksPut => table.sql.clocks_put.clone(),
    }
}

/// `INSERT INTO t (key, columns) VALUES (?1…?k, ?k+1…) ON CONFLICT DO
/// UPDATE SET columns`: the row with `columns` set, whether it exists or
/// not (other columns keep their value or get their default).
pub(super) fn row_upsert(table: &TableInfo, columns: &[&String]) -> String {
    let k = table.pk.len();
    let names: Vec<String> = table
        .pk
        .iter()
        .chain(columns.iter().copied())
        .map(|c| ident(c))
        .collect();
    let params: Vec<String> = (1..=k + columns.len()).map(|i| format!("?{i}")).collect();
    let sets: Vec<String> = columns
        .iter()
        .map(|c| format!("{0} = excluded.{0}", ident(c)))
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO UPDATE SET {}",
        ident(&table.name),
        names.join(", "),
        params.join(", "),
        sets.join(", ")
    )
}

/// The whole clock row: the life `?k+1` written by db_version `?k+2` of
/// site `?k+3`, then per column its col_version, db_version and site (0,
/// NULL, NULL for no clock).
fn clock_row_put(table: &TableInfo) -> String {
    let mut names = vec![
        "__patina_cl".to_owned(),
        "__patina_cl_dbv".to_owned(),
        "__patina_cl_site".to_owned(),
    ];
    for column in &table.columns {
        names.extend(clock_columns(column));
    }
    let names: Vec<String> = names.iter().map(|n| ident(n)).collect();
    let k = table.pk.len();
    let params: Vec<String> = (1..=k + names.len()).map(|i| format!("?{i}")).collect();
    let sets: Vec<String> = names
        .iter()
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    format!(
        "INSERT INTO {} ({}, {}) VALUES ({}) ON CONFLICT DO UPDATE SET {}",
        ident(&table.clock),
        column_list("", &table.pk),
        names.join(", "),
        params.join(", "),
        sets.join(", ")
    )
}
