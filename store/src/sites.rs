//! Site ids by ordinal: clock rows store a small integer, `__patina_sites`
//! maps it to the 16-byte id. Ordinal 0 is this node.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::{OpenError, SiteId};

#[derive(Debug)]
pub(crate) struct Sites {
    ids: Vec<SiteId>,
    ordinals: HashMap<SiteId, i64>,
}

impl Sites {
    pub fn load(conn: &Connection) -> Result<Sites, OpenError> {
        let rows = conn
            .prepare("SELECT ord, site_id FROM __patina_sites ORDER BY ord")?
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut sites = Sites {
            ids: Vec::with_capacity(rows.len()),
            ordinals: HashMap::with_capacity(rows.len()),
        };
        for (ord, bytes) in rows {
            let id = SiteId::from_slice(&bytes).ok_or_else(|| {
                OpenError::Corrupt(format!("site {ord} has a {}-byte id", bytes.len()))
            })?;
            if ord != sites.ids.len() as i64 {
                return Err(OpenError::Corrupt(format!("site ordinals skip to {ord}")));
            }
            sites.ordinals.insert(id, ord);
            sites.ids.push(id);
        }
        if sites.ids.is_empty() {
            return Err(OpenError::Corrupt("the database has no site id".to_owned()));
        }
        Ok(sites)
    }

    pub fn local(&self) -> SiteId {
        self.ids[0]
    }

    pub fn ordinal(&self, id: &SiteId) -> Option<i64> {
        self.ordinals.get(id).copied()
    }

    pub fn id(&self, ordinal: i64) -> Option<SiteId> {
        usize::try_from(ordinal)
            .ok()
            .and_then(|i| self.ids.get(i))
            .copied()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Forgets the sites assigned after the first `len` (their rows were
    /// rolled back).
    pub fn truncate(&mut self, len: usize) {
        for id in self.ids.drain(len..) {
            self.ordinals.remove(&id);
        }
    }

    /// All known sites with their ordinals.
    pub fn all(&self) -> impl Iterator<Item = (i64, SiteId)> + '_ {
        self.ids.iter().enumerate().map(|(i, id)| (i as i64, *id))
    }

    /// The ordinal of `id`, assigned (and written) on first sight. The write
    /// belongs to the caller's transaction: if it rolls back, reload.
    pub fn ordinal_or_insert(&mut self, conn: &Connection, id: SiteId) -> rusqlite::Result<i64> {
        if let Some(ord) = self.ordinal(&id) {
            return Ok(ord);
        }
        let ord = self.ids.len() as i64;
        conn.prepare_cached("INSERT INTO __patina_sites (ord, site_id) VALUES (?1, ?2)")?
            .execute(rusqlite::params![ord, id.as_bytes()])?;
        self.ids.push(id);
        self.ordinals.insert(id, ord);
        Ok(ord)
    }
}
