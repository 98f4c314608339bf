//! The `pg_catalog` relations, as PostgreSQL 15 lays them out, over the
//! live SQLite schema. patina's own bookkeeping (`__patina_*`, SQLite's
//! `sqlite_*`) never shows: a user table is one that has PostgreSQL types
//! in `__patina_pg_columns`.
//!
//! What SQLite keeps becomes PostgreSQL's objects: a table's PRIMARY KEY
//! is the index and constraint `<table>_pkey` (also when it is SQLite's
//! rowid, which has no index of its own), a UNIQUE column or table
//! constraint is `<table>_<columns>_key`, a `serial` (AUTOINCREMENT)
//! column owns the sequence `<table>_<column>_seq` its default calls.

use super::types::pg_type_rows;
use super::{SCHEMAS, Source, SystemRelation, quote_literal, relations};
use crate::types::PgType;

const OID: PgType = PgType::OID;
const NAME: PgType = PgType::NAME;
const TEXT: PgType = PgType::TEXT;
const BOOL: PgType = PgType::BOOL;
const CHAR: PgType = PgType::CHAR;
const INT2: PgType = PgType::INT2;
const INT4: PgType = PgType::INT4;
const FLOAT4: PgType = PgType::FLOAT4;
const TIMESTAMPTZ: PgType = PgType::TIMESTAMPTZ;
const TEXT_ARRAY: PgType = PgType::TEXT.array_of();
const OID_ARRAY: PgType = PgType::OID.array_of();
const INT2_ARRAY: PgType = PgType::INT2.array_of();
const CHAR_ARRAY: PgType = PgType::CHAR.array_of();
/// `regproc` columns print the function's name.
const REGPROC: PgType = PgType::TEXT;
/// `aclitem[]` columns: patina has no privileges, so they are NULL.
const ACL: PgType = TEXT_ARRAY;
/// `pg_node_tree` columns hold the expression's PostgreSQL text, which is
/// what `pg_get_expr` prints.
const NODE_TREE: PgType = PgType::TEXT;
/// `xid` columns.
const XID: PgType = PgType::OID;

