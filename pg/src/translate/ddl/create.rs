//! `CREATE TABLE`: columns, their constraints and the table's.

use sqlparser::ast::helpers::stmt_create_table::CreateTableBuilder;
use sqlparser::ast::{
    ColumnDef, ColumnOption, CreateTable, CreateTableOptions, Ident, TableConstraint,
};

use crate::error::Error;
use crate::translate::context::Translator;
use crate::translate::names::{fold, unqualified};
use crate::types::PgType;

use super::{
    CheckNames, Key, TranslatedDdl, Want, constraint_name, ident_list, index_column_names,
    serial_type,
};

impl Translator<'_> {
    /// Translates `CREATE TABLE`.
    pub(crate) fn create_table(&mut self, create: &CreateTable) -> Result<TranslatedDdl, Error> {
        let rebuilt = CreateTableBuilder::new(create.name.clone())
            .if_not_exists(create.if_not_exists)
            .temporary(create.temporary)
            .columns(create.columns.clone())
            .constraints(create.constraints.clone())
            .table_options(create.table_options.clone())
            .build();
        if rebuilt.to_string() != create.to_string() {
            return Err(Error::Unsupported(format!(
                "CREATE TABLE clause in {create}"
            )));
        }
        if !matches!(
            create.table_options,
            CreateTableOptions::None | CreateTableOptions::With(_)
        ) {
            return Err(Error::Unsupported("table options".into()));
        }
        let table_ident = unqualified(&create.name)?;
        let table = fold(&table_ident);
        let mut columns = Vec::with_capacity(create.columns.len());
        let mut auto = Vec::new();
        for column in &create.columns {
            let name = fold(&column.name);
            if columns.iter().any(|(n, _)| *n == name) {
                return Err(Error::Syntax(format!(
                    "column \"{name}\" specified more than once"
                )));
            }
            let identity = column.options.iter().any(|o| {
                matches!(
                    &o.option,
                    ColumnOption::Generated {
                        generation_expr: None,
                        ..
                    }
                )
            });
            let ty = match serial_type(&column.data_type) {
                Some(ty) => {
                    auto.push(name.clone());
                    ty
                }
                None => {
                    let ty = PgType::from_data_type(&column.data_type)?;
                    if identity {
                        if !ty.is_integer() {
                            return Err(Error::Syntax(format!(
                                "identity column type must be smallint, integer, or bigint, not {ty}"
                            )));
                        }
                        auto.push(name.clone());
                    }
                    ty
                }
            };
            columns.push((name, ty));
        }
        let mut key: Option<Vec<Ident>> = None;
        for column in &create.columns {
            if column
                .options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)))
            {
                if key.is_some() {
                    return Err(Error::Syntax(format!(
                        "multiple primary keys for table \"{table}\" are not allowed"
                    )));
                }
                key = Some(vec![column.name.clone()]);
            }
        }
        let mut table_key_index = None;
        for (index, constraint) in create.constraints.iter().enumerate() {
            if let TableConstraint::PrimaryKey(pk) = constraint {
                if key.is_some() {
                    return Err(Error::Syntax(format!(
                        "multiple primary keys for table \"{table}\" are not allowed"
                    )));
                }
                key = Some(index_column_names(&pk.columns)?);
                table_key_index = Some(index);
            }
        }
        // The single integer key column becomes SQLite's rowid alias.
        let rowid = match key.as_deref() {
            Some([ident]) => {
                let name = fold(ident);
                columns
                    .iter()
                    .find(|(n, ty)| *n == name && ty.is_integer())
                    .map(|(n, _)| n.clone())
            }
            _ => None,
        };
        if let Some(column) = auto.iter().find(|c| rowid.as_ref() != Some(*c)) {
            return Err(Error::Unsupported(format!(
                "serial or identity column \"{column}\" that is not the table's single-column primary key"
            )));
        }
        let mut definitions = Vec::new();
        let mut checks = CheckNames::new(&table);
        for (column, (name, ty)) in create.columns.iter().zip(&columns) {
            let key = match (rowid.as_ref() == Some(name), auto.contains(name)) {
                (false, _) if key.iter().flatten().any(|k| fold(k) == *name) => Key::Column,
                (false, _) => Key::None,
                (true, false) => Key::Rowid,
                (true, true) => Key::Sequence,
            };
            definitions.push(self.column_definition(column, *ty, key, &columns, &mut checks)?);
        }
        for (index, constraint) in create.constraints.iter().enumerate() {
            if Some(index) == table_key_index && rowid.is_some() {
                continue;
            }
            definitions.push(self.table_constraint(constraint, &columns, &mut checks)?);
        }
        let sql = format!(
            "CREATE {}TABLE {}{} ({})",
            if create.temporary { "TEMP " } else { "" },
            if create.if_not_exists {
                "IF NOT EXISTS "
            } else {
                ""
            },
            table_ident,
            definitions.join(", ")
        );
        // IF NOT EXISTS on an existing table changes nothing: the table
        // keeps its own columns.
        let existing = create
            .if_not_exists
            .then(|| self.catalog.columns(&table))
            .flatten();
        Ok(TranslatedDdl {
            sql,
            table,
            columns: existing.unwrap_or(columns),
            ..TranslatedDdl::default()
        })
    }

    pub(super) fn column_definition(
        &mut self,
        column: &ColumnDef,
        ty: PgType,
        key: Key,
        columns: &[(String, PgType)],
        checks: &mut CheckNames,
    ) -> Result<String, Error> {
        let is_rowid = matches!(key, Key::Rowid | Key::Sequence);
        let declares_key = column
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
        let declares_not_null = column
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::NotNull));
        let mut sql = if is_rowid {
            format!("{} INTEGER", column.name)
        } else {
            format!("{} {}", column.name, ty.sqlite_declaration())
        };
        for option in &column.options {
            let mut prefix = constraint_name(option.name.as_ref());
            let clause = match &option.option {
                ColumnOption::Null => continue,
                ColumnOption::NotNull => "NOT NULL".to_string(),
                ColumnOption::Default(expr) => {
                    let translated = self.table_expr(expr, &[], Want::Value(ty))?;
                    format!("DEFAULT ({translated})")
                }
                ColumnOption::PrimaryKey(pk) => {
                    if pk.characteristics.is_some() {
                        return Err(Error::Unsupported("DEFERRABLE primary key".into()));
                    }
                    key.clause().to_string()
                }
                ColumnOption::Unique(unique) => {
                    if unique.characteristics.is_some() {
                        return Err(Error::Unsupported("DEFERRABLE unique constraint".into()));
                    }
                    "UNIQUE".to_string()
                }
                ColumnOption::ForeignKey(fk) => self.references(fk)?,
                ColumnOption::Check(check) => {
                    let translated = self.table_expr(&check.expr, columns, Want::Condition)?;
                    prefix = checks.prefix(option.name.as_ref(), &check.expr, columns);
                    format!("CHECK ({translated})")
                }
                ColumnOption::Generated {
                    generation_expr: None,
                    sequence_options,
                    ..
                } if is_rowid && sequence_options.as_ref().is_none_or(Vec::is_empty) => continue,
                other => return Err(Error::Unsupported(format!("column option {other}"))),
            };
            sql.push(' ');
            sql.push_str(&prefix);
            sql.push_str(&clause);
        }
        if is_rowid && !declares_key {
            sql.push(' ');
            sql.push_str(key.clause());
        }
        if key == Key::Column && !declares_not_null {
            sql.push_str(" NOT NULL");
        }
        Ok(sql)
    }

    fn table_constraint(
        &mut self,
        constraint: &TableConstraint,
        columns: &[(String, PgType)],
        checks: &mut CheckNames,
    ) -> Result<String, Error> {
        let check_columns = |names: &[Ident]| -> Result<(), Error> {
            for name in names {
                let name = fold(name);
                if !columns.iter().any(|(n, _)| *n == name) {
                    return Err(Error::UndefinedColumnIn {
                        column: name,
                        context: "named in key".into(),
                    });
                }
            }
            Ok(())
        };
        match constraint {
            TableConstraint::PrimaryKey(pk)
                if pk.characteristics.is_none() && pk.include.is_empty() =>
            {
                let names = index_column_names(&pk.columns)?;
                check_columns(&names)?;
                Ok(format!(
                    "{}PRIMARY KEY ({})",
                    constraint_name(pk.name.as_ref()),
                    ident_list(&names)
                ))
            }
            TableConstraint::Unique(unique)
                if unique.characteristics.is_none() && unique.include.is_empty() =>
            {
                let names = index_column_names(&unique.columns)?;
                check_columns(&names)?;
                Ok(format!(
                    "{}UNIQUE ({})",
                    constraint_name(unique.name.as_ref()),
                    ident_list(&names)
                ))
            }
            TableConstraint::ForeignKey(fk) => {
                check_columns(&fk.columns)?;
                Ok(format!(
                    "{}FOREIGN KEY ({}) {}",
                    constraint_name(fk.name.as_ref()),
                    ident_list(&fk.columns),
                    self.references(fk)?
                ))
            }
            TableConstraint::Check(check) => {
                let translated = self.table_expr(&check.expr, columns, Want::Condition)?;
                Ok(format!(
                    "{}CHECK ({translated})",
                    checks.prefix(check.name.as_ref(), &check.expr, columns)
                ))
            }
            other => Err(Error::Unsupported(format!("table constraint {other}"))),
        }
    }
}
