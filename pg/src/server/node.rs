//! What the node around the front door lends it: the schema files it was
//! started with (which `CALL patina_reload()` applies again), the cluster
//! operations SQL may ask for, and the cluster's state that patina's
//! system views (`patina.node`, `patina.members`, `patina.sync_state`)
//! show. The binary sets them once at start; the views read the state
//! through the SQL function `patina_cluster(part)`, registered on every
//! connection.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use serde_json::{Value, json};

use crate::values::datetime::{self, Kind};

/// Asks the node's cluster membership to announce itself again to its
/// bootstrap peers (`CALL patina_rejoin()`); `Err` says why it cannot.
pub type Rejoin = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// The cluster as this node sees it now; called whenever a view is read.
pub type ClusterView = Arc<dyn Fn() -> ClusterSnapshot + Send + Sync>;

/// What patina's cluster views show.
#[derive(Debug, Clone, Default)]
pub struct ClusterSnapshot {
    pub node: Option<NodeRow>,
    pub members: Vec<MemberRow>,
    pub sites: Vec<SiteRow>,
}

/// This node: `patina.node`.
#[derive(Debug, Clone)]
pub struct NodeRow {
    pub site_id: String,
    pub gossip_addr: String,
    pub incarnation: i64,
    /// The last local version as of the status (the store has the exact one).
    pub db_version: i64,
    pub members_up: i64,
    pub members_down: i64,
    /// Whether anti-entropy saw versions this node lacks.
    pub behind: bool,
    /// Versions this node knows exist and lacks, all sites together.
    pub lag_versions: i64,
    /// The replication lag in seconds: the largest of the sites'.
    pub lag_seconds: f64,
}

/// One member: `patina.members`.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub site_id: String,
    pub addr: String,
    /// `alive`, `suspect`, `down` (failed) or `left`.
    pub state: String,
    pub incarnation: i64,
    pub rtt_ms: Option<f64>,
    pub last_seen: Option<SystemTime>,
}

/// One site's versions held here: `patina.sync_state`.
#[derive(Debug, Clone)]
pub struct SiteRow {
    pub site_id: String,
    pub max_version: i64,
    /// Missing ranges below `max_version`, as `3-4,9`.
    pub gaps: String,
    /// How many versions the gaps hold.
    pub missing: i64,
    /// The highest version of the site this node has heard exists.
    pub heard_version: i64,
    /// Versions of the site this node knows exist and lacks: the gaps and
    /// everything above `max_version` up to `heard_version`.
    pub lag_versions: i64,
    /// How long this node has known of the oldest version of the site it
    /// lacks, in seconds; 0 when it lacks none.
    pub lag_seconds: f64,
}

/// A time in `timestamptz`'s stored form.
fn timestamptz(time: Option<SystemTime>) -> Value {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(Value::Null, |since| {
            Value::from(datetime::format(
                since.as_micros() as i64,
                Kind::Timestamptz,
            ))
        })
}

impl ClusterSnapshot {
    /// The rows of `part` as a JSON array the views unpack.
    fn rows(&self, part: &str) -> Option<Value> {
        let rows: Vec<Value> = match part {
            "node" => self
                .node
                .iter()
                .map(|n| {
                    json!({
                        "site_id": n.site_id, "gossip_addr": n.gossip_addr,
                        "incarnation": n.incarnation, "db_version": n.db_version,
                        "members_up": n.members_up, "members_down": n.members_down,
                        "behind": n.behind, "lag_versions": n.lag_versions,
                        "lag_seconds": n.lag_seconds,
                    })
                })
                .collect(),
            "members" => self
                .members
                .iter()
                .map(|m| {
                    json!({
                        "site_id": m.site_id, "addr": m.addr, "state": m.state,
                        "incarnation": m.incarnation, "rtt_ms": m.rtt_ms,
                        "last_seen": timestamptz(m.last_seen),
                    })
                })
                .collect(),
            "sites" => self
                .sites
                .iter()
                .map(|s| {
                    json!({
                        "site_id": s.site_id, "max_version": s.max_version,
                        "gaps": s.gaps, "missing": s.missing,
                        "heard_version": s.heard_version, "lag_versions": s.lag_versions,
                        "lag_seconds": s.lag_seconds,
                    })
                })
                .collect(),
            _ => return None,
        };
        Some(Value::Array(rows))
    }
}

/// A value set by the node's owner and read by sessions; a panic while
/// holding it leaves the last value in place.
struct Slot<T>(RwLock<T>);

impl<T: Default> Default for Slot<T> {
    fn default() -> Self {
        Slot(RwLock::new(T::default()))
    }
}

impl<T: Clone> Slot<T> {
    fn get(&self) -> T {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, value: T) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = value;
    }
}

#[derive(Default)]
pub(crate) struct NodeHooks {
    schema_paths: Slot<Vec<PathBuf>>,
    rejoin: Slot<Option<Rejoin>>,
    cluster: Slot<Option<ClusterView>>,
}

impl std::fmt::Debug for NodeHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHooks")
            .field("schema_paths", &self.schema_paths())
            .finish_non_exhaustive()
    }
}

impl NodeHooks {
    pub fn schema_paths(&self) -> Vec<PathBuf> {
        self.schema_paths.get()
    }

    pub fn set_schema_paths(&self, paths: Vec<PathBuf>) {
        self.schema_paths.set(paths);
    }

    pub fn rejoin(&self) -> Option<Rejoin> {
        self.rejoin.get()
    }

    pub fn set_rejoin(&self, rejoin: Rejoin) {
        self.rejoin.set(Some(rejoin));
    }

    pub fn set_cluster(&self, view: ClusterView) {
        self.cluster.set(Some(view));
    }

    fn snapshot(&self) -> ClusterSnapshot {
        self.cluster.get().map(|view| view()).unwrap_or_default()
    }
}

/// Registers `patina_cluster(part)` on `conn`: the JSON array of the rows
/// of `part` (`node`, `members` or `sites`), empty on a node outside any
/// cluster.
pub(crate) fn register(conn: &Connection, hooks: Arc<NodeHooks>) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "patina_cluster",
        1,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            let part: String = ctx.get(0)?;
            match hooks.snapshot().rows(&part) {
                Some(rows) => Ok(rows.to_string()),
                None => Err(rusqlite::Error::UserFunctionError(
                    format!("no cluster part {part}").into(),
                )),
            }
        },
    )
}
