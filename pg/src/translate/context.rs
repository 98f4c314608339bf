//! The state of one statement's translation — catalog, parameters, scopes
//! — and small builders for the SQLite expressions the rewrites emit.

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    Value,
};

use super::catalog::Catalog;
use super::locks::RowLock;
use super::params::Params;
use super::scope::Scopes;
use crate::error::Error;
use crate::types::PgType;

/// The type of a translated expression: known, or not yet known (an
/// untyped string literal, `NULL` or a parameter, which take their type
/// from their context as in PostgreSQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Known(PgType),
    Unknown,
}

impl Ty {
    /// The type, with an unknown resolved to `text` as PostgreSQL does.
    pub(crate) fn or_text(self) -> PgType {
        match self {
            Ty::Known(t) => t,
            Ty::Unknown => PgType::TEXT,
        }
    }

    /// The known type, if any.
    pub(crate) fn known(self) -> Option<PgType> {
        match self {
            Ty::Known(t) => Some(t),
            Ty::Unknown => None,
        }
    }
}

/// One statement's translation in progress.
pub(crate) struct Translator<'a> {
    pub(crate) catalog: &'a dyn Catalog,
    pub(crate) params: Params,
    pub(crate) scopes: Scopes,
    /// The `WITH` queries in scope, innermost last.
    pub(crate) ctes: Vec<(String, Vec<(String, PgType)>)>,
    /// While translating a `RETURNING` list: the target's name, whose
    /// qualifier SQLite does not accept there (`RETURNING t.id` must be
    /// `RETURNING id`).
    pub(crate) returning_target: Option<String>,
    /// Whether a query of the statement locks rows (`FOR UPDATE`…).
    pub(crate) locks_rows: bool,
    /// The statement's first row lock, as the parser read it (sqlparser
    /// knows only two strengths): what errors about the clause name.
    pub(crate) row_lock: Option<RowLock>,
    /// While translating a select list: the rows of its set-returning
    /// calls (see `srf`); `None` where such calls are not allowed.
    pub(crate) select_srfs: Option<Vec<Expr>>,
}

impl<'a> Translator<'a> {
    pub(crate) fn new(
        catalog: &'a dyn Catalog,
        params: Params,
        row_lock: Option<RowLock>,
    ) -> Translator<'a> {
        Translator {
            catalog,
            params,
            scopes: Scopes::default(),
            ctes: Vec::new(),
            returning_target: None,
            locks_rows: false,
            row_lock,
            select_srfs: None,
        }
    }

    /// The columns of a table, or 42P01.
    pub(crate) fn table_columns(&self, table: &str) -> Result<Vec<(String, PgType)>, Error> {
        self.catalog
            .columns(table)
            .ok_or_else(|| Error::UndefinedTable(table.into()))
    }
}

/// A call of a SQLite function.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: super::names::object_name(Ident::new(name)),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        within_group: vec![],
        filter: None,
        null_treatment: None,
        over: None,
    })
}

/// A string literal.
pub(crate) fn string(text: impl Into<String>) -> Expr {
    Expr::value(Value::SingleQuotedString(text.into()))
}

/// A number literal.
pub(crate) fn number(value: impl std::fmt::Display) -> Expr {
    Expr::value(Value::Number(value.to_string(), false))
}

/// The type-name argument the run-time functions take.
pub(crate) fn type_name(ty: PgType) -> Expr {
    string(ty.to_string())
}

/// Moves an expression out, leaving `NULL` behind.
pub(crate) fn take(expr: &mut Expr) -> Expr {
    std::mem::replace(expr, Expr::value(Value::Null))
}

/// Parenthesises an expression.
pub(crate) fn nested(expr: Expr) -> Expr {
    Expr::Nested(Box::new(expr))
}
