//! Arithmetic that SQLite does differently: `pg_div(a, b)` and `pg_mod(a,
//! b)` fail on a zero divisor (SQLite returns NULL) and on the one
//! overflowing integer quotient; `pg_float_arith(op, a, b)` is `+`, `-` or
//! `*` on floats that may be a stored NaN (text, which SQLite would read
//! as 0); the math functions SQLite may lack
//! (`pg_ceil`, `pg_floor`, `pg_trunc`, `pg_sign`, `pg_sqrt`, `pg_power` on
//! floats, `pg_numeric_ceil`, `_floor`, `_trunc`, `_sign` on stored
//! numerics); plus `pg_gen_random_uuid()` and `pg_sleep(seconds)`.

use rusqlite::functions::Context;
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::{deterministic, user_error, volatile};
use crate::error::Error;
use crate::types::PgType;
use crate::values::cast::{stored_float, to_float, to_numeric};
use crate::values::numeric::Numeric;

/// A function of one argument and its SQLite name.
type Named<T> = (&'static str, fn(T) -> T);

/// `double precision` functions of one argument.
const FLOAT_FUNCTIONS: [Named<f64>; 5] = [
    ("pg_ceil", f64::ceil),
    ("pg_floor", f64::floor),
    ("pg_trunc", f64::trunc),
    ("pg_sign", sign),
    ("pg_sqrt", f64::sqrt),
];

/// `numeric` functions of one argument, on the stored text.
const NUMERIC_FUNCTIONS: [Named<Numeric>; 4] = [
    ("pg_numeric_ceil", Numeric::ceil),
    ("pg_numeric_floor", Numeric::floor),
    ("pg_numeric_trunc", Numeric::trunc),
    ("pg_numeric_sign", Numeric::signum),
];

fn sign(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.signum() }
}

/// A float argument: NULL, a number, or a stored NaN (text).
fn float_arg(ctx: &Context<'_>, i: usize) -> Result<Option<f64>> {
    match ctx.get::<Value>(i)? {
        Value::Null => Ok(None),
        value => to_float(value, Some(PgType::FLOAT8))
            .map(Some)
            .map_err(user_error),
    }
}

pub(super) fn register(conn: &Connection) -> Result<()> {
    for (name, f) in FLOAT_FUNCTIONS {
        conn.create_scalar_function(name, 1, deterministic(), move |ctx| {
            let Some(x) = float_arg(ctx, 0)? else {
                return Ok(Value::Null);
            };
            if name == "pg_sqrt" && x < 0.0 {
                return Err(user_error(Error::InvalidArgument(
                    "cannot take square root of a negative number".into(),
                )));
            }
            Ok(stored_float(f(x)))
        })?;
    }
    for (name, f) in NUMERIC_FUNCTIONS {
        conn.create_scalar_function(name, 1, deterministic(), move |ctx| {
            match ctx.get::<Value>(0)? {
                Value::Null => Ok(None),
                value => to_numeric(value, None)
                    .map(|n| Some(f(n).to_string()))
                    .map_err(user_error),
            }
        })?;
    }
    conn.create_scalar_function("pg_power", 2, deterministic(), |ctx| {
        let (Some(x), Some(y)) = (float_arg(ctx, 0)?, float_arg(ctx, 1)?) else {
            return Ok(Value::Null);
        };
        if x == 0.0 && y < 0.0 {
            return Err(user_error(Error::InvalidArgument(
                "zero raised to a negative power is undefined".into(),
            )));
        }
        Ok(stored_float(x.powf(y)))
    })?;
    conn.create_scalar_function("pg_float_arith", 3, deterministic(), |ctx| {
        let op = ctx.get::<String>(0)?;
        let (Some(x), Some(y)) = (float_arg(ctx, 1)?, float_arg(ctx, 2)?) else {
            return Ok(Value::Null);
        };
        Ok(stored_float(match op.as_str() {
            "+" => x + y,
            "-" => x - y,
            _ => x * y,
        }))
    })?;
    conn.create_scalar_function("pg_div", 2, deterministic(), |ctx| {
        arith(ctx.get(0)?, ctx.get(1)?, false).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_mod", 2, deterministic(), |ctx| {
        arith(ctx.get(0)?, ctx.get(1)?, true).map_err(user_error)
    })?;
    conn.create_scalar_function("pg_gen_random_uuid", 0, volatile(), |_| {
        Ok(uuid::Uuid::new_v4().hyphenated().to_string())
    })?;
    conn.create_scalar_function("pg_sleep", 1, volatile(), |ctx| {
        let seconds: f64 = ctx.get::<Option<f64>>(0)?.unwrap_or(0.0);
        if seconds > 0.0 && seconds.is_finite() {
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds));
        }
        Ok(String::new())
    })
}

