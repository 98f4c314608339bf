//! The `information_schema` views the SQL standard defines, over the
//! `pg_catalog` ones, as PostgreSQL 15 fills them (its domains
//! `sql_identifier`, `character_data`, `yes_or_no` and `cardinal_number`
//! appear as their base types `name`, `character varying` and `integer`).

use super::{Source, SystemRelation};
use crate::types::PgType;

const NAME: PgType = PgType::NAME;
const VARCHAR: PgType = PgType::VARCHAR;
const INT4: PgType = PgType::INT4;

const TABLES: &str = "SELECT 'postgres', n.nspname, r.relname, \
     CASE r.relkind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END, NULL, NULL, NULL, NULL, NULL, \
     CASE r.relkind WHEN 'r' THEN 'YES' ELSE 'NO' END, 'NO', NULL \
     FROM __patina_relations AS r JOIN \"pg_catalog.pg_namespace\" AS n ON n.oid = r.relnamespace \
     WHERE r.relkind IN ('r', 'v')";

const COLUMNS: &str = "SELECT 'postgres', 'public', c.relname, a.attname, a.attnum, \
     (SELECT d.adbin FROM \"pg_catalog.pg_attrdef\" AS d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum), \
     CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END, \
     CASE WHEN t.typcategory = 'A' THEN 'ARRAY' ELSE pg_format_type(a.atttypid, -1) END, \
     pg_type_char_length(a.atttypid, a.atttypmod), \
     CASE WHEN t.typcategory = 'S' AND t.oid <> 19 THEN coalesce(pg_type_char_length(a.atttypid, a.atttypmod) * 4, 1073741824) END, \
     pg_type_numeric_precision(a.atttypid, a.atttypmod), \
     CASE WHEN a.atttypid IN (20, 21, 23, 700, 701) THEN 2 WHEN a.atttypid = 1700 THEN 10 END, \
     pg_type_numeric_scale(a.atttypid, a.atttypmod), \
     CASE WHEN a.atttypid IN (1082) THEN 0 WHEN a.atttypid IN (1083, 1114, 1184, 1186) THEN 6 END, \
     NULL, NULL, \
     CASE WHEN t.typcollation <> 0 THEN 'postgres' END, CASE WHEN t.typcollation <> 0 THEN 'pg_catalog' END, \
     CASE WHEN t.typcollation <> 0 THEN 'default' END, \
     'postgres', 'pg_catalog', t.typname, a.attnum, 'NO', 'NEVER', 'YES' \
     FROM \"pg_catalog.pg_attribute\" AS a JOIN \"pg_catalog.pg_class\" AS c ON c.oid = a.attrelid \
     JOIN \"pg_catalog.pg_type\" AS t ON t.oid = a.atttypid";

const SCHEMATA: &str = "SELECT 'postgres', n.nspname, CASE n.nspowner WHEN 10 THEN 'postgres' \
     ELSE 'pg_database_owner' END, NULL, NULL, NULL, NULL FROM \"pg_catalog.pg_namespace\" AS n";

const TABLE_CONSTRAINTS: &str = "SELECT 'postgres', 'public', i.relname, 'postgres', 'public', i.tbl, \
     CASE WHEN i.pk THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, 'NO', 'NO', 'YES', \
     CASE WHEN i.pk THEN NULL ELSE 'YES' END \
     FROM __patina_indexes AS i WHERE i.origin IN ('pk', 'u') \
     UNION ALL SELECT 'postgres', 'public', k.conname, 'postgres', 'public', k.tbl, 'CHECK', 'NO', 'NO', 'YES', NULL \
     FROM __patina_checks AS k \
     UNION ALL SELECT 'postgres', 'public', '2200_' || a.attrelid || '_' || a.attnum || '_not_null', \
     'postgres', 'public', c.relname, 'CHECK', 'NO', 'NO', 'YES', NULL \
     FROM \"pg_catalog.pg_attribute\" AS a JOIN \"pg_catalog.pg_class\" AS c ON c.oid = a.attrelid \
     WHERE a.attnotnull";

