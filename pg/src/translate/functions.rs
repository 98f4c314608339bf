//! Function calls: each supported PostgreSQL function, its result type by
//! PostgreSQL's rules, and its SQLite form. An unknown name is 42883, as
//! in PostgreSQL; a known one patina cannot run faithfully is 0A000.

use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments,
};

use super::coerce::{CastKind, literal, number_rank};
use super::context::{Translator, Ty, call, nested, number, string, take, type_name};
use super::grouping::is_aggregate;
use super::names::{fold, unqualified};
use super::operators::{Comparison, comparison, numeric_collation};
use super::window::is_window_function;
use crate::error::Error;
use crate::types::{PgType, Scalar};

/// The arguments of a call: `*`, or expressions.
enum Args<'a> {
    Star,
    List(Vec<&'a mut Expr>),
}

fn arguments(function: &mut Function) -> Result<(Args<'_>, bool), Error> {
    let name = function.name.to_string();
    let list = match &mut function.args {
        FunctionArguments::None => return Ok((Args::List(vec![]), false)),
        FunctionArguments::Subquery(_) => {
            return Err(Error::Unsupported(format!("subquery argument to {name}")));
        }
        FunctionArguments::List(list) => list,
    };
    if list
        .clauses
        .iter()
        .any(|c| !matches!(c, FunctionArgumentClause::OrderBy(_)))
    {
        return Err(Error::Unsupported(format!("clauses inside {name}(…)")));
    }
    let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
    if let [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] = list.args.as_slice() {
        return Ok((Args::Star, distinct));
    }
    let mut exprs = Vec::with_capacity(list.args.len());
    for arg in &mut list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => exprs.push(expr),
            _ => return Err(Error::Unsupported(format!("argument form in {name}(…)"))),
        }
    }
    Ok((Args::List(exprs), distinct))
}

fn is_numeric(ty: PgType) -> bool {
    !ty.is_array() && matches!(ty.scalar(), Scalar::Numeric(_))
}

/// Renames the function in place, keeping its arguments.
fn rename(function: &mut Function, name: &str) {
    function.name = super::names::object_name(sqlparser::ast::Ident::new(name));
}

