//! DDL: `CREATE TABLE`, `CREATE INDEX`, `DROP TABLE/INDEX` and the
//! `ALTER TABLE` forms SQLite can do, and `ADD PRIMARY KEY`, which the
//! store does by rebuilding the table. Columns are declared with the
//! storage of [`crate::types`]; an integer primary key (`serial`,
//! `bigserial`, `GENERATED … AS IDENTITY`, `bigint PRIMARY KEY`…) becomes
//! `INTEGER PRIMARY KEY`, SQLite's auto-assigned rowid alias (with
//! `AUTOINCREMENT` for `serial` and identity columns, which never reuse an
//! id, as sequences do); defaults
//! become `DEFAULT (expr)`; `WITH (storage parameters)` is dropped. The
//! SQL is printed here, not by sqlparser, so no PostgreSQL-only syntax
//! leaks through.

use patina_store::SchemaError;
use sqlparser::ast::helpers::stmt_create_table::CreateTableBuilder;
use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, CreateTable, CreateTableOptions,
    DataType, Expr, ForeignKeyConstraint, Ident, IndexColumn, ObjectName, ObjectType,
    ReferentialAction, RenameTableNameKind, TableConstraint,
};

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::coerce::{CastKind, literal};
use super::context::Translator;
use super::names::{fold, unqualified};
use super::scope::{Relation, Scope};
use crate::error::Error;
use crate::types::PgType;

/// A table definition after DDL: what the caller records in its catalog.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TranslatedDdl {
    /// The SQLite statement.
    pub sql: String,
    /// The table's name (after a rename, the new one).
    pub table: String,
    /// The table's columns afterwards, with their PostgreSQL types.
    pub columns: Vec<(String, PgType)>,
    /// The table's name before an `ALTER TABLE … RENAME TO`.
    pub renamed_from: Option<String>,
    /// The other tables a `DROP TABLE a, b` drops.
    pub more_dropped: Vec<String>,
    /// `ALTER TABLE … ADD PRIMARY KEY (columns)`: the store rebuilds the
    /// table with this key instead of running `sql` (SQLite cannot add a
    /// key in place).
    pub add_primary_key: Option<Vec<String>>,
}

/// The integer type of a `serial` pseudo-type.
fn serial_type(data_type: &DataType) -> Option<PgType> {
    let DataType::Custom(name, modifiers) = data_type else {
        return None;
    };
    if !modifiers.is_empty() {
        return None;
    }
    let ident = unqualified(name).ok()?;
    match fold(&ident).as_str() {
        "serial" | "serial4" => Some(PgType::INT4),
        "bigserial" | "serial8" => Some(PgType::INT8),
        "smallserial" | "serial2" => Some(PgType::INT2),
        _ => None,
    }
}

fn ident_list(idents: &[Ident]) -> String {
    idents
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn index_column_names(columns: &[IndexColumn]) -> Result<Vec<Ident>, Error> {
    columns
        .iter()
        .map(|c| {
            match (
                &c.column.expr,
                &c.operator_class,
                &c.column.options.sort,
                c.column.options.nulls_first,
            ) {
                (Expr::Identifier(ident), None, None, None) => Ok(ident.clone()),
                _ => Err(Error::Unsupported(format!("key column {}", c.column))),
            }
        })
        .collect()
}

fn referential_action(action: &ReferentialAction) -> &'static str {
    match action {
        ReferentialAction::Restrict => "RESTRICT",
        ReferentialAction::Cascade => "CASCADE",
        ReferentialAction::SetNull => "SET NULL",
        ReferentialAction::NoAction => "NO ACTION",
        ReferentialAction::SetDefault => "SET DEFAULT",
    }
}

/// Whether a column is the table's rowid alias.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    /// an ordinary column
    None,
    /// a primary key column that is not the rowid: NOT NULL is declared,
    /// since SQLite (unlike PostgreSQL) lets such a key hold NULL
    Column,
    /// an integer primary key: `INTEGER PRIMARY KEY`, assigned when NULL
    Rowid,
    /// a `serial` or identity key: `AUTOINCREMENT` too, so that, like a
    /// PostgreSQL sequence, it never hands out a deleted row's id again
    Sequence,
}

impl Key {
    fn clause(self) -> &'static str {
        match self {
            Key::Sequence => "PRIMARY KEY AUTOINCREMENT",
            _ => "PRIMARY KEY",
        }
    }
}

/// What a table-level expression must be.
#[derive(Clone, Copy)]
enum Want {
    /// a condition (`CHECK`, index predicate)
    Condition,
    /// a value stored into a column of this type (`DEFAULT`)
    Value(PgType),
    /// any value (index key)
    Any,
}

