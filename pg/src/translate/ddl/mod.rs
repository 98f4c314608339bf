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
//! leaks through. One file per statement: `create`, `index`, `drop`,
//! `alter`; this one holds what they share.

use sqlparser::ast::{DataType, Expr, ForeignKeyConstraint, Ident, IndexColumn, ReferentialAction};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::coerce::CastKind;
use super::context::Translator;
use super::names::{fold, unqualified};
use super::scope::{Relation, Scope};
use crate::error::Error;
use crate::types::PgType;

mod alter;
mod create;
mod drop;
mod index;

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