impl Translator<'_> {
    /// Rewrites a function call and returns its type.
    pub(crate) fn function(&mut self, expr: &mut Expr) -> Result<Ty, Error> {
        if let Some(ty) = self.set_returning_call(expr)? {
            return Ok(ty);
        }
        let Expr::Function(function) = expr else {
            return Err(Error::Unsupported(format!("expression {expr}")));
        };
        if function.uses_odbc_syntax
            || !matches!(function.parameters, FunctionArguments::None)
            || !function.within_group.is_empty()
            || function.null_treatment.is_some()
        {
            return Err(Error::Unsupported(format!("function call {function}")));
        }
        let name = fold(&unqualified(&function.name)?);
        let aggregate = is_aggregate(&name);
        let window_only = is_window_function(&name);
        let windowed = function.over.is_some();
        if let Some(over) = &mut function.over {
            if !aggregate && !window_only {
                return Err(Error::WrongObjectType(format!(
                    "OVER specified, but {name} is not a window function nor an aggregate function"
                )));
            }
            self.over(over)?;
        }
        if let Some(filter) = &mut function.filter {
            self.condition(filter)?;
        }
        if function.filter.is_some() && !aggregate {
            return Err(Error::Syntax(format!(
                "FILTER specified, but {name} is not an aggregate function"
            )));
        }
        if let FunctionArguments::List(list) = &mut function.args {
            for clause in &mut list.clauses {
                if let FunctionArgumentClause::OrderBy(items) = clause {
                    if !aggregate {
                        return Err(Error::Syntax(format!(
                            "ORDER BY specified, but {name} is not an aggregate function"
                        )));
                    }
                    for item in items {
                        self.order_by_item(item, &Vec::new())?;
                    }
                }
            }
        }
        if windowed
            && let FunctionArguments::List(list) = &function.args
            && (list.duplicate_treatment.is_some() || !list.clauses.is_empty())
        {
            return Err(Error::Unsupported(
                "DISTINCT or ORDER BY in an aggregate over a window".into(),
            ));
        }
        if name == "array"
            && let FunctionArguments::Subquery(query) = &mut function.args
        {
            let (array, ty) = self.array_subquery(query)?;
            *expr = array;
            return Ok(Ty::Known(ty));
        }
        let (args, distinct) = arguments(function)?;
        if distinct && !aggregate {
            return Err(Error::Syntax(format!(
                "DISTINCT specified, but {name} is not an aggregate function"
            )));
        }
        let mut args = match args {
            Args::Star if name == "count" => return Ok(Ty::Known(PgType::INT8)),
            Args::Star => return Err(Error::Syntax(format!("{name}(*) must be count(*)"))),
            Args::List(args) => args,
        };
        let arity = args.len();
        if matches!(name.as_str(), "substr" | "substring") && matches!(arity, 2 | 3) {
            let mut owned: Vec<Expr> = args.into_iter().map(take).collect();
            let substring_for = (owned.len() == 3).then(|| Box::new(owned.remove(2)));
            let substring_from = Some(Box::new(owned.remove(1)));
            *expr = Expr::Substring {
                expr: Box::new(owned.remove(0)),
                substring_from,
                substring_for,
                special: true,
                shorthand: false,
            };
            return self.expr(expr);
        }
        if name == "mod" && arity == 2 {
            let mut owned: Vec<Expr> = args.into_iter().map(take).collect();
            let right = owned.remove(1);
            *expr = Expr::BinaryOp {
                left: Box::new(nested(owned.remove(0))),
                op: BinaryOperator::Modulo,
                right: Box::new(nested(right)),
            };
            return self.expr(expr);
        }
        if arity == 0
            && let Some((value, ty)) = self.session_information(&name)
        {
            *expr = string(value);
            return Ok(Ty::Known(ty));
        }
        if let Some((value, ty)) = self.session_function(&name, &args)? {
            *expr = value;
            return Ok(Ty::Known(ty));
        }
        if let Some((value, ty)) = self.catalog_lookup(&name, &mut args)? {
            *expr = value;
            return Ok(Ty::Known(ty));
        }
        let wrong_arity = || Error::UndefinedFunction(format!("{name} with {arity} arguments"));
        let mut types = Vec::with_capacity(arity);
        for arg in args.iter_mut() {
            types.push(self.expr(arg)?);
        }
        if window_only {
            return self.window_function(&name, windowed, args, types);
        }
        let first = types.first().copied().unwrap_or(Ty::Unknown);
        let ty = match (name.as_str(), arity) {
            ("count", 1) => PgType::INT8,
            ("sum", 1) => match first.known() {
                Some(t) if matches!(t.scalar(), Scalar::Int2 | Scalar::Int4) && !t.is_array() => {
                    PgType::INT8
                }
                Some(t) if t == PgType::INT8 || is_numeric(t) => {
                    rename(function, "pg_numeric_sum");
                    PgType::NUMERIC
                }
                Some(t)
                    if matches!(t.scalar(), Scalar::Float4 | Scalar::Float8) && !t.is_array() =>
                {
                    t
                }
                other => {
                    return Err(Error::UndefinedFunction(format!(
                        "sum({})",
                        other.map_or("unknown".into(), |t| t.to_string())
                    )));
                }
            },
            ("avg", 1) => match first.known() {
                Some(t) if t.is_integer() || is_numeric(t) => {
                    rename(function, "pg_numeric_avg");
                    PgType::NUMERIC
                }
                Some(t)
                    if matches!(t.scalar(), Scalar::Float4 | Scalar::Float8) && !t.is_array() =>
                {
                    PgType::FLOAT8
                }
                other => {
                    return Err(Error::UndefinedFunction(format!(
                        "avg({})",
                        other.map_or("unknown".into(), |t| t.to_string())
                    )));
                }
            },
            ("min" | "max", 1) => {
                let t = first
                    .known()
                    .ok_or_else(|| Error::UndefinedFunction(format!("{name}(unknown)")))?;
                if t == PgType::BOOL
                    || t.is_array()
                    || matches!(t.scalar(), Scalar::Json | Scalar::Interval)
                {
                    return Err(Error::UndefinedFunction(format!("{name}({t})")));
                }
                if is_numeric(t)
                    && let Some(arg) = args.pop()
                {
                    *arg = numeric_collation(take(arg));
                }
                // there is no min(varchar): PostgreSQL applies min(text)
                if matches!(t.scalar(), Scalar::Varchar(_)) {
                    PgType::TEXT
                } else {
                    t.without_modifier()
                }
            }
            ("bool_and" | "every" | "bool_or", 1) => {
                let arg = args.pop().ok_or_else(wrong_arity)?;
                self.coerce(arg, first, PgType::BOOL, CastKind::Implicit)?;
                rename(function, if name == "bool_or" { "max" } else { "min" });
                PgType::BOOL
            }
            ("string_agg", 2) => {
                for (arg, ty) in args.iter_mut().zip(types.iter()) {
                    self.coerce(arg, *ty, PgType::TEXT, CastKind::Implicit)?;
                }
                rename(function, "group_concat");
                PgType::TEXT
            }
            ("array_agg", 1) => {
                let t = first.or_text();
                if t.is_array() {
                    return Err(Error::Unsupported("array_agg of arrays".into()));
                }
                rename(function, "json_group_array");
                t.array_of()
            }
            ("coalesce", _) if arity > 0 => {
                let ty = self.unify_typed(args, types, "COALESCE")?;
                return Ok(ty);
            }
            ("greatest" | "least", _) if arity > 0 => {
                let ty = self
                    .unify_typed(args, types, &name.to_uppercase())?
                    .or_text();
                if matches!(
                    comparison(ty),
                    Comparison::Interval | Comparison::EqualityOnly
                ) {
                    return Err(Error::Unsupported(format!("{name} of {ty}")));
                }
                let Expr::Function(function) = expr else {
                    return Err(Error::Unsupported(name));
                };
                let FunctionArguments::List(list) = &mut function.args else {
                    return Err(Error::Unsupported(name));
                };
                let values: Vec<Expr> = list
                    .args
                    .drain(..)
                    .filter_map(|arg| match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                        _ => None,
                    })
                    .collect();
                // SQLite's max/min are NULL if any argument is; PostgreSQL's
                // greatest/least skip NULLs: each argument, or else the others.
                let mut rotated = Vec::with_capacity(values.len());
                for index in 0..values.len() {
                    let mut order: Vec<Expr> = values[index..].to_vec();
                    order.extend_from_slice(&values[..index]);
                    let candidate = if order.len() == 1 {
                        order.remove(0)
                    } else {
                        call("coalesce", order)
                    };
                    rotated.push(if is_numeric(ty) {
                        numeric_collation(candidate)
                    } else {
                        candidate
                    });
                }
                let function_name = if name == "greatest" { "max" } else { "min" };
                *expr = if rotated.len() == 1 {
                    rotated.remove(0)
                } else {
                    call(function_name, rotated)
                };
                return Ok(Ty::Known(ty));
            }
            ("nullif", 2) => {
                let ty = self.unify_typed(args, types, "NULLIF")?;
                return Ok(ty);
            }
            ("lower" | "upper", 1) => {
                self.string_args(&mut args, &types)?;
                rename(
                    function,
                    if name == "lower" {
                        "pg_lower"
                    } else {
                        "pg_upper"
                    },
                );
                PgType::TEXT
            }
            ("length" | "char_length" | "character_length", 1) => {
                if first.known() != Some(PgType::BYTEA) {
                    self.string_args(&mut args, &types)?;
                }
                // character(n) pads with spaces that do not count
                if first
                    .known()
                    .is_some_and(|t| matches!(t.scalar(), Scalar::Bpchar(_)) && !t.is_array())
                    && let Some(arg) = args.pop()
                {
                    *arg = call("rtrim", vec![take(arg), string(" ")]);
                }
                rename(function, "length");
                PgType::INT4
            }
            ("octet_length", 1) => {
                self.string_args(&mut args, &types)?;
                let arg = args.pop().ok_or_else(wrong_arity)?;
                let blob = Expr::Cast {
                    kind: sqlparser::ast::CastKind::Cast,
                    expr: Box::new(take(arg)),
                    data_type: sqlparser::ast::DataType::Blob(None),
                    format: None,
                };
                *expr = call("length", vec![blob]);
                return Ok(Ty::Known(PgType::INT4));
            }
            ("replace", 3) | ("btrim" | "ltrim" | "rtrim", 1 | 2) => {
                self.string_args(&mut args, &types)?;
                if name == "btrim" {
                    rename(function, "trim");
                }
                PgType::TEXT
            }
            ("strpos", 2) => {
                self.string_args(&mut args, &types)?;
                rename(function, "instr");
                PgType::INT4
            }
            ("concat" | "concat_ws", _) if arity > 0 => {
                for (arg, ty) in args.iter_mut().zip(types.iter()) {
                    self.output_text(arg, *ty)?;
                }
                PgType::TEXT
            }
            ("abs", 1) => match first.known() {
                Some(t) if number_rank(t).is_some() && !is_numeric(t) => t,
                _ => return Err(Error::Unsupported(format!("abs({})", first.or_text()))),
            },
            ("round", 1 | 2) => {
                let scale = match args.get(1).and_then(|a| literal(a)) {
                    Some((rusqlite::types::Value::Integer(s), _)) if (0..=38).contains(&s) => s,
                    None if arity == 1 => 0,
                    _ => {
                        return Err(Error::Unsupported(
                            "round with a non-constant or negative scale".into(),
                        ));
                    }
                };
                match first.known() {
                    Some(t) if t.is_integer() || is_numeric(t) => {}
                    _ => return Err(Error::Unsupported(format!("round({})", first.or_text()))),
                }
                let value = take(args.swap_remove(0));
                *expr = call(
                    "pg_cast",
                    vec![
                        value,
                        type_name(first.or_text()),
                        string(format!("numeric(1000,{scale})")),
                    ],
                );
                return Ok(Ty::Known(PgType::NUMERIC));
            }
            ("random", 0) => {
                // 53 random bits scaled into [0, 1), as PostgreSQL's double precision result
                let bits = Expr::BinaryOp {
                    left: Box::new(nested(Expr::BinaryOp {
                        left: Box::new(call("random", vec![])),
                        op: BinaryOperator::PGBitwiseShiftRight,
                        right: Box::new(number(11)),
                    })),
                    op: BinaryOperator::BitwiseAnd,
                    right: Box::new(number(9_007_199_254_740_991_i64)),
                };
                *expr = nested(Expr::BinaryOp {
                    left: Box::new(nested(bits)),
                    op: BinaryOperator::Divide,
                    right: Box::new(number("9007199254740992.0")),
                });
                return Ok(Ty::Known(PgType::FLOAT8));
            }
            ("now" | "transaction_timestamp" | "current_timestamp", 0) => {
                *expr = call("pg_now", vec![type_name(PgType::TIMESTAMPTZ)]);
                return Ok(Ty::Known(PgType::TIMESTAMPTZ));
            }
            ("current_date", 0) => {
                *expr = call("pg_now", vec![type_name(PgType::DATE)]);
                return Ok(Ty::Known(PgType::DATE));
            }
            ("localtimestamp", 0) => {
                *expr = call("pg_now", vec![type_name(PgType::TIMESTAMP)]);
                return Ok(Ty::Known(PgType::TIMESTAMP));
            }
            ("clock_timestamp", 0) => {
                *expr = call("pg_clock_timestamp", vec![]);
                return Ok(Ty::Known(PgType::TIMESTAMPTZ));
            }
            ("gen_random_uuid", 0) => {
                *expr = call("pg_gen_random_uuid", vec![]);
                return Ok(Ty::Known(PgType::UUID));
            }
            ("pg_sleep", 1) => {
                let arg = args.pop().ok_or_else(wrong_arity)?;
                self.coerce(arg, first, PgType::FLOAT8, CastKind::Implicit)?;
                PgType::TEXT
            }
            ("date_trunc" | "date_part", 2) => {
                let (field, value) = match args.as_mut_slice() {
                    [field, value] => (field, value),
                    _ => return Err(wrong_arity()),
                };
                self.coerce(field, types[0], PgType::TEXT, CastKind::Implicit)?;
                let value_ty = match types[1] {
                    Ty::Known(t)
                        if !t.is_array()
                            && matches!(
                                t.scalar(),
                                Scalar::Date | Scalar::Timestamp | Scalar::Timestamptz
                            ) =>
                    {
                        t
                    }
                    Ty::Known(t) if t == PgType::INTERVAL && name == "date_part" => t,
                    Ty::Unknown => {
                        self.coerce(value, Ty::Unknown, PgType::TIMESTAMPTZ, CastKind::Implicit)?;
                        PgType::TIMESTAMPTZ
                    }
                    Ty::Known(t) => {
                        return Err(Error::UndefinedFunction(format!("{name}(text, {t})")));
                    }
                };
                let (field, value) = (take(field), take(value));
                if name == "date_trunc" {
                    *expr = call("pg_date_trunc", vec![field, value, type_name(value_ty)]);
                    let result = if value_ty == PgType::DATE {
                        PgType::TIMESTAMPTZ
                    } else {
                        value_ty
                    };
                    return Ok(Ty::Known(result));
                }
                *expr = call(
                    "pg_extract",
                    vec![field, value, type_name(value_ty), number(1)],
                );
                return Ok(Ty::Known(PgType::FLOAT8));
            }
            ("cardinality", 1) | ("array_length" | "array_upper" | "array_lower", 2) => {
                if !first.known().is_some_and(PgType::is_array) {
                    return Err(Error::UndefinedFunction(format!(
                        "{name}({})",
                        first.or_text()
                    )));
                }
                if arity == 2 {
                    match args.get(1).and_then(|a| literal(a)) {
                        Some((rusqlite::types::Value::Integer(1), _)) => {}
                        _ => {
                            return Err(Error::Unsupported(format!(
                                "{name} of a dimension other than 1"
                            )));
                        }
                    }
                }
                let low = first.known().map_or(1, PgType::lower_bound);
                let array = take(args.swap_remove(0));
                let length = call("json_array_length", vec![array]);
                // one dimension from lower bound 1: the upper bound is the
                // length; int2vector's bounds are one less (from 0)
                *expr = match name.as_str() {
                    "array_length" | "array_upper" => call("nullif", vec![length, number(0)]),
                    "array_lower" => call(
                        "nullif",
                        vec![call("min", vec![length, number(1)]), number(0)],
                    ),
                    _ => length,
                };
                if matches!(name.as_str(), "array_lower" | "array_upper") && low != 1 {
                    *expr = Expr::BinaryOp {
                        left: Box::new(nested(take(expr))),
                        op: BinaryOperator::Minus,
                        right: Box::new(number(1 - low)),
                    };
                }
                return Ok(Ty::Known(PgType::INT4));
            }
            _ => {
                if let Some((sqlite, result)) = self.plain_function(&name, &mut args, &types)? {
                    rename(function, sqlite);
                    return Ok(Ty::Known(result));
                }
                let owned: Vec<Expr> = args.into_iter().map(take).collect();
                if let Some(ty) = self.polymorphic_function(&name, owned, types.clone(), expr)? {
                    return Ok(ty);
                }
                let shown: Vec<String> = types
                    .iter()
                    .map(|t| t.known().map_or("unknown".into(), |t| t.to_string()))
                    .collect();
                return Err(Error::UndefinedFunction(format!(
                    "{name}({})",
                    shown.join(", ")
                )));
            }
        };
        Ok(Ty::Known(ty))
    }

    fn string_args(&mut self, args: &mut [&mut Expr], types: &[Ty]) -> Result<(), Error> {
        for (arg, ty) in args.iter_mut().zip(types) {
            match ty {
                Ty::Known(t) if t.is_string() => {}
                Ty::Known(t) => {
                    return Err(Error::UndefinedFunction(format!(
                        "for argument of type {t} where text is expected"
                    )));
                }
                Ty::Unknown => self.coerce(arg, *ty, PgType::TEXT, CastKind::Implicit)?,
            }
        }
        Ok(())
    }

    /// Unifies already-typed expressions (for `coalesce`, `nullif`, `lag`).
    pub(crate) fn unify_typed(
        &mut self,
        args: Vec<&mut Expr>,
        types: Vec<Ty>,
        what: &str,
    ) -> Result<Ty, Error> {
        let mut target: Option<PgType> = None;
        for ty in types.iter().filter_map(|t| t.known()) {
            target = Some(match target {
                Some(current) => super::operators::common_type(current, ty, what)?,
                None => ty,
            });
        }
        let target = target.unwrap_or(PgType::TEXT);
        for (arg, ty) in args.into_iter().zip(types) {
            self.coerce(arg, ty, target, CastKind::Implicit)?;
        }
        Ok(Ty::Known(target))
    }
}