/// PostgreSQL's longest identifier, in bytes (`NAMEDATALEN - 1`).
const MAX_IDENTIFIER: usize = 63;

/// The names of a table's CHECK constraints, chosen as PostgreSQL's
/// `ChooseConstraintName` does for unnamed ones: `<table>_<column>_check`
/// when the expression reads one column, else `<table>_check`, with a
/// number added to the label until the name is new. SQLite reports a
/// violated CHECK by its name, so every one is named.
struct CheckNames {
    table: String,
    used: Vec<String>,
}

impl CheckNames {
    fn new(table: &str) -> CheckNames {
        CheckNames {
            table: table.to_owned(),
            used: Vec::new(),
        }
    }

    /// The `CONSTRAINT "name" ` prefix of a CHECK named `given` (or not).
    fn prefix(
        &mut self,
        given: Option<&Ident>,
        expr: &Expr,
        columns: &[(String, PgType)],
    ) -> String {
        let name = match given {
            Some(name) => fold(name),
            None => {
                let read = read_columns(expr, columns);
                let column = match read.as_slice() {
                    [column] => Some(column.as_str()),
                    _ => None,
                };
                (0..)
                    .map(|pass| {
                        let label = match pass {
                            0 => "check".to_owned(),
                            n => format!("check{n}"),
                        };
                        make_object_name(&self.table, column, &label)
                    })
                    .find(|name| !self.used.contains(name))
                    .unwrap_or_default()
            }
        };
        self.used.push(name.clone());
        format!("CONSTRAINT {} ", Ident::with_quote('"', name))
    }
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, the longer of the
/// names shortened until it fits in an identifier.
fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let available = MAX_IDENTIFIER - label.len() - 1 - usize::from(name2.is_some());
    let (mut len1, mut len2) = (name1.len(), name2.map_or(0, str::len));
    while len1 + len2 > available {
        if len1 > len2 {
            len1 -= 1;
        } else {
            len2 -= 1;
        }
    }
    let clip = |name: &str, mut len: usize| {
        while !name.is_char_boundary(len) {
            len -= 1;
        }
        name[..len].to_owned()
    };
    let mut name = clip(name1, len1);
    if let Some(name2) = name2 {
        name.push('_');
        name.push_str(&clip(name2, len2));
    }
    name.push('_');
    name.push_str(label);
    name
}

/// The distinct table columns `expr` names, in order: its identifiers
/// that are neither qualified names' later parts nor called as functions.
fn read_columns(expr: &Expr, columns: &[(String, PgType)]) -> Vec<String> {
    let text = expr.to_string();
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, &text)
        .tokenize()
        .unwrap_or_default();
    let significant: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut read = Vec::new();
    for (index, token) in significant.iter().enumerate() {
        let Token::Word(word) = token else { continue };
        let after_period = index > 0 && matches!(significant[index - 1], Token::Period);
        let called = matches!(significant.get(index + 1), Some(Token::LParen));
        let name = match word.quote_style {
            Some(_) => word.value.clone(),
            None => word.value.to_lowercase(),
        };
        if !after_period
            && !called
            && columns.iter().any(|(n, _)| *n == name)
            && !read.contains(&name)
        {
            read.push(name);
        }
    }
    read
}

fn constraint_name(name: Option<&Ident>) -> String {
    name.map_or_else(String::new, |n| format!("CONSTRAINT {n} "))
}

