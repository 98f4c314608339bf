//! `pg_opclass`: the default B-tree operator classes of the types patina
//! supports, with PostgreSQL 15's OIDs, so a driver that lists the
//! non-default classes (SQLAlchemy's `get_indexes`) finds none.

use super::{Source, SystemRelation};
use crate::types::PgType;

/// The B-tree classes (`SELECT oid, opcname, opcfamily, opcintype FROM
/// pg_opclass WHERE opcmethod = 403 AND opcdefault` in PostgreSQL 15).
const PG_OPCLASS: &str = "SELECT column1, 403, column2, 11, 10, column3, column4, 1, 0 FROM (VALUES \
     (1978, 'int4_ops', 1976, 23), (1979, 'int2_ops', 1976, 21), (1981, 'oid_ops', 1989, 26), \
     (3122, 'date_ops', 434, 1082), (3123, 'float8_ops', 1970, 701), (3124, 'int8_ops', 1976, 20), \
     (3125, 'numeric_ops', 1988, 1700), (3126, 'text_ops', 1994, 25), \
     (3127, 'timestamptz_ops', 434, 1184), (3128, 'timestamp_ops', 434, 1114), \
     (10003, 'bool_ops', 424, 16), (10004, 'bpchar_ops', 426, 1042), (10006, 'bytea_ops', 428, 17), \
     (10007, 'char_ops', 429, 18), (10012, 'float4_ops', 1970, 700), \
     (10022, 'interval_ops', 1982, 1186), (10028, 'name_ops', 1994, 19), \
     (10038, 'time_ops', 1996, 1083), (10065, 'uuid_ops', 2968, 2950), \
     (10088, 'jsonb_ops', 4033, 3802))";

pub(super) const RELATIONS: &[SystemRelation] = &[SystemRelation {
    schema: "pg_catalog",
    name: "pg_opclass",
    columns: &[
        ("oid", PgType::OID),
        ("opcmethod", PgType::OID),
        ("opcname", PgType::NAME),
        ("opcnamespace", PgType::OID),
        ("opcowner", PgType::OID),
        ("opcfamily", PgType::OID),
        ("opcintype", PgType::OID),
        ("opcdefault", PgType::BOOL),
        ("opckeytype", PgType::OID),
    ],
    source: Source::Sql(PG_OPCLASS),
}];