/// A helper view: its name and the builder of its `SELECT`.
pub(super) type Helper = (&'static str, fn() -> String);

/// Helper views the relations share, created first: the user's tables,
/// then every relation (system ones included) with its OID.
pub(super) const HELPERS: &[Helper] = &[
    ("__patina_user_tables", user_tables),
    ("__patina_relations", relation_rows),
    ("__patina_indexes", index_rows),
    ("__patina_checks", check_rows),
];

fn user_tables() -> String {
    "SELECT s.name AS name, s.sql AS sql FROM main.sqlite_schema AS s \
     WHERE s.type = 'table' AND s.name IN (SELECT tbl FROM main.__patina_pg_columns)"
        .into()
}

/// Every relation: (oid, relname, relnamespace, relkind, tbl, idx,
/// origin, uniq, pk). The OID is the hash of the name, stepped past
/// another relation's of the same hash in name order.
fn relation_rows() -> String {
    let system: Vec<String> = relations()
        .map(|r| {
            format!(
                "SELECT {}, {}, 'v', NULL, NULL, NULL, 0, 0",
                quote_literal(r.name),
                relation_namespace(r.schema),
            )
        })
        .collect();
    format!(
        "WITH r(relname, relnamespace, relkind, tbl, idx, origin, uniq, pk) AS (\
         SELECT name, 2200, 'r', name, NULL, NULL, 0, 0 FROM __patina_user_tables \
         UNION ALL SELECT s.name, 2200, 'v', s.name, NULL, NULL, 0, 0 FROM main.sqlite_schema AS s \
           WHERE s.type = 'view' AND s.name NOT LIKE '\\_\\_%' ESCAPE '\\' \
         UNION ALL SELECT CASE l.origin WHEN 'pk' THEN t.name || '_pkey' \
           WHEN 'u' THEN t.name || '_' || (SELECT group_concat(i.name, '_' ORDER BY i.seqno) \
             FROM pragma_index_info(l.name) AS i) || '_key' ELSE l.name END, \
           2200, 'i', t.name, l.name, l.origin, l.\"unique\", l.origin = 'pk' \
           FROM __patina_user_tables AS t, pragma_index_list(t.name) AS l \
         UNION ALL SELECT t.name || '_pkey', 2200, 'i', t.name, NULL, 'pk', 1, 1 \
           FROM __patina_user_tables AS t \
           WHERE EXISTS (SELECT 1 FROM pragma_table_info(t.name) AS c WHERE c.pk > 0) \
           AND NOT EXISTS (SELECT 1 FROM pragma_index_list(t.name) AS l WHERE l.origin = 'pk') \
         UNION ALL SELECT t.name || '_' || c.name || '_seq', 2200, 'S', t.name, NULL, NULL, 0, 0 \
           FROM __patina_user_tables AS t, pragma_table_info(t.name) AS c \
           WHERE c.pk = 1 AND t.sql LIKE '%AUTOINCREMENT%' \
         UNION ALL {}) \
         SELECT pg_catalog_oid('pg_class', relname) + row_number() OVER \
           (PARTITION BY pg_catalog_oid('pg_class', relname) ORDER BY relnamespace, relname) - 1 AS oid, \
           relname, relnamespace, relkind, tbl, idx, origin, uniq, pk FROM r",
        system.join(" UNION ALL ")
    )
}

/// Every index: (oid, relname, tbl, tbloid, origin, uniq, pk, keys (a
/// JSON array of attnums), columns (their definitions, comma-separated,
/// as `pg_get_indexdef` lists them), names (a JSON array of the key
/// columns' quoted names), options (a JSON array of each key column's
/// `indoption`: 3 for `DESC`, which sorts NULLs first, else 0)). A rowid primary key has no SQLite index: its
/// columns are the table's key.
fn index_rows() -> String {
    "SELECT i.oid, i.relname, i.tbl, t.oid AS tbloid, i.origin, i.uniq, i.pk, \
       CASE WHEN i.idx IS NULL \
         THEN (SELECT json_group_array(c.cid + 1 ORDER BY c.pk) FROM pragma_table_info(i.tbl) AS c WHERE c.pk > 0) \
         ELSE (SELECT json_group_array(x.cid + 1 ORDER BY x.seqno) FROM pragma_index_xinfo(i.idx) AS x WHERE x.key) \
       END AS keys, \
       CASE WHEN i.idx IS NULL \
         THEN (SELECT group_concat(pg_quote_ident(c.name), ', ' ORDER BY c.pk) FROM pragma_table_info(i.tbl) AS c WHERE c.pk > 0) \
         ELSE (SELECT group_concat(pg_quote_ident(x.name) || CASE WHEN x.desc THEN ' DESC' ELSE '' END, ', ' ORDER BY x.seqno) \
           FROM pragma_index_xinfo(i.idx) AS x WHERE x.key) \
       END AS columns, \
       CASE WHEN i.idx IS NULL \
         THEN (SELECT json_group_array(pg_quote_ident(c.name) ORDER BY c.pk) FROM pragma_table_info(i.tbl) AS c WHERE c.pk > 0) \
         ELSE (SELECT json_group_array(pg_quote_ident(x.name) ORDER BY x.seqno) FROM pragma_index_xinfo(i.idx) AS x WHERE x.key) \
       END AS names, \
       CASE WHEN i.idx IS NULL \
         THEN (SELECT json_group_array(0) FROM pragma_table_info(i.tbl) AS c WHERE c.pk > 0) \
         ELSE (SELECT json_group_array(CASE WHEN x.desc THEN 3 ELSE 0 END ORDER BY x.seqno) \
           FROM pragma_index_xinfo(i.idx) AS x WHERE x.key) \
       END AS options \
     FROM __patina_relations AS i JOIN __patina_relations AS t ON t.relname = i.tbl AND t.relkind = 'r' \
     WHERE i.relkind = 'i'"
        .into()
}

/// Every CHECK constraint: (oid, conname, tbl, tbloid, expr), the
/// expression as SQLite keeps it. Constraint names are unique per table,
/// so the OID hashes the table's name too.
fn check_rows() -> String {
    "SELECT pg_catalog_oid('pg_constraint', t.name || '.' || json_extract(k.value, '$[0]')) AS oid, \
       json_extract(k.value, '$[0]') AS conname, t.name AS tbl, r.oid AS tbloid, \
       json_extract(k.value, '$[1]') AS expr \
     FROM __patina_user_tables AS t JOIN __patina_relations AS r ON r.relname = t.name AND r.relkind = 'r', \
       json_each(pg_check_constraints(t.sql)) AS k"
        .into()
}

const PG_NAMESPACE: &str = "SELECT column1, column2, column3, NULL FROM (VALUES \
     (11, 'pg_catalog', 10), (99, 'pg_toast', 10), (2200, 'public', 6171), \
     (13207, 'information_schema', 10))";

const PG_CLASS: &str = "SELECT r.oid, r.relname, r.relnamespace, 0, 0, 10, \
     CASE r.relkind WHEN 'r' THEN 2 WHEN 'i' THEN 403 ELSE 0 END, \
     CASE WHEN r.relkind = 'v' THEN 0 ELSE r.oid END, 0, 0, -1, 0, 0, \
     r.relkind = 'r' AND EXISTS (SELECT 1 FROM __patina_relations AS i WHERE i.relkind = 'i' AND i.tbl = r.relname), \
     0, 'p', r.relkind, \
     CASE r.relkind WHEN 'r' THEN (SELECT count(*) FROM main.__patina_pg_columns AS c WHERE c.tbl = r.relname) \
       WHEN 'i' THEN (SELECT json_array_length(i.keys) FROM __patina_indexes AS i WHERE i.oid = r.oid) \
       WHEN 'S' THEN 3 ELSE 0 END, \
     (SELECT count(*) FROM __patina_checks AS k WHERE k.tbl = r.relname AND r.relkind = 'r'), \
     0, 0, 0, 0, 0, 1, CASE WHEN r.relkind IN ('r', 'v') THEN 'd' ELSE 'n' END, 0, 0, 0, 0, \
     NULL, NULL, NULL FROM __patina_relations AS r";

/// The columns of the user's tables (a column's stored PostgreSQL type is
/// its `format_type` name), of their indexes, and of the system relations.
fn attribute_rows() -> String {
    let mut system = Vec::new();
    for relation in relations() {
        for (number, (name, ty)) in relation.columns.iter().enumerate() {
            system.push(format!(
                "({}, {}, {}, {}, {})",
                quote_literal(relation.name),
                relation_namespace(relation.schema),
                quote_literal(name),
                number + 1,
                quote_literal(&ty.to_string()),
            ));
        }
    }
    format!(
        "{PG_ATTRIBUTE} UNION ALL {INDEX_ATTRIBUTE} UNION ALL \
         SELECT r.oid, s.column3, pg_type_oid(s.column5), -1, pg_type_len(s.column5), s.column4, \
         pg_type_ndims(s.column5), -1, -1, pg_type_byval(s.column5), 'i', pg_type_storage(s.column5), '', \
         0, 0, 0, '', '', 0, 1, 0, \
         pg_type_collation(s.column5), NULL, NULL, NULL \
         FROM (VALUES {}) AS s JOIN __patina_relations AS r ON r.relname = s.column1 AND r.relnamespace = s.column2",
        system.join(", ")
    )
}

/// The OID of a schema, by name.
fn relation_namespace(schema: &str) -> u32 {
    SCHEMAS
        .iter()
        .find(|(name, _)| *name == schema)
        .map_or(0, |(_, oid)| *oid)
}

/// An index's columns are its key columns, with their tables' types.
const INDEX_ATTRIBUTE: &str = "SELECT i.oid, c.name, pg_type_oid(c.type), -1, pg_type_len(c.type), k.key + 1, \
     pg_type_ndims(c.type), -1, pg_type_typmod(c.type), pg_type_byval(c.type), 'i', pg_type_storage(c.type), '', \
     0, 0, 0, '', '', 0, 1, 0, pg_type_collation(c.type), NULL, NULL, NULL \
     FROM __patina_indexes AS i, json_each(i.keys) AS k \
     JOIN main.__patina_pg_columns AS c ON c.tbl = i.tbl AND c.pos + 1 = k.value";

const PG_ATTRIBUTE: &str = "SELECT r.oid, c.name, pg_type_oid(c.type), -1, pg_type_len(c.type), c.pos + 1, \
     pg_type_ndims(c.type), -1, pg_type_typmod(c.type), pg_type_byval(c.type), 'i', pg_type_storage(c.type), '', \
     coalesce(i.\"notnull\" OR i.pk > 0, 0), coalesce(i.dflt_value IS NOT NULL OR (i.pk = 1 AND t.sql LIKE '%AUTOINCREMENT%'), 0), \
     0, '', '', 0, 1, 0, pg_type_collation(c.type), NULL, NULL, NULL \
     FROM main.__patina_pg_columns AS c \
     JOIN __patina_relations AS r ON r.relname = c.tbl AND r.relkind = 'r' \
     JOIN __patina_user_tables AS t ON t.name = c.tbl \
     LEFT JOIN pragma_table_info(c.tbl) AS i ON i.name = c.name";

const PG_ATTRDEF: &str = "SELECT pg_catalog_oid('pg_attrdef', c.tbl || '.' || c.name), r.oid, c.pos + 1, \
     CASE WHEN i.pk = 1 AND t.sql LIKE '%AUTOINCREMENT%' \
       THEN 'nextval(' || quote(pg_quote_ident(c.tbl || '_' || c.name || '_seq')) || '::regclass)' \
       ELSE pg_default_expr(i.dflt_value, c.type) END \
     FROM main.__patina_pg_columns AS c \
     JOIN __patina_relations AS r ON r.relname = c.tbl AND r.relkind = 'r' \
     JOIN __patina_user_tables AS t ON t.name = c.tbl \
     JOIN pragma_table_info(c.tbl) AS i ON i.name = c.name \
     WHERE i.dflt_value IS NOT NULL OR (i.pk = 1 AND t.sql LIKE '%AUTOINCREMENT%')";

const PG_INDEX: &str = "SELECT i.oid, i.tbloid, json_array_length(i.keys), json_array_length(i.keys), \
     i.uniq, 0, i.pk, 0, 1, 0, 1, 0, 1, 1, 0, i.keys, \
     (SELECT json_group_array(0) FROM json_each(i.keys)), \
     (SELECT json_group_array(0) FROM json_each(i.keys)), i.options, NULL, NULL \
     FROM __patina_indexes AS i";

/// Primary keys, UNIQUE and CHECK constraints.
const PG_CONSTRAINT: &str = "SELECT pg_catalog_oid('pg_constraint', i.relname), i.relname, 2200, \
     CASE WHEN i.pk THEN 'p' ELSE 'u' END, 0, 0, 1, i.tbloid, 0, i.oid, 0, 0, ' ', ' ', ' ', 1, 0, i.pk, \
     i.keys, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
     FROM __patina_indexes AS i WHERE i.origin IN ('pk', 'u') \
     UNION ALL SELECT k.oid, k.conname, 2200, 'c', 0, 0, 1, k.tbloid, 0, 0, 0, 0, ' ', ' ', ' ', 1, 0, 0, \
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.expr \
     FROM __patina_checks AS k";

const PG_AM: &str = "SELECT column1, column2, column3, column4 FROM (VALUES \
     (2, 'heap', 'heap_tableam_handler', 't'), (403, 'btree', 'bthandler', 'i'), \
     (405, 'hash', 'hashhandler', 'i'), (783, 'gist', 'gisthandler', 'i'), \
     (2742, 'gin', 'ginhandler', 'i'), (4000, 'spgist', 'spghandler', 'i'), \
     (3580, 'brin', 'brinhandler', 'i'))";

const PG_COLLATION: &str = "SELECT column1, column2, 11, 10, column3, 1, -1, column4, column4, NULL, NULL \
     FROM (VALUES (100, 'default', 'd', NULL), (950, 'C', 'c', 'C'), (951, 'POSIX', 'c', 'POSIX'))";

const PG_DATABASE: &str =
    "SELECT 5, 'postgres', 10, 6, 'c', 0, 1, -1, 0, 1, 1663, 'C', 'C', NULL, NULL, NULL";

/// The superuser every session is (patina has no roles of its own) and
/// the pseudo-role owning `public`.
const PG_ROLES: &str = "SELECT column1, column2, column2, column2, column2, column2, column2, -1, \
     CASE WHEN column2 THEN '********' END, NULL, column2, NULL, column3 \
     FROM (VALUES ('postgres', 1, 10), ('pg_database_owner', 0, 6171))";

const PG_USER: &str = "SELECT rolname, oid, rolcreatedb, rolsuper, rolreplication, rolbypassrls, \
     '********', rolvaliduntil, rolconfig FROM \"pg_catalog.pg_roles\" WHERE rolcanlogin";

const PG_TABLES: &str = "SELECT 'public', c.relname, 'postgres', NULL, c.relhasindex, 0, 0, 0 \
     FROM \"pg_catalog.pg_class\" AS c WHERE c.relkind = 'r' AND c.relnamespace = 2200";

const PG_INDEXES: &str = "SELECT 'public', i.tbl, i.relname, NULL, pg_index_def(i.relname, i.tbl, i.uniq, i.columns) \
     FROM __patina_indexes AS i";

/// Every `pg_catalog` relation.
pub(super) const RELATIONS: &[SystemRelation] = &[
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_namespace",
        columns: &[
            ("oid", OID),
            ("nspname", NAME),
            ("nspowner", OID),
            ("nspacl", ACL),
        ],
        source: Source::Sql(PG_NAMESPACE),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_class",
        columns: &[
            ("oid", OID),
            ("relname", NAME),
            ("relnamespace", OID),
            ("reltype", OID),
            ("reloftype", OID),
            ("relowner", OID),
            ("relam", OID),
            ("relfilenode", OID),
            ("reltablespace", OID),
            ("relpages", INT4),
            ("reltuples", FLOAT4),
            ("relallvisible", INT4),
            ("reltoastrelid", OID),
            ("relhasindex", BOOL),
            ("relisshared", BOOL),
            ("relpersistence", CHAR),
            ("relkind", CHAR),
            ("relnatts", INT2),
            ("relchecks", INT2),
            ("relhasrules", BOOL),
            ("relhastriggers", BOOL),
            ("relhassubclass", BOOL),
            ("relrowsecurity", BOOL),
            ("relforcerowsecurity", BOOL),
            ("relispopulated", BOOL),
            ("relreplident", CHAR),
            ("relispartition", BOOL),
            ("relrewrite", OID),
            ("relfrozenxid", XID),
            ("relminmxid", XID),
            ("relacl", ACL),
            ("reloptions", TEXT_ARRAY),
            ("relpartbound", NODE_TREE),
        ],
        source: Source::Sql(PG_CLASS),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_attribute",
        columns: &[
            ("attrelid", OID),
            ("attname", NAME),
            ("atttypid", OID),
            ("attstattarget", INT4),
            ("attlen", INT2),
            ("attnum", INT2),
            ("attndims", INT4),
            ("attcacheoff", INT4),
            ("atttypmod", INT4),
            ("attbyval", BOOL),
            ("attalign", CHAR),
            ("attstorage", CHAR),
            ("attcompression", CHAR),
            ("attnotnull", BOOL),
            ("atthasdef", BOOL),
            ("atthasmissing", BOOL),
            ("attidentity", CHAR),
            ("attgenerated", CHAR),
            ("attisdropped", BOOL),
            ("attislocal", BOOL),
            ("attinhcount", INT4),
            ("attcollation", OID),
            ("attacl", ACL),
            ("attoptions", TEXT_ARRAY),
            ("attfdwoptions", TEXT_ARRAY),
        ],
        source: Source::Built(attribute_rows),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_attrdef",
        columns: &[
            ("oid", OID),
            ("adrelid", OID),
            ("adnum", INT2),
            ("adbin", NODE_TREE),
        ],
        source: Source::Sql(PG_ATTRDEF),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_type",
        columns: &[
            ("oid", OID),
            ("typname", NAME),
            ("typnamespace", OID),
            ("typowner", OID),
            ("typlen", INT2),
            ("typbyval", BOOL),
            ("typtype", CHAR),
            ("typcategory", CHAR),
            ("typispreferred", BOOL),
            ("typisdefined", BOOL),
            ("typdelim", CHAR),
            ("typrelid", OID),
            ("typelem", OID),
            ("typarray", OID),
            ("typinput", REGPROC),
            ("typoutput", REGPROC),
            ("typreceive", REGPROC),
            ("typsend", REGPROC),
            ("typnotnull", BOOL),
            ("typbasetype", OID),
            ("typtypmod", INT4),
            ("typndims", INT4),
            ("typcollation", OID),
            ("typdefaultbin", NODE_TREE),
            ("typdefault", TEXT),
            ("typacl", ACL),
        ],
        source: Source::Built(pg_type_rows),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_index",
        columns: &[
            ("indexrelid", OID),
            ("indrelid", OID),
            ("indnatts", INT2),
            ("indnkeyatts", INT2),
            ("indisunique", BOOL),
            ("indnullsnotdistinct", BOOL),
            ("indisprimary", BOOL),
            ("indisexclusion", BOOL),
            ("indimmediate", BOOL),
            ("indisclustered", BOOL),
            ("indisvalid", BOOL),
            ("indcheckxmin", BOOL),
            ("indisready", BOOL),
            ("indislive", BOOL),
            ("indisreplident", BOOL),
            ("indkey", PgType::INT2VECTOR),
            ("indcollation", PgType::OIDVECTOR),
            ("indclass", PgType::OIDVECTOR),
            ("indoption", PgType::INT2VECTOR),
            ("indexprs", NODE_TREE),
            ("indpred", NODE_TREE),
        ],
        source: Source::Sql(PG_INDEX),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_constraint",
        columns: &[
            ("oid", OID),
            ("conname", NAME),
            ("connamespace", OID),
            ("contype", CHAR),
            ("condeferrable", BOOL),
            ("condeferred", BOOL),
            ("convalidated", BOOL),
            ("conrelid", OID),
            ("contypid", OID),
            ("conindid", OID),
            ("conparentid", OID),
            ("confrelid", OID),
            ("confupdtype", CHAR),
            ("confdeltype", CHAR),
            ("confmatchtype", CHAR),
            ("conislocal", BOOL),
            ("coninhcount", INT4),
            ("connoinherit", BOOL),
            ("conkey", INT2_ARRAY),
            ("confkey", INT2_ARRAY),
            ("conpfeqop", OID_ARRAY),
            ("conppeqop", OID_ARRAY),
            ("conffeqop", OID_ARRAY),
            ("confdelsetcols", INT2_ARRAY),
            ("conexclop", OID_ARRAY),
            ("conbin", NODE_TREE),
        ],
        source: Source::Sql(PG_CONSTRAINT),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_am",
        columns: &[
            ("oid", OID),
            ("amname", NAME),
            ("amhandler", REGPROC),
            ("amtype", CHAR),
        ],
        source: Source::Sql(PG_AM),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_collation",
        columns: &[
            ("oid", OID),
            ("collname", NAME),
            ("collnamespace", OID),
            ("collowner", OID),
            ("collprovider", CHAR),
            ("collisdeterministic", BOOL),
            ("collencoding", INT4),
            ("collcollate", TEXT),
            ("collctype", TEXT),
            ("colliculocale", TEXT),
            ("collversion", TEXT),
        ],
        source: Source::Sql(PG_COLLATION),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_database",
        columns: &[
            ("oid", OID),
            ("datname", NAME),
            ("datdba", OID),
            ("encoding", INT4),
            ("datlocprovider", CHAR),
            ("datistemplate", BOOL),
            ("datallowconn", BOOL),
            ("datconnlimit", INT4),
            ("datfrozenxid", XID),
            ("datminmxid", XID),
            ("dattablespace", OID),
            ("datcollate", TEXT),
            ("datctype", TEXT),
            ("daticulocale", TEXT),
            ("datcollversion", TEXT),
            ("datacl", ACL),
        ],
        source: Source::Sql(PG_DATABASE),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_roles",
        columns: &[
            ("rolname", NAME),
            ("rolsuper", BOOL),
            ("rolinherit", BOOL),
            ("rolcreaterole", BOOL),
            ("rolcreatedb", BOOL),
            ("rolcanlogin", BOOL),
            ("rolreplication", BOOL),
            ("rolconnlimit", INT4),
            ("rolpassword", TEXT),
            ("rolvaliduntil", TIMESTAMPTZ),
            ("rolbypassrls", BOOL),
            ("rolconfig", TEXT_ARRAY),
            ("oid", OID),
        ],
        source: Source::Sql(PG_ROLES),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_user",
        columns: &[
            ("usename", NAME),
            ("usesysid", OID),
            ("usecreatedb", BOOL),
            ("usesuper", BOOL),
            ("userepl", BOOL),
            ("usebypassrls", BOOL),
            ("passwd", TEXT),
            ("valuntil", TIMESTAMPTZ),
            ("useconfig", TEXT_ARRAY),
        ],
        source: Source::Sql(PG_USER),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_auth_members",
        columns: &[
            ("roleid", OID),
            ("member", OID),
            ("grantor", OID),
            ("admin_option", BOOL),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_tables",
        columns: &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("tableowner", NAME),
            ("tablespace", NAME),
            ("hasindexes", BOOL),
            ("hasrules", BOOL),
            ("hastriggers", BOOL),
            ("rowsecurity", BOOL),
        ],
        source: Source::Sql(PG_TABLES),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_indexes",
        columns: &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("indexname", NAME),
            ("tablespace", NAME),
            ("indexdef", TEXT),
        ],
        source: Source::Sql(PG_INDEXES),
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_settings",
        columns: &[
            ("name", TEXT),
            ("setting", TEXT),
            ("unit", TEXT),
            ("category", TEXT),
            ("short_desc", TEXT),
            ("extra_desc", TEXT),
            ("context", TEXT),
            ("vartype", TEXT),
            ("source", TEXT),
            ("min_val", TEXT),
            ("max_val", TEXT),
            ("enumvals", TEXT_ARRAY),
            ("boot_val", TEXT),
            ("reset_val", TEXT),
            ("sourcefile", TEXT),
            ("sourceline", INT4),
            ("pending_restart", BOOL),
        ],
        source: Source::Session,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_description",
        columns: &[
            ("objoid", OID),
            ("classoid", OID),
            ("objsubid", INT4),
            ("description", TEXT),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_proc",
        columns: &[
            ("oid", OID),
            ("proname", NAME),
            ("pronamespace", OID),
            ("proowner", OID),
            ("prolang", OID),
            ("procost", FLOAT4),
            ("prorows", FLOAT4),
            ("provariadic", OID),
            ("prosupport", REGPROC),
            ("prokind", CHAR),
            ("prosecdef", BOOL),
            ("proleakproof", BOOL),
            ("proisstrict", BOOL),
            ("proretset", BOOL),
            ("provolatile", CHAR),
            ("proparallel", CHAR),
            ("pronargs", INT2),
            ("pronargdefaults", INT2),
            ("prorettype", OID),
            ("proargtypes", OID_ARRAY),
            ("proallargtypes", OID_ARRAY),
            ("proargmodes", CHAR_ARRAY),
            ("proargnames", TEXT_ARRAY),
            ("prosrc", TEXT),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_sequence",
        columns: &[
            ("seqrelid", OID),
            ("seqtypid", OID),
            ("seqstart", PgType::INT8),
            ("seqincrement", PgType::INT8),
            ("seqmax", PgType::INT8),
            ("seqmin", PgType::INT8),
            ("seqcache", PgType::INT8),
            ("seqcycle", BOOL),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_range",
        columns: &[
            ("rngtypid", OID),
            ("rngsubtype", OID),
            ("rngmultitypid", OID),
            ("rngcollation", OID),
            ("rngsubopc", OID),
            ("rngcanonical", REGPROC),
            ("rngsubdiff", REGPROC),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_enum",
        columns: &[
            ("oid", OID),
            ("enumtypid", OID),
            ("enumsortorder", FLOAT4),
            ("enumlabel", NAME),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_inherits",
        columns: &[
            ("inhrelid", OID),
            ("inhparent", OID),
            ("inhseqno", INT4),
            ("inhdetachpending", BOOL),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_trigger",
        columns: &[
            ("oid", OID),
            ("tgrelid", OID),
            ("tgparentid", OID),
            ("tgname", NAME),
            ("tgfoid", OID),
            ("tgtype", INT2),
            ("tgenabled", CHAR),
            ("tgisinternal", BOOL),
            ("tgconstrrelid", OID),
            ("tgconstrindid", OID),
            ("tgconstraint", OID),
            ("tgdeferrable", BOOL),
            ("tginitdeferred", BOOL),
            ("tgnargs", INT2),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_policy",
        columns: &[
            ("oid", OID),
            ("polname", NAME),
            ("polrelid", OID),
            ("polcmd", CHAR),
            ("polpermissive", BOOL),
            ("polroles", OID_ARRAY),
            ("polqual", NODE_TREE),
            ("polwithcheck", NODE_TREE),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_statistic_ext",
        columns: &[
            ("oid", OID),
            ("stxrelid", OID),
            ("stxname", NAME),
            ("stxnamespace", OID),
            ("stxowner", OID),
            ("stxstattarget", INT4),
            ("stxkeys", INT2_ARRAY),
            ("stxkind", CHAR_ARRAY),
            ("stxexprs", NODE_TREE),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_publication",
        columns: &[
            ("oid", OID),
            ("pubname", NAME),
            ("pubowner", OID),
            ("puballtables", BOOL),
            ("pubinsert", BOOL),
            ("pubupdate", BOOL),
            ("pubdelete", BOOL),
            ("pubtruncate", BOOL),
            ("pubviaroot", BOOL),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_publication_namespace",
        columns: &[("oid", OID), ("pnpubid", OID), ("pnnspid", OID)],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_publication_rel",
        columns: &[
            ("oid", OID),
            ("prpubid", OID),
            ("prrelid", OID),
            ("prqual", NODE_TREE),
            ("prattrs", INT2_ARRAY),
        ],
        source: Source::Empty,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_partitioned_table",
        columns: &[
            ("partrelid", OID),
            ("partstrat", CHAR),
            ("partnatts", INT2),
            ("partdefid", OID),
            ("partattrs", INT2_ARRAY),
            ("partclass", OID_ARRAY),
            ("partcollation", OID_ARRAY),
            ("partexprs", NODE_TREE),
        ],
        source: Source::Empty,
    },
];