impl Translator<'_> {
    fn references(&self, fk: &ForeignKeyConstraint) -> Result<String, Error> {
        if fk.match_kind.is_some() || fk.characteristics.is_some() || fk.index_name.is_some() {
            return Err(Error::Unsupported(
                "MATCH or DEFERRABLE on a foreign key".into(),
            ));
        }
        let table = unqualified(&fk.foreign_table)?;
        let mut sql = format!("REFERENCES {table}");
        if !fk.referred_columns.is_empty() {
            sql.push_str(&format!(" ({})", ident_list(&fk.referred_columns)));
        }
        if let Some(action) = &fk.on_delete {
            sql.push_str(&format!(" ON DELETE {}", referential_action(action)));
        }
        if let Some(action) = &fk.on_update {
            sql.push_str(&format!(" ON UPDATE {}", referential_action(action)));
        }
        Ok(sql)
    }

    /// A `CHECK`, `DEFAULT`, index key or index predicate, translated in
    /// the scope of the table's own columns.
    fn table_expr(
        &mut self,
        expr: &Expr,
        columns: &[(String, PgType)],
        want: Want,
    ) -> Result<Expr, Error> {
        let mut expr = expr.clone();
        self.scopes.push(Scope::default());
        let result = self
            .scopes
            .add(Relation {
                name: String::new(),
                columns: columns.to_vec(),
                key: Vec::new(),
            })
            .and_then(|()| self.expr(&mut expr))
            .and_then(|ty| match want {
                Want::Value(target) => self.coerce(&mut expr, ty, target, CastKind::Assignment),
                Want::Condition => self.coerce(&mut expr, ty, PgType::BOOL, CastKind::Implicit),
                Want::Any => Ok(()),
            });
        self.scopes.pop();
        result.map(|()| expr)
    }

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

    fn column_definition(
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

    /// Translates `CREATE INDEX`.
    pub(crate) fn create_index(&mut self, index: &CreateIndex) -> Result<String, Error> {
        if index.r#async
            || !index.include.is_empty()
            || index.nulls_distinct == Some(false)
            || !index.with.is_empty()
            || !index.index_options.is_empty()
            || !index.alter_options.is_empty()
        {
            return Err(Error::Unsupported(format!("index option in {index}")));
        }
        if let Some(using) = &index.using
            && !using.to_string().eq_ignore_ascii_case("btree")
        {
            return Err(Error::Unsupported(format!("index method {using}")));
        }
        let table_ident = unqualified(&index.table_name)?;
        let table = fold(&table_ident);
        let columns = self.table_columns(&table)?;
        let mut keys = Vec::with_capacity(index.columns.len());
        let mut key_names = Vec::new();
        for column in &index.columns {
            if column.operator_class.is_some()
                || column.column.with_fill.is_some()
                || column.column.options.nulls_first.is_some()
            {
                return Err(Error::Unsupported(format!("index key {}", column.column)));
            }
            if let Expr::Identifier(ident) = &column.column.expr {
                key_names.push(fold(ident));
            } else {
                key_names.push("expr".to_string());
            }
            let mut key = column.column.clone();
            key.expr = self.table_expr(&key.expr, &columns, Want::Any)?;
            keys.push(key.to_string());
        }
        let name = match &index.name {
            Some(name) => unqualified(name)?.to_string(),
            None => format!("{table}_{}_idx", key_names.join("_")),
        };
        let mut sql = format!(
            "CREATE {}INDEX {}{name} ON {table_ident} ({})",
            if index.unique { "UNIQUE " } else { "" },
            if index.if_not_exists {
                "IF NOT EXISTS "
            } else {
                ""
            },
            keys.join(", ")
        );
        if let Some(predicate) = &index.predicate {
            let translated = self.table_expr(predicate, &columns, Want::Condition)?;
            sql.push_str(&format!(" WHERE {translated}"));
        }
        Ok(sql)
    }

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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::translate::{Catalog, translate};

    /// Tables `loose` (no key) and `keyed` (key `id`).
    struct Tables;

    impl Catalog for Tables {
        fn columns(&self, table: &str) -> Option<Vec<(String, PgType)>> {
            matches!(table, "loose" | "keyed").then(|| {
                vec![
                    ("id".to_owned(), PgType::INT4),
                    ("v".to_owned(), PgType::TEXT),
                ]
            })
        }

        fn primary_key(&self, table: &str) -> Vec<String> {
            match table {
                "keyed" => vec!["id".to_owned()],
                _ => Vec::new(),
            }
        }
    }

    #[test]
    fn add_primary_key_is_a_rebuild_the_store_does() {
        let t = translate("ALTER TABLE loose ADD PRIMARY KEY (id, V)", &Tables).unwrap();
        let ddl = t[0].ddl.clone().unwrap();
        assert_eq!(
            ddl.add_primary_key,
            Some(vec!["id".to_owned(), "v".to_owned()])
        );
        assert_eq!(ddl.table, "loose");
        assert_eq!(ddl.columns.len(), 2);
        let error = translate("ALTER TABLE keyed ADD PRIMARY KEY (v)", &Tables).unwrap_err();
        assert_eq!(
            (error.sqlstate(), error.to_string()),
            (
                "42P16",
                "multiple primary keys for table \"keyed\" are not allowed".to_owned()
            )
        );
        let error = translate("ALTER TABLE loose ADD PRIMARY KEY (nope)", &Tables).unwrap_err();
        assert_eq!(error.sqlstate(), "42703");
    }

    #[test]
    fn drop_of_several_tables_drops_each() {
        let catalog: HashMap<String, Vec<(String, PgType)>> = HashMap::new();
        let t = translate("DROP TABLE IF EXISTS a, public.b, c", &catalog).unwrap();
        assert_eq!(
            t[0].sql,
            "DROP TABLE IF EXISTS a; DROP TABLE IF EXISTS b; DROP TABLE IF EXISTS c"
        );
        let ddl = t[0].ddl.clone().unwrap();
        assert_eq!(
            (ddl.table.as_str(), ddl.more_dropped),
            ("a", vec!["b".to_owned(), "c".to_owned()])
        );
    }
}
