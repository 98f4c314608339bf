//! `ALTER TABLE`: the forms SQLite can do, and `ADD PRIMARY KEY`, which
//! the store does by rebuilding the table.

use patina_store::SchemaError;
use sqlparser::ast::{
    AlterTableOperation, ColumnOption, ObjectName, RenameTableNameKind, TableConstraint,
};

use crate::error::Error;
use crate::translate::coerce::literal;
use crate::translate::context::Translator;
use crate::translate::names::{fold, unqualified};
use crate::types::PgType;

use super::{CheckNames, Key, TranslatedDdl, Want, index_column_names, serial_type};

impl Translator<'_> {
    /// `ALTER TABLE t ADD PRIMARY KEY (columns)`: the key's columns, which
    /// must exist; the table may not have a key yet (42P16).
    fn add_primary_key(
        &self,
        table: &str,
        columns: &[(String, PgType)],
        constraint: &TableConstraint,
    ) -> Result<Option<Vec<String>>, Error> {
        let TableConstraint::PrimaryKey(pk) = constraint else {
            return Ok(None);
        };
        if pk.characteristics.is_some() || !pk.include.is_empty() || pk.index_name.is_some() {
            return Err(Error::Unsupported("PRIMARY KEY option".into()));
        }
        if !self.catalog.primary_key(table).is_empty() {
            return Err(Error::InvalidTableDefinition(format!(
                "multiple primary keys for table \"{table}\" are not allowed"
            )));
        }
        let mut key = Vec::new();
        for ident in index_column_names(&pk.columns)? {
            let name = fold(&ident);
            if !columns.iter().any(|(n, _)| *n == name) {
                return Err(Error::UndefinedColumnIn {
                    column: name,
                    context: "named in key".into(),
                });
            }
            key.push(name);
        }
        Ok(Some(key))
    }

    /// Translates `ALTER TABLE` with one operation SQLite supports.
    pub(crate) fn alter_table(
        &mut self,
        name: &ObjectName,
        operations: &[AlterTableOperation],
    ) -> Result<TranslatedDdl, Error> {
        let [operation] = operations else {
            return Err(Error::Unsupported(
                "ALTER TABLE with several operations".into(),
            ));
        };
        let ident = unqualified(name)?;
        let table = fold(&ident);
        let mut columns = self.table_columns(&table)?;
        let mut renamed_from = None;
        let mut new_table = table.clone();
        if let AlterTableOperation::AddConstraint { constraint, .. } = operation
            && let Some(key) = self.add_primary_key(&table, &columns, constraint)?
        {
            return Ok(TranslatedDdl {
                sql: format!("ALTER TABLE {ident} ADD PRIMARY KEY"),
                table,
                columns,
                add_primary_key: Some(key),
                ..TranslatedDdl::default()
            });
        }
        let action = match operation {
            AlterTableOperation::AddColumn {
                if_not_exists: false,
                column_def,
                column_position: None,
                ..
            } => {
                let column = fold(&column_def.name);
                // a duplicate column is SQLite's error when the statement
                // runs (42701), as PostgreSQL finds it then too
                let option = |wanted: fn(&ColumnOption) -> bool| {
                    column_def.options.iter().any(|o| wanted(&o.option))
                };
                // The same rule the store applies to CREATE TABLE (SQLite
                // would refuse it too, less clearly).
                if option(|o| matches!(o, ColumnOption::NotNull))
                    && !option(|o| matches!(o, ColumnOption::Default(_)))
                {
                    return Err(Error::Unreplicable(
                        SchemaError::NotNullWithoutDefault { table, column }.to_string(),
                    ));
                }
                if serial_type(&column_def.data_type).is_some() {
                    return Err(Error::Unsupported("adding a serial column".into()));
                }
                let ty = PgType::from_data_type(&column_def.data_type)?;
                let mut definition = self.column_definition(
                    column_def,
                    ty,
                    Key::None,
                    &columns,
                    &mut CheckNames::new(&table),
                )?;
                for option in &column_def.options {
                    match &option.option {
                        ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_) => {
                            return Err(Error::Unsupported(
                                "adding a PRIMARY KEY or UNIQUE column".into(),
                            ));
                        }
                        ColumnOption::Default(expr) => {
                            let translated = self.table_expr(expr, &[], Want::Value(ty))?;
                            if literal(&translated).is_none() {
                                return Err(Error::Unsupported(
                                    "adding a column whose default is not a constant".into(),
                                ));
                            }
                            definition = definition.replace(
                                &format!("DEFAULT ({translated})"),
                                &format!("DEFAULT {translated}"),
                            );
                        }
                        _ => {}
                    }
                }
                columns.push((column, ty));
                format!("ADD COLUMN {definition}")
            }
            AlterTableOperation::DropColumn {
                column_names,
                if_exists: false,
                drop_behavior: None,
                ..
            } => {
                let [column] = column_names.as_slice() else {
                    return Err(Error::Unsupported("dropping several columns".into()));
                };
                let name = fold(column);
                let before = columns.len();
                columns.retain(|(n, _)| *n != name);
                if columns.len() == before {
                    return Err(Error::UndefinedColumnIn {
                        column: name,
                        context: format!("of relation \"{table}\""),
                    });
                }
                format!("DROP COLUMN {column}")
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let old = fold(old_column_name);
                let slot = columns.iter_mut().find(|(n, _)| *n == old).ok_or_else(|| {
                    Error::UndefinedColumnIn {
                        column: old.clone(),
                        context: format!("of relation \"{table}\""),
                    }
                })?;
                slot.0 = fold(new_column_name);
                format!("RENAME COLUMN {old_column_name} TO {new_column_name}")
            }
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(new_name) | RenameTableNameKind::As(new_name)) =
                    table_name;
                let new_ident = unqualified(new_name)?;
                new_table = fold(&new_ident);
                renamed_from = Some(table.clone());
                format!("RENAME TO {new_ident}")
            }
            other => return Err(Error::Unsupported(format!("ALTER TABLE {other}"))),
        };
        Ok(TranslatedDdl {
            sql: format!("ALTER TABLE {ident} {action}"),
            table: new_table,
            columns,
            renamed_from,
            ..TranslatedDdl::default()
        })
    }
}
