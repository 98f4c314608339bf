//! The SQL entry points, recognised in a statement's text:
//!
//! - `SELECT * FROM patina_subscribe('<a SELECT>')`: the query must be a
//!   literal (its result columns are the statement's, which Describe must
//!   know before any parameter is bound);
//! - `SELECT * FROM patina_resume('<id>', <last change id seen>)`: either
//!   argument may be a literal or a parameter (`$1`).

use rusqlite::types::Value;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, SelectItem, SetExpr, Statement, TableFactor, UnaryOperator,
    Value as Literal,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::super::errors::PgError;
use crate::translate::fold_identifier;
use crate::types::PgType;

/// An argument: a literal, or the statement's parameter (0-based).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Literal(Value),
    Param(usize),
}

impl Arg {
    /// The argument's value with the statement's bound `params`.
    pub fn value(&self, params: &[Value]) -> Value {
        match self {
            Arg::Literal(value) => value.clone(),
            Arg::Param(index) => params.get(*index).cloned().unwrap_or(Value::Null),
        }
    }
}

/// A call of one of the entry points.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    Subscribe(String),
    Resume { id: Arg, last: Arg },
}

/// `None` unless `sql` selects from `patina_subscribe` or `patina_resume`;
/// then the call, or why it is not one patina can run.
pub(crate) fn parse(sql: &str) -> Option<Result<Call, PgError>> {
    let lower = sql.to_ascii_lowercase();
    if !lower.trim_start().starts_with("select")
        || !(lower.contains("patina_subscribe") || lower.contains("patina_resume"))
    {
        return None;
    }
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    let Some(Statement::Query(query)) = statements.pop() else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let [from] = select.from.as_slice() else {
        return None;
    };
    let TableFactor::Table {
        name,
        args: Some(args),
        ..
    } = &from.relation
    else {
        return None;
    };
    let function = name
        .0
        .last()
        .and_then(|part| part.as_ident())
        .map(fold_identifier)
        .unwrap_or_default();
    if function != "patina_subscribe" && function != "patina_resume" {
        return None;
    }
    let plain = statements.is_empty()
        && from.joins.is_empty()
        && matches!(select.projection.as_slice(), [SelectItem::Wildcard(_)])
        && select.selection.is_none()
        && query.order_by.is_none()
        && query.limit_clause.is_none();
    if !plain {
        return Some(Err(PgError::new(
            "0A000",
            format!("{function} is called as SELECT * FROM {function}(…), alone"),
        )));
    }
    let args: Vec<Option<Arg>> = args.args.iter().map(argument).collect();
    Some(match (function.as_str(), args.as_slice()) {
        ("patina_subscribe", [Some(Arg::Literal(Value::Text(query)))]) => {
            Ok(Call::Subscribe(query.clone()))
        }
        ("patina_subscribe", [Some(Arg::Param(_))]) => Err(PgError::new(
            "0A000",
            "the query of patina_subscribe must be a string literal, not a parameter: \
             its result columns are the statement's",
        )),
        ("patina_resume", [Some(id), Some(last)]) => Ok(Call::Resume {
            id: id.clone(),
            last: last.clone(),
        }),
        _ => Err(PgError::new(
            "42883",
            format!(
                "function {function} takes {}",
                if function == "patina_subscribe" {
                    "one text argument: the query"
                } else {
                    "two arguments: the subscription id and the last change id seen"
                }
            ),
        )),
    })
}

fn argument(arg: &FunctionArg) -> Option<Arg> {
    let FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) = arg else {
        return None;
    };
    let (negative, expr) = match expr {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => (true, expr.as_ref()),
        other => (false, other),
    };
    let Expr::Value(value) = expr else {
        return None;
    };
    match &value.value {
        Literal::SingleQuotedString(text) if !negative => {
            Some(Arg::Literal(Value::Text(text.clone())))
        }
        Literal::DollarQuotedString(text) if !negative => {
            Some(Arg::Literal(Value::Text(text.value.clone())))
        }
        Literal::Number(number, _) => {
            let parsed: i64 = number.parse().ok()?;
            Some(Arg::Literal(Value::Integer(if negative {
                -parsed
            } else {
                parsed
            })))
        }
        Literal::Placeholder(name) if !negative => {
            let index: usize = name.strip_prefix('$')?.parse().ok()?;
            Some(Arg::Param(index.checked_sub(1)?))
        }
        _ => None,
    }
}

/// The parameter types a call takes, for Describe: those the client
/// declared (`given`), else text for `patina_resume`'s id and int8 for its
/// change id.
pub(crate) fn params(call: &Call, given: &[Option<PgType>]) -> Vec<PgType> {
    let Call::Resume { id, last } = call else {
        return Vec::new();
    };
    let mut types: Vec<PgType> = Vec::new();
    for (arg, ty) in [(id, PgType::TEXT), (last, PgType::INT8)] {
        if let Arg::Param(index) = arg {
            if types.len() <= *index {
                types.resize(index + 1, PgType::TEXT);
            }
            types[*index] = given.get(*index).copied().flatten().unwrap_or(ty);
        }
    }
    types
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(sql: &str) -> Call {
        parse(sql).expect("an entry point").expect("valid")
    }

    #[test]
    fn recognises_the_entry_points() {
        assert_eq!(parse("SELECT 1"), None);
        assert_eq!(parse("SELECT * FROM patina_subscribed"), None);
        assert_eq!(
            call("select * from patina_subscribe('SELECT id FROM t WHERE x = ''a''')"),
            Call::Subscribe("SELECT id FROM t WHERE x = 'a'".into())
        );
        assert_eq!(
            call("SELECT * FROM PATINA_SUBSCRIBE($$SELECT 1$$)"),
            Call::Subscribe("SELECT 1".into())
        );
        assert_eq!(
            call("SELECT * FROM patina_resume('abc', 12)"),
            Call::Resume {
                id: Arg::Literal(Value::Text("abc".into())),
                last: Arg::Literal(Value::Integer(12)),
            }
        );
        let resume = call("SELECT * FROM patina_resume($2, $1)");
        assert_eq!(params(&resume, &[]), vec![PgType::INT8, PgType::TEXT]);
        assert_eq!(
            params(&resume, &[Some(PgType::INT2)]),
            vec![PgType::INT2, PgType::TEXT]
        );
        let parameter = parse("SELECT * FROM patina_subscribe($1)")
            .unwrap()
            .unwrap_err();
        assert_eq!(parameter.code, "0A000");
        let shape = parse("SELECT id FROM patina_subscribe('SELECT 1')")
            .unwrap()
            .unwrap_err();
        assert_eq!(shape.code, "0A000");
        let arity = parse("SELECT * FROM patina_resume('x')")
            .unwrap()
            .unwrap_err();
        assert_eq!(arity.code, "42883");
    }
}
