//! Parameters: PostgreSQL's `$n` become SQLite's `?n` (numbered, because
//! SQLite numbers bare `?` and `$name` by order of appearance), and each
//! gets the type its context gives it; one no context types is `text`, as
//! PostgreSQL resolves an unknown.

use sqlparser::ast::{Expr, Value};

use crate::error::Error;
use crate::types::PgType;

/// The largest `$n` accepted (SQLite's default limit on host parameters).
const MAX_PARAMS: usize = 32_766;

/// The parameters seen so far and their inferred types.
#[derive(Debug, Default)]
pub(crate) struct Params {
    types: Vec<Option<PgType>>,
}

impl Params {
    /// Parameters whose types the client gave (`None`: infer it).
    pub(crate) fn given(types: &[Option<PgType>]) -> Params {
        Params {
            types: types
                .iter()
                .map(|t| t.map(PgType::without_modifier))
                .collect(),
        }
    }

    /// If `expr` is a placeholder `$n`, rewrites it to `?n` and returns
    /// `n`.
    pub(crate) fn rewrite(&mut self, expr: &mut Expr) -> Result<Option<usize>, Error> {
        let Expr::Value(value) = expr else {
            return Ok(None);
        };
        let Value::Placeholder(text) = &value.value else {
            return Ok(None);
        };
        let number = text
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=MAX_PARAMS).contains(n))
            .ok_or_else(|| {
                // PostgreSQL knows only `$n`: `:name` or `?` is a syntax
                // error at its first character (worded like sqlparser's).
                let start = value.span.start;
                let first: String = text.chars().take(1).collect();
                Error::Syntax(format!(
                    "Expected: $n parameter, found: {first} at Line: {}, Column: {}",
                    start.line, start.column
                ))
            })?;
        if self.types.len() < number {
            self.types.resize(number, None);
        }
        value.value = Value::Placeholder(format!("?{number}"));
        Ok(Some(number))
    }

    /// The type inferred for `$n`, if any yet.
    pub(crate) fn get(&self, number: usize) -> Option<PgType> {
        self.types.get(number - 1).copied().flatten()
    }

    /// Records the type of `$n` (the first inference wins, as in
    /// PostgreSQL).
    pub(crate) fn set(&mut self, number: usize, ty: PgType) {
        if let Some(slot) = self.types.get_mut(number - 1) {
            slot.get_or_insert(ty.without_modifier());
        }
    }

    /// The types of `$1..$n`; untyped ones are `text`.
    pub(crate) fn finish(self) -> Vec<PgType> {
        self.types
            .into_iter()
            .map(|t| t.unwrap_or(PgType::TEXT))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::ValueWithSpan;

    fn placeholder(text: &str) -> Expr {
        Expr::Value(ValueWithSpan::from(Value::Placeholder(text.into())))
    }

    #[test]
    fn numbers_are_kept() {
        let mut params = Params::default();
        let mut second = placeholder("$2");
        assert_eq!(params.rewrite(&mut second), Ok(Some(2)));
        assert_eq!(second.to_string(), "?2");
        params.set(2, PgType::INT4);
        params.set(2, PgType::TEXT);
        assert_eq!(params.finish(), vec![PgType::TEXT, PgType::INT4]);
    }

    #[test]
    fn rejects_malformed_numbers() {
        let mut params = Params::default();
        assert!(params.rewrite(&mut placeholder("$0")).is_err());
        assert!(params.rewrite(&mut placeholder("?")).is_err());
        assert_eq!(params.rewrite(&mut Expr::value(Value::Null)), Ok(None));
    }
}
