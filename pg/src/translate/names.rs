//! Names: PostgreSQL folds unquoted identifiers to lower case, and
//! patina's tables and functions live in one namespace, so `public.t` is
//! `t` and `pg_catalog.f` is `f`. A system relation
//! ([`crate::catalog`]) is the exception: `pg_catalog.pg_class`, plain
//! `pg_class` (pg_catalog comes first on PostgreSQL's search path) and
//! `information_schema.tables` name their SQLite views. Other schemas
//! are not supported.

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

use crate::catalog;
use crate::error::Error;

/// The name an identifier denotes: folded to lower case unless quoted.
pub(crate) fn fold(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// The parts of an object name, as identifiers.
fn idents(name: &ObjectName) -> Result<Vec<&Ident>, Error> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Ok(ident),
            ObjectNamePart::Function(_) => Err(Error::Unsupported(format!("name {name}"))),
        })
        .collect()
}

/// Strips `public.` (tables) or `pg_catalog.` (functions, types) and
/// returns the remaining identifier; other qualifiers are unsupported.
pub(crate) fn unqualified(name: &ObjectName) -> Result<Ident, Error> {
    match idents(name)?.as_slice() {
        [ident] => Ok((*ident).clone()),
        [schema, ident] if matches!(fold(schema).as_str(), "public" | "pg_catalog") => {
            Ok((*ident).clone())
        }
        _ => Err(Error::Unsupported(format!("schema-qualified name {name}"))),
    }
}

/// A table's name, as [`unqualified`], or the quoted name of a system
/// relation's view; `database.schema.table` too when `database` is the
/// session's, as PostgreSQL refuses other databases.
pub(crate) fn table_name(name: &ObjectName, database: &str) -> Result<Ident, Error> {
    let parts = idents(name)?;
    let (schema, relation) = match parts.as_slice() {
        [relation] => (None, *relation),
        [schema, relation] => (Some(fold(schema)), *relation),
        [db, schema, relation] if fold(db) == database => (Some(fold(schema)), *relation),
        _ => (None, parts[0]),
    };
    if schema.as_deref().is_none_or(catalog::is_system_schema)
        && let Some(system) = catalog::find(schema.as_deref(), &fold(relation))
    {
        return Ok(Ident::with_quote(
            '"',
            format!("{}.{}", system.schema, system.name),
        ));
    }
    if let Some(schema) = schema.filter(|s| s != "public" && catalog::is_system_schema(s)) {
        return Err(Error::UndefinedTable(format!(
            "{schema}.{}",
            fold(relation)
        )));
    }
    let table = match parts.as_slice() {
        [db, schema, ident] if fold(db) == database => {
            unqualified(&ObjectName::from(vec![(*schema).clone(), (*ident).clone()]))
        }
        parts @ [_, _, _] => Err(Error::NotImplemented(format!(
            "cross-database references are not implemented: \"{}\"",
            parts.iter().map(|p| fold(p)).collect::<Vec<_>>().join(".")
        ))),
        _ => unqualified(name),
    }?;
    // A view's SQLite name is one quoted identifier (`"pg_catalog.pg_class"`),
    // which names no relation in PostgreSQL: it must not reach the view.
    if system_relation(&fold(&table)).is_some() {
        return Err(Error::UndefinedTable(fold(&table)));
    }
    Ok(table)
}

/// The single-part object name for `ident`.
pub(crate) fn object_name(ident: Ident) -> ObjectName {
    ObjectName(vec![ObjectNamePart::Identifier(ident)])
}

/// The system relation a table name resolved to by [`table_name`], if it
/// is one.
pub(crate) fn system_relation(table: &str) -> Option<&'static catalog::SystemRelation> {
    catalog::by_sqlite_name(table)
}

