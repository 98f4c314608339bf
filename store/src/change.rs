//! Change rows and the units in which they travel between nodes.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::{SiteId, Value};

/// One cell's state as written by one site at one of its db_versions.
///
/// `column` is `None` for the row's own existence: then `value` is NULL and
/// `col_version` equals `causal_length` (odd = alive, even = deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub table: String,
    pub pk: Vec<Value>,
    pub column: Option<String>,
    pub value: Value,
    pub col_version: u64,
    pub causal_length: u64,
    /// Order of the write within its transaction.
    pub seq: u64,
}

/// Per table (lower-cased name), its primary key columns (lower-cased, in
/// key order) on the node that extracted a change set.
pub type Keys = BTreeMap<String, Vec<String>>;

/// All change rows of one `(site_id, db_version)` that still stand on the
/// node that extracted them (cells overwritten since by a winning write are
/// left out: the winner travels in its own version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub site_id: SiteId,
    pub db_version: u64,
    pub changes: Vec<Change>,
    /// The key of every table the changes name, as the extracting node has
    /// it: [`Change::pk`] is positional, so it means the same row only
    /// under the same key columns.
    pub keys: Keys,
}

/// What a node holds for a run of one site's versions, as extracted for a
/// peer and as merged from one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Versions {
    /// One version and its change rows.
    Changed(ChangeSet),
    /// Versions this node applied whose every change has since been
    /// superseded: the receiver records them as applied and changes nothing.
    Cleared {
        site_id: SiteId,
        versions: RangeInclusive<u64>,
    },
}

impl Versions {
    pub fn site_id(&self) -> SiteId {
        match self {
            Versions::Changed(set) => set.site_id,
            Versions::Cleared { site_id, .. } => *site_id,
        }
    }

    /// The db_versions this item covers.
    pub fn versions(&self) -> RangeInclusive<u64> {
        match self {
            Versions::Changed(set) => set.db_version..=set.db_version,
            Versions::Cleared { versions, .. } => versions.clone(),
        }
    }
}
