//! `DROP TABLE` and `DROP INDEX`.

use sqlparser::ast::{ObjectName, ObjectType};

use crate::error::Error;
use crate::translate::context::Translator;
use crate::translate::names::{fold, unqualified};

impl Translator<'_> {
    /// Translates `DROP TABLE` or `DROP INDEX` of one or more objects;
    /// returns the SQL (a statement per object) and the tables' names.
    pub(crate) fn drop(
        &mut self,
        object_type: &ObjectType,
        if_exists: bool,
        names: &[ObjectName],
        cascade: bool,
    ) -> Result<(String, Vec<String>), Error> {
        if cascade {
            return Err(Error::Unsupported("DROP … CASCADE".into()));
        }
        let kind = match object_type {
            ObjectType::Table => "TABLE",
            ObjectType::Index => "INDEX",
            other => return Err(Error::Unsupported(format!("DROP {other}"))),
        };
        let mut statements = Vec::with_capacity(names.len());
        let mut tables = Vec::new();
        for name in names {
            let ident = unqualified(name)?;
            statements.push(format!(
                "DROP {kind} {}{ident}",
                if if_exists { "IF EXISTS " } else { "" }
            ));
            if matches!(object_type, ObjectType::Table) {
                tables.push(fold(&ident));
            }
        }
        Ok((statements.join("; "), tables))
    }
}
