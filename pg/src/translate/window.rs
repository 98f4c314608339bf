//! Window functions: `OVER (PARTITION BY … ORDER BY … frame)`, `OVER w`
//! and `WINDOW w AS (…)`, which SQLite runs natively; the window-only
//! functions (`row_number`, `rank`, `lag`, …) with PostgreSQL's result
//! types. Aggregates over a window are typed as the aggregates are.

use sqlparser::ast::{
    Expr, NamedWindowDefinition, NamedWindowExpr, WindowFrameBound, WindowFrameUnits, WindowSpec,
    WindowType,
};

use super::coerce::CastKind;
use super::context::{Translator, Ty};
use super::query::sort_key;
use crate::error::Error;
use crate::types::PgType;

/// PostgreSQL's window functions that are not aggregates.
pub(crate) fn is_window_function(name: &str) -> bool {
    matches!(
        name,
        "row_number"
            | "rank"
            | "dense_rank"
            | "percent_rank"
            | "cume_dist"
            | "ntile"
            | "lag"
            | "lead"
            | "first_value"
            | "last_value"
            | "nth_value"
    )
}

impl Translator<'_> {
    /// Translates an `OVER` clause.
    pub(crate) fn over(&mut self, over: &mut WindowType) -> Result<(), Error> {
        match over {
            WindowType::WindowSpec(spec) => self.window_spec(spec),
            WindowType::NamedWindow(_) => Ok(()),
        }
    }

    /// Translates a `SELECT`'s `WINDOW` definitions.
    pub(crate) fn named_windows(
        &mut self,
        windows: &mut [NamedWindowDefinition],
    ) -> Result<(), Error> {
        for NamedWindowDefinition(_, window) in windows {
            if let NamedWindowExpr::WindowSpec(spec) = window {
                self.window_spec(spec)?;
            }
        }
        Ok(())
    }

    fn window_spec(&mut self, spec: &mut WindowSpec) -> Result<(), Error> {
        for expr in &mut spec.partition_by {
            let ty = self.expr(expr)?;
            sort_key(expr, ty)?;
        }
        for item in &mut spec.order_by {
            self.order_by_item(item, &Vec::new())?;
        }
        let Some(frame) = &mut spec.window_frame else {
            return Ok(());
        };
        for bound in std::iter::once(&mut frame.start_bound).chain(frame.end_bound.as_mut()) {
            let (WindowFrameBound::Preceding(Some(offset))
            | WindowFrameBound::Following(Some(offset))) = bound
            else {
                continue;
            };
            if frame.units == WindowFrameUnits::Range {
                // SQLite adds the offset to the stored value, which is
                // not the value for numeric text, dates or intervals
                return Err(Error::Unsupported(
                    "RANGE with offset PRECEDING/FOLLOWING".into(),
                ));
            }
            let ty = self.expr(offset)?;
            self.coerce(offset, ty, PgType::INT8, CastKind::Implicit)?;
        }
        Ok(())
    }

    /// Types a window-only function's call and coerces its arguments.
    /// `windowed` says whether it has an `OVER` clause.
    pub(crate) fn window_function(
        &mut self,
        name: &str,
        windowed: bool,
        mut args: Vec<&mut Expr>,
        types: Vec<Ty>,
    ) -> Result<Ty, Error> {
        if !windowed {
            return Err(Error::WrongObjectType(format!(
                "window function {name} requires an OVER clause"
            )));
        }
        let wrong = || {
            let shown: Vec<String> = types
                .iter()
                .map(|t| t.known().map_or("unknown".into(), |t| t.to_string()))
                .collect();
            Error::UndefinedFunction(format!("{name}({})", shown.join(", ")))
        };
        let value = types.first().copied().unwrap_or(Ty::Unknown);
        let ty = match (name, args.len()) {
            ("row_number" | "rank" | "dense_rank", 0) => PgType::INT8,
            ("percent_rank" | "cume_dist", 0) => PgType::FLOAT8,
            ("ntile", 1) => {
                self.coerce(args[0], value, PgType::INT4, CastKind::Implicit)?;
                PgType::INT4
            }
            ("first_value" | "last_value", 1) => value.or_text(),
            ("nth_value", 2) => {
                self.coerce(args[1], types[1], PgType::INT4, CastKind::Implicit)?;
                value.or_text()
            }
            ("lag" | "lead", 1..=3) => {
                if let Some(offset) = args.get_mut(1) {
                    self.coerce(offset, types[1], PgType::INT4, CastKind::Implicit)?;
                }
                if args.len() == 3 {
                    // lag(anycompatible, integer, anycompatible)
                    let default = args.pop().ok_or_else(wrong)?;
                    let value_arg = args.swap_remove(0);
                    return self.unify_typed(vec![value_arg, default], vec![value, types[2]], name);
                }
                value.or_text()
            }
            _ => return Err(wrong()),
        };
        Ok(Ty::Known(ty))
    }
}
