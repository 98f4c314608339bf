//! Exact `numeric` arithmetic on the stored text: `pg_numeric(op, a, b)`
//! for `+ - * / %`, the aggregates `pg_numeric_sum(x)` and
//! `pg_numeric_avg(x)` (PostgreSQL's `sum(numeric)`, `sum(bigint)`,
//! `avg` of integers and numerics; also window functions, which SQLite
//! runs with an inverse step), and the `pg_numeric` collation that
//! orders `numeric` columns by value.

use std::cmp::Ordering;

use rusqlite::functions::{Aggregate, Context as FnContext, WindowAggregate};
use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::{deterministic, user_error};
use crate::error::Error;
use crate::values::cast::to_numeric;
use crate::values::numeric::Numeric;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_numeric", 3, deterministic(), |ctx| {
        let op: String = ctx.get(0)?;
        let (Some(a), Some(b)) = (numeric_arg(ctx, 1)?, numeric_arg(ctx, 2)?) else {
            return Ok(None);
        };
        let result = match op.as_str() {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            "/" => a.checked_div(b),
            "%" => a.checked_rem(b),
            other => Err(Error::UndefinedOperator(format!("numeric {other} numeric"))),
        };
        result.map(|n| Some(n.to_string())).map_err(user_error)
    })?;
    conn.create_window_function(
        "pg_numeric_sum",
        1,
        deterministic(),
        NumericAggregate { average: false },
    )?;
    conn.create_window_function(
        "pg_numeric_avg",
        1,
        deterministic(),
        NumericAggregate { average: true },
    )?;
    conn.create_collation("pg_numeric", compare)
}

pub(super) fn numeric_arg(ctx: &FnContext<'_>, index: usize) -> Result<Option<Numeric>> {
    match ctx.get::<Value>(index)? {
        Value::Null => Ok(None),
        value => to_numeric(value, None).map(Some).map_err(user_error),
    }
}

/// Orders two stored numerics by value; text that is not a number sorts
/// after every number, by bytes.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    match (Numeric::parse(a), Numeric::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp_value(y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

struct NumericAggregate {
    average: bool,
}

impl Aggregate<(Numeric, i64), Option<String>> for NumericAggregate {
    fn init(&self, _: &mut FnContext<'_>) -> Result<(Numeric, i64)> {
        Ok((Numeric::from_i64(0), 0))
    }

    fn step(&self, ctx: &mut FnContext<'_>, acc: &mut (Numeric, i64)) -> Result<()> {
        if let Some(value) = numeric_arg(ctx, 0)? {
            acc.0 = acc.0.checked_add(value).map_err(user_error)?;
            acc.1 += 1;
        }
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut FnContext<'_>,
        acc: Option<(Numeric, i64)>,
    ) -> Result<Option<String>> {
        self.value(acc.as_ref())
    }
}

impl WindowAggregate<(Numeric, i64), Option<String>> for NumericAggregate {
    fn value(&self, acc: Option<&mut (Numeric, i64)>) -> Result<Option<String>> {
        NumericAggregate::value(self, acc.map(|acc| &*acc))
    }

    fn inverse(&self, ctx: &mut FnContext<'_>, acc: &mut (Numeric, i64)) -> Result<()> {
        if let Some(value) = numeric_arg(ctx, 0)? {
            acc.0 = acc.0.checked_sub(value).map_err(user_error)?;
            acc.1 -= 1;
        }
        Ok(())
    }
}

impl NumericAggregate {
    fn value(&self, acc: Option<&(Numeric, i64)>) -> Result<Option<String>> {
        let Some(&(sum, count)) = acc.filter(|(_, count)| *count > 0) else {
            return Ok(None);
        };
        let result = if self.average {
            sum.checked_div(Numeric::from_i64(count))
                .map_err(user_error)?
        } else {
            sum
        };
        Ok(Some(result.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_and_collation_follow_postgres() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        conn.execute_batch(
            "CREATE TABLE t (x TEXT COLLATE pg_numeric); INSERT INTO t VALUES ('9.90'), ('10.00'), ('1.5');",
        )
        .expect("setup");
        // SELECT sum(x), avg(x) FROM (VALUES (9.90), (10.00), (1.5)) t(x) → 21.40, 7.1333333333333333
        let (sum, avg): (String, String) = conn
            .query_row(
                "SELECT pg_numeric_sum(x), pg_numeric_avg(x) FROM t",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("aggregate");
        assert_eq!(
            (sum.as_str(), avg.as_str()),
            ("21.40", "7.1333333333333333")
        );
        let ordered: Vec<String> = conn
            .prepare("SELECT x FROM t WHERE x > 2 ORDER BY x")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("ordered");
        assert_eq!(ordered, ["9.90", "10.00"]);
        let equal: i64 = conn
            .query_row("SELECT count(*) FROM t WHERE x = 9.9", [], |r| r.get(0))
            .expect("eq");
        assert_eq!(equal, 1);
        let product: String = conn
            .query_row(
                "SELECT pg_numeric('*', x, 2) FROM t WHERE x = '1.5'",
                [],
                |r| r.get(0),
            )
            .expect("mul");
        assert_eq!(product, "3.0");
        let empty: Option<String> = conn
            .query_row("SELECT pg_numeric_sum(x) FROM t WHERE 0", [], |r| r.get(0))
            .expect("empty");
        assert_eq!(empty, None);
        // SELECT sum(x) OVER w, avg(x) OVER w FROM (VALUES (9.90), (10.00), (1.5)) t(x)
        //   WINDOW w AS (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
        let moving: Vec<(String, String)> = conn
            .prepare(
                "SELECT pg_numeric_sum(x) OVER w, pg_numeric_avg(x) OVER w FROM t \
                 WINDOW w AS (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("window");
        let expected = [
            ("1.5", "1.50000000000000000000"),
            ("11.40", "5.7000000000000000"),
            ("19.90", "9.9500000000000000"),
        ];
        assert_eq!(
            moving,
            expected.map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }
}