/// An identifier as PostgreSQL's `quote_ident` prints it: quoted unless it
/// is lower case letters, digits and underscores not starting with a
/// digit, and not a keyword that needs quotes.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !RESERVED.contains(&name) && !COLUMN_NAME_KEYWORDS.contains(&name) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// PostgreSQL's column-name keywords, which `quote_ident` quotes too.
const COLUMN_NAME_KEYWORDS: &[&str] = &[
    "between",
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "coalesce",
    "dec",
    "decimal",
    "exists",
    "extract",
    "float",
    "greatest",
    "grouping",
    "inout",
    "int",
    "integer",
    "interval",
    "least",
    "national",
    "nchar",
    "none",
    "normalize",
    "nullif",
    "numeric",
    "out",
    "overlay",
    "position",
    "precision",
    "real",
    "row",
    "setof",
    "smallint",
    "substring",
    "time",
    "timestamp",
    "treat",
    "trim",
    "values",
    "varchar",
];

/// PostgreSQL's keywords that may not name a table or column without
/// quotes (its reserved and type/function-name keywords). sqlparser takes
/// some of them as an alias, as `FROM t AND WHERE …`, and SQLite may too.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// The name a table alias gives its relation; an unquoted reserved
/// keyword is the syntax error PostgreSQL reports.
pub(crate) fn alias_name(alias: &Ident) -> Result<String, Error> {
    let name = fold(alias);
    if alias.quote_style.is_none() && RESERVED.contains(&name.as_str()) {
        return Err(Error::Syntax(format!("at or near \"{}\"", alias.value)));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(parts: &[&str]) -> ObjectName {
        ObjectName(
            parts
                .iter()
                .map(|p| ObjectNamePart::Identifier(Ident::new(*p)))
                .collect(),
        )
    }

    #[test]
    fn folds_unquoted_and_keeps_quoted() {
        assert_eq!(fold(&Ident::new("Users")), "users");
        assert_eq!(fold(&Ident::with_quote('"', "Users")), "Users");
    }

    #[test]
    fn strips_public_and_pg_catalog_only() {
        assert_eq!(
            unqualified(&name(&["public", "t"])).map(|i| fold(&i)),
            Ok("t".into())
        );
        assert_eq!(
            unqualified(&name(&["PG_CATALOG", "now"])).map(|i| fold(&i)),
            Ok("now".into())
        );
        assert!(matches!(
            unqualified(&name(&["other", "t"])),
            Err(Error::Unsupported(_))
        ));
        assert!(matches!(
            unqualified(&name(&["a", "b", "c"])),
            Err(Error::Unsupported(_))
        ));
    }

    #[test]
    fn system_relations_resolve_as_on_the_search_path() {
        let resolved = |parts: &[&str]| table_name(&name(parts), "postgres").map(|i| fold(&i));
        assert_eq!(resolved(&["pg_class"]), Ok("pg_catalog.pg_class".into()));
        assert_eq!(
            resolved(&["PG_CATALOG", "pg_class"]),
            Ok("pg_catalog.pg_class".into())
        );
        assert_eq!(resolved(&["public", "pg_class"]), Ok("pg_class".into()));
        assert_eq!(resolved(&["tables"]), Ok("tables".into()));
        assert_eq!(
            resolved(&["information_schema", "tables"]),
            Ok("information_schema.tables".into())
        );
        assert!(matches!(
            resolved(&["information_schema", "nope"]),
            Err(Error::UndefinedTable(_))
        ));
        assert!(system_relation("pg_catalog.pg_class").is_some());
        // SELECT * FROM "pg_catalog.pg_class" -- 42P01 in PostgreSQL 15
        let quoted = ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
            '"',
            "pg_catalog.pg_class",
        ))]);
        assert_eq!(
            table_name(&quoted, "postgres"),
            Err(Error::UndefinedTable("pg_catalog.pg_class".into()))
        );
    }

    #[test]
    fn quotes_identifiers_as_quote_ident() {
        // SELECT quote_ident('items'), quote_ident('Items'), quote_ident('order'),
        //        quote_ident('time'), quote_ident('a"b'), quote_ident('1a')
        assert_eq!(quote_ident("items"), "items");
        assert_eq!(quote_ident("Items"), "\"Items\"");
        assert_eq!(quote_ident("order"), "\"order\"");
        assert_eq!(quote_ident("time"), "\"time\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1a"), "\"1a\"");
    }
}
