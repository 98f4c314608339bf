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

/// The single-part object name for `ident`.
pub(crate) fn object_name(ident: Ident) -> ObjectName {
    ObjectName(vec![ObjectNamePart::Identifier(ident)])
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