const KEY_COLUMN_USAGE: &str = "SELECT 'postgres', 'public', i.relname, 'postgres', 'public', i.tbl, \
     c.name, k.key + 1, NULL \
     FROM __patina_indexes AS i, json_each(i.keys) AS k JOIN pragma_table_info(i.tbl) AS c ON c.cid + 1 = k.value \
     WHERE i.origin IN ('pk', 'u')";

/// Every `information_schema` relation.
pub(super) const RELATIONS: &[SystemRelation] = &[
    SystemRelation {
        schema: "information_schema",
        name: "tables",
        columns: &[
            ("table_catalog", NAME),
            ("table_schema", NAME),
            ("table_name", NAME),
            ("table_type", VARCHAR),
            ("self_referencing_column_name", NAME),
            ("reference_generation", VARCHAR),
            ("user_defined_type_catalog", NAME),
            ("user_defined_type_schema", NAME),
            ("user_defined_type_name", NAME),
            ("is_insertable_into", VARCHAR),
            ("is_typed", VARCHAR),
            ("commit_action", VARCHAR),
        ],
        source: Source::Sql(TABLES),
    },
    SystemRelation {
        schema: "information_schema",
        name: "columns",
        columns: &[
            ("table_catalog", NAME),
            ("table_schema", NAME),
            ("table_name", NAME),
            ("column_name", NAME),
            ("ordinal_position", INT4),
            ("column_default", VARCHAR),
            ("is_nullable", VARCHAR),
            ("data_type", VARCHAR),
            ("character_maximum_length", INT4),
            ("character_octet_length", INT4),
            ("numeric_precision", INT4),
            ("numeric_precision_radix", INT4),
            ("numeric_scale", INT4),
            ("datetime_precision", INT4),
            ("interval_type", VARCHAR),
            ("interval_precision", INT4),
            ("collation_catalog", NAME),
            ("collation_schema", NAME),
            ("collation_name", NAME),
            ("udt_catalog", NAME),
            ("udt_schema", NAME),
            ("udt_name", NAME),
            ("dtd_identifier", NAME),
            ("is_identity", VARCHAR),
            ("is_generated", VARCHAR),
            ("is_updatable", VARCHAR),
        ],
        source: Source::Sql(COLUMNS),
    },
    SystemRelation {
        schema: "information_schema",
        name: "schemata",
        columns: &[
            ("catalog_name", NAME),
            ("schema_name", NAME),
            ("schema_owner", NAME),
            ("default_character_set_catalog", NAME),
            ("default_character_set_schema", NAME),
            ("default_character_set_name", NAME),
            ("sql_path", VARCHAR),
        ],
        source: Source::Sql(SCHEMATA),
    },
    SystemRelation {
        schema: "information_schema",
        name: "table_constraints",
        columns: &[
            ("constraint_catalog", NAME),
            ("constraint_schema", NAME),
            ("constraint_name", NAME),
            ("table_catalog", NAME),
            ("table_schema", NAME),
            ("table_name", NAME),
            ("constraint_type", VARCHAR),
            ("is_deferrable", VARCHAR),
            ("initially_deferred", VARCHAR),
            ("enforced", VARCHAR),
            ("nulls_distinct", VARCHAR),
        ],
        source: Source::Sql(TABLE_CONSTRAINTS),
    },
    SystemRelation {
        schema: "information_schema",
        name: "key_column_usage",
        columns: &[
            ("constraint_catalog", NAME),
            ("constraint_schema", NAME),
            ("constraint_name", NAME),
            ("table_catalog", NAME),
            ("table_schema", NAME),
            ("table_name", NAME),
            ("column_name", NAME),
            ("ordinal_position", INT4),
            ("position_in_unique_constraint", INT4),
        ],
        source: Source::Sql(KEY_COLUMN_USAGE),
    },
];