fn arith(a: Value, b: Value, modulo: bool) -> std::result::Result<Value, Error> {
    match (&a, &b) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        (Value::Integer(x), Value::Integer(y)) => {
            if *y == 0 {
                return Err(Error::DivisionByZero);
            }
            let result = if modulo {
                x.checked_rem(*y).or(Some(0))
            } else {
                x.checked_div(*y)
            };
            result
                .map(Value::Integer)
                .ok_or_else(|| Error::OutOfRange("bigint".into()))
        }
        _ => {
            let (x, y) = (
                to_float(a, Some(PgType::FLOAT8))?,
                to_float(b, Some(PgType::FLOAT8))?,
            );
            if y == 0.0 {
                return Err(Error::DivisionByZero);
            }
            Ok(stored_float(if modulo { x % y } else { x / y }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_follows_postgres() {
        // SELECT 7 / 2, -7 / 2, 7 % -2, 7.0::float8 / 2 → 3, -3, 1, 3.5
        assert_eq!(
            arith(Value::Integer(7), Value::Integer(2), false),
            Ok(Value::Integer(3))
        );
        assert_eq!(
            arith(Value::Integer(-7), Value::Integer(2), false),
            Ok(Value::Integer(-3))
        );
        assert_eq!(
            arith(Value::Integer(7), Value::Integer(-2), true),
            Ok(Value::Integer(1))
        );
        assert_eq!(
            arith(Value::Real(7.0), Value::Integer(2), false),
            Ok(Value::Real(3.5))
        );
        assert_eq!(
            arith(Value::Integer(1), Value::Integer(0), false),
            Err(Error::DivisionByZero)
        );
        assert_eq!(
            arith(Value::Real(1.0), Value::Real(0.0), true),
            Err(Error::DivisionByZero)
        );
        assert_eq!(
            arith(Value::Integer(i64::MIN), Value::Integer(-1), true),
            Ok(Value::Integer(0))
        );
        assert!(arith(Value::Integer(i64::MIN), Value::Integer(-1), false).is_err());
        // SELECT 'NaN'::float8 / 2 → NaN
        assert_eq!(
            arith(Value::Text("NaN".into()), Value::Real(2.0), false),
            Ok(Value::Text("NaN".into()))
        );
    }

    #[test]
    fn floats_keep_nan() {
        // SELECT 'NaN'::float8 + 1, sqrt('NaN'::float8), 'Infinity'::float8 - 'Infinity'
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let row: (String, String, String, f64) = conn
            .query_row(
                "SELECT pg_float_arith('+', 'NaN', 1), pg_sqrt('NaN'), \
                 pg_float_arith('-', 9e999, 9e999), pg_float_arith('*', 1.5, 2)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("query");
        assert_eq!(row, ("NaN".into(), "NaN".into(), "NaN".into(), 3.0));
    }

    #[test]
    fn uuids_are_random_v4() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let (a, b): (String, String) = conn
            .query_row(
                "SELECT pg_gen_random_uuid(), pg_gen_random_uuid()",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("query");
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
    }
}
