//! Names: PostgreSQL folds unquoted identifiers to lower case, and
//! patina's tables and functions live in one namespace, so `public.t` is
//! `t` and `pg_catalog.f` is `f`. Other schemas are not supported.

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

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

/// A table's name, as [`unqualified`]; `database.schema.table` too when
/// `database` is the session's, as PostgreSQL refuses other databases.
pub(crate) fn table_name(name: &ObjectName, database: &str) -> Result<Ident, Error> {
    match idents(name)?.as_slice() {
        [db, schema, ident] if fold(db) == database => {
            unqualified(&ObjectName::from(vec![(*schema).clone(), (*ident).clone()]))
        }
        parts @ [_, _, _] => Err(Error::NotImplemented(format!(
            "cross-database references are not implemented: \"{}\"",
            parts.iter().map(|p| fold(p)).collect::<Vec<_>>().join(".")
        ))),
        _ => unqualified(name),
    }
}

/// The single-part object name for `ident`.
pub(crate) fn object_name(ident: Ident) -> ObjectName {
    ObjectName(vec![ObjectNamePart::Identifier(ident)])
}

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
}
