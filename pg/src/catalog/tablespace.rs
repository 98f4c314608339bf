//! `pg_tablespace` and `pg_shdescription`: PostgreSQL's two built-in
//! tablespaces (every patina database is in `pg_default`), and no
//! comments on shared objects; psql's `\l+` joins them.

use super::{Source, SystemRelation};
use crate::types::PgType;

/// `SELECT oid, spcname, spcowner FROM pg_tablespace` in PostgreSQL 15.
const PG_TABLESPACE: &str = "SELECT column1, column2, 10, NULL, NULL FROM (VALUES \
     (1663, 'pg_default'), (1664, 'pg_global'))";

pub(super) const RELATIONS: &[SystemRelation] = &[
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_tablespace",
        columns: &[
            ("oid", PgType::OID),
            ("spcname", PgType::NAME),
            ("spcowner", PgType::OID),
            ("spcacl", PgType::TEXT.array_of()),
            ("spcoptions", PgType::TEXT.array_of()),
        ],
        source: Source::Sql(PG_TABLESPACE),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_shdescription",
        columns: &[
            ("objoid", PgType::OID),
            ("classoid", PgType::OID),
            ("description", PgType::TEXT),
        ],
        source: Source::Empty,
    },
];
