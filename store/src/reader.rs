//! Reading changes and bookkeeping on a connection of its own, so serving a
//! peer (a broadcast, a sync of a whole dataset) never waits for the writer
//! nor makes it wait: in WAL mode a reader sees a snapshot and the writer
//! goes on.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::Path;

use rusqlite::Connection;

use crate::bookkeeping::{self, SiteProgress};
use crate::schema::Registry;
use crate::sites::Sites;
use crate::store::Store;
use crate::{OpenError, ReadError, SiteId, Versions};

/// A read-only view of a node's database for replication: this node's
/// db_version, what it holds of every site, and change sets to send.
/// Each call reads one consistent snapshot.
#[derive(Debug)]
pub struct Reader {
    conn: Connection,
    registry: Registry,
    schema_version: i64,
    sites: Sites,
}

impl Reader {
    /// Opens a reader on the database at `path` (which a [`Store`] must
    /// have created).
    pub fn open(path: &Path) -> Result<Reader, OpenError> {
        let conn = Store::open_reader_at(path)?;
        conn.set_prepared_statement_cache_capacity(64);
        let registry = Registry::load(&conn)?;
        let schema_version = schema_version(&conn)?;
        let sites = Sites::load(&conn)?;
        Ok(Reader {
            conn,
            registry,
            schema_version,
            sites,
        })
    }

    pub fn site_id(&self) -> SiteId {
        self.sites.local()
    }

    /// The last committed local db_version.
    pub fn db_version(&self) -> Result<u64, ReadError> {
        Ok(crate::merge::local_version(&self.conn)?)
    }

    /// See [`Store::sync_state`].
    pub fn sync_state(&mut self) -> Result<BTreeMap<SiteId, SiteProgress>, ReadError> {
        self.snapshot(|reader| sync_state(&reader.conn, &reader.sites))
    }

    /// See [`Store::changes`].
    pub fn changes(
        &mut self,
        site: SiteId,
        versions: RangeInclusive<u64>,
    ) -> Result<Vec<Versions>, ReadError> {
        self.snapshot(|reader| {
            changes(
                &reader.conn,
                &reader.registry,
                &reader.sites,
                site,
                versions,
            )
        })
    }

    /// Runs `read` in one read transaction, after catching up with tables
    /// and sites that other connections added.
    fn snapshot<T>(
        &mut self,
        read: impl FnOnce(&Reader) -> Result<T, ReadError>,
    ) -> Result<T, ReadError> {
        self.conn.execute_batch("BEGIN")?;
        let result = self.refresh().and_then(|()| read(self));
        self.conn.execute_batch("COMMIT")?;
        result
    }

    fn refresh(&mut self) -> Result<(), ReadError> {
        let version = schema_version(&self.conn)?;
        if version != self.schema_version {
            self.registry = Registry::load(&self.conn)?;
            self.schema_version = version;
        }
        let known: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM __patina_sites")?
            .query_row([], |row| row.get(0))?;
        if known as usize != self.sites.len() {
            self.sites = Sites::load(&self.conn).map_err(|error| match error {
                OpenError::Sqlite(e) => ReadError(e),
                OpenError::Corrupt(reason) => {
                    ReadError(rusqlite::Error::InvalidParameterName(reason))
                }
            })?;
        }
        Ok(())
    }
}

fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA schema_version", [], |row| row.get(0))
}

/// What `conn` holds of `site`'s versions within `versions`.
pub(crate) fn changes(
    conn: &Connection,
    registry: &Registry,
    sites: &Sites,
    site: SiteId,
    versions: RangeInclusive<u64>,
) -> Result<Vec<Versions>, ReadError> {
    let Some(ord) = sites.ordinal(&site) else {
        return Ok(Vec::new());
    };
    let applied = if ord == 0 {
        let head = crate::merge::local_version(conn)?;
        let range = (*versions.start()).max(1)..=(*versions.end()).min(head);
        if range.is_empty() {
            vec![]
        } else {
            vec![range]
        }
    } else {
        bookkeeping::applied_within(conn, ord, &versions)?
    };
    Ok(crate::extract::changes(
        conn, registry, site, ord, &applied,
    )?)
}

/// Per site (this node included), the highest version applied and the gaps.
pub(crate) fn sync_state(
    conn: &Connection,
    sites: &Sites,
) -> Result<BTreeMap<SiteId, SiteProgress>, ReadError> {
    let mut remote = bookkeeping::progress(conn)?;
    let mut state = BTreeMap::new();
    for (ord, site) in sites.all() {
        if ord == 0 {
            let max_version = crate::merge::local_version(conn)?;
            state.insert(
                site,
                SiteProgress {
                    max_version,
                    gaps: vec![],
                },
            );
        } else if let Some(progress) = remote.remove(&ord) {
            state.insert(site, progress);
        }
    }
    Ok(state)
}
