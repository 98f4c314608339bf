//! patina's own read-only relations, in schema `patina`: the cluster as
//! this node sees it, from the replication agent's status (through
//! `patina_cluster(part)`, see `server::node`), and this node's schema
//! version. They are empty on a node that runs outside a cluster agent.
//!
//! - `patina.node`: this node's site id, gossip address, incarnation, last
//!   local version, members up and down, whether it knows it is behind,
//!   how many versions it knows exist and lacks (`lag_versions`), the
//!   replication lag in seconds (`lag_seconds`, the largest of the sites'),
//!   and `schema_hash`, the md5 of the replicated schema (equal on every
//!   node once their schemas converged);
//! - `patina.members`: every member with its state (`alive`, `suspect`,
//!   `down` or `left`), incarnation, QUIC round-trip time and when it was
//!   last heard from;
//! - `patina.sync_state`: per site, the highest version held here, the
//!   gaps below it, the highest version heard of, and the replication lag
//!   counted in versions lacking (`lag_versions`) and in seconds
//!   (`lag_seconds`: how long the oldest version lacking has been known to
//!   exist; 0 when none is lacking).

use super::{Source, SystemRelation};
use crate::types::PgType;

const TEXT: PgType = PgType::TEXT;
const INT8: PgType = PgType::INT8;

const NODE: &str = "SELECT json_extract(value, '$.site_id'), json_extract(value, '$.gossip_addr'), \
     json_extract(value, '$.incarnation'), json_extract(value, '$.db_version'), \
     json_extract(value, '$.members_up'), json_extract(value, '$.members_down'), \
     json_extract(value, '$.behind'), json_extract(value, '$.lag_versions'), \
     json_extract(value, '$.lag_seconds'), \
     (SELECT pg_md5(coalesce(group_concat(line, char(10)), '')) FROM \
        (SELECT tbl || char(9) || kind || char(9) || name || char(9) || definition AS line \
         FROM main.__patina_schema ORDER BY tbl, kind, name)) \
     FROM json_each(patina_cluster('node'))";

const MEMBERS: &str = "SELECT json_extract(value, '$.site_id'), json_extract(value, '$.addr'), \
     json_extract(value, '$.state'), json_extract(value, '$.incarnation'), \
     json_extract(value, '$.rtt_ms'), json_extract(value, '$.last_seen') \
     FROM json_each(patina_cluster('members'))";

const SYNC_STATE: &str = "SELECT json_extract(value, '$.site_id'), \
     json_extract(value, '$.max_version'), json_extract(value, '$.gaps'), \
     json_extract(value, '$.missing'), json_extract(value, '$.heard_version'), \
     json_extract(value, '$.lag_versions'), json_extract(value, '$.lag_seconds') \
     FROM json_each(patina_cluster('sites'))";

pub(super) const RELATIONS: &[SystemRelation] = &[
    SystemRelation {
        schema: "patina",
        name: "node",
        columns: &[
            ("site_id", TEXT),
            ("gossip_addr", TEXT),
            ("incarnation", INT8),
            ("db_version", INT8),
            ("members_up", INT8),
            ("members_down", INT8),
            ("behind", PgType::BOOL),
            ("lag_versions", INT8),
            ("lag_seconds", PgType::FLOAT8),
            ("schema_hash", TEXT),
        ],
        source: Source::Sql(NODE),
    },
    SystemRelation {
        schema: "patina",
        name: "members",
        columns: &[
            ("site_id", TEXT),
            ("addr", TEXT),
            ("state", TEXT),
            ("incarnation", INT8),
            ("rtt_ms", PgType::FLOAT8),
            ("last_seen", PgType::TIMESTAMPTZ),
        ],
        source: Source::Sql(MEMBERS),
    },
    SystemRelation {
        schema: "patina",
        name: "sync_state",
        columns: &[
            ("site_id", TEXT),
            ("max_version", INT8),
            ("gaps", TEXT),
            ("missing", INT8),
            ("heard_version", INT8),
            ("lag_versions", INT8),
            ("lag_seconds", PgType::FLOAT8),
        ],
        source: Source::Sql(SYNC_STATE),
    },
];
