//! Plain functions: PostgreSQL overloads whose translation is one call of
//! a SQLite function on the arguments converted to the parameter types.
//! A call picks its overload as PostgreSQL's function resolution does for
//! these: the most arguments already of the parameter type, then the most
//! converted to their category's preferred type (`text`, `double
//! precision`), then the first listed.

use sqlparser::ast::Expr;

use super::coerce::{CastKind, allowed};
use super::context::{Translator, Ty};
use crate::error::Error;
use crate::types::PgType;

/// One overload: the SQLite function it runs as, or `None` when patina
/// cannot run it faithfully (0A000), so that the call does not fall back
/// on another overload with a different result.
struct Overload {
    name: &'static str,
    params: &'static [PgType],
    result: PgType,
    sqlite: Option<&'static str>,
}

const fn run(
    name: &'static str,
    params: &'static [PgType],
    result: PgType,
    sqlite: &'static str,
) -> Overload {
    Overload {
        name,
        params,
        result,
        sqlite: Some(sqlite),
    }
}

const fn refuse(name: &'static str, params: &'static [PgType], result: PgType) -> Overload {
    Overload {
        name,
        params,
        result,
        sqlite: None,
    }
}

const TEXT: PgType = PgType::TEXT;
const INT4: PgType = PgType::INT4;
const FLOAT8: PgType = PgType::FLOAT8;
const NUMERIC: PgType = PgType::NUMERIC;
const BOOL: PgType = PgType::BOOL;
const JSON: PgType = PgType::JSON;
const JSONB: PgType = PgType::JSONB;
const TEXT_ARRAY: PgType = PgType::TEXT.array_of();
const TIMESTAMP: PgType = PgType::TIMESTAMP;
const TIMESTAMPTZ: PgType = PgType::TIMESTAMPTZ;
const INTERVAL: PgType = PgType::INTERVAL;

/// Every plain function, overloads of one name together.
const OVERLOADS: &[Overload] = &[
    run("pg_size_pretty", &[PgType::INT8], TEXT, "pg_size_pretty"),
    run("pg_size_pretty", &[NUMERIC], TEXT, "pg_size_pretty"),
    run("initcap", &[TEXT], TEXT, "pg_initcap"),
    run("reverse", &[TEXT], TEXT, "pg_reverse"),
    run("repeat", &[TEXT, INT4], TEXT, "pg_repeat"),
    run("left", &[TEXT, INT4], TEXT, "pg_left"),
    run("right", &[TEXT, INT4], TEXT, "pg_right"),
    run("lpad", &[TEXT, INT4], TEXT, "pg_lpad"),
    run("lpad", &[TEXT, INT4, TEXT], TEXT, "pg_lpad"),
    run("rpad", &[TEXT, INT4], TEXT, "pg_rpad"),
    run("rpad", &[TEXT, INT4, TEXT], TEXT, "pg_rpad"),
    run("split_part", &[TEXT, TEXT, INT4], TEXT, "pg_split_part"),
    run("chr", &[INT4], TEXT, "pg_chr"),
    run("ascii", &[TEXT], INT4, "pg_ascii"),
    run("starts_with", &[TEXT, TEXT], BOOL, "pg_starts_with"),
    run("translate", &[TEXT, TEXT, TEXT], TEXT, "pg_translate"),
    run(
        "regexp_replace",
        &[TEXT, TEXT, TEXT],
        TEXT,
        "pg_regexp_replace",
    ),
    run(
        "regexp_replace",
        &[TEXT, TEXT, TEXT, TEXT],
        TEXT,
        "pg_regexp_replace",
    ),
    run(
        "string_to_array",
        &[TEXT, TEXT],
        TEXT_ARRAY,
        "pg_string_to_array",
    ),
    run("ceil", &[NUMERIC], NUMERIC, "pg_numeric_ceil"),
    run("ceil", &[FLOAT8], FLOAT8, "pg_ceil"),
    run("ceiling", &[NUMERIC], NUMERIC, "pg_numeric_ceil"),
    run("ceiling", &[FLOAT8], FLOAT8, "pg_ceil"),
    run("floor", &[NUMERIC], NUMERIC, "pg_numeric_floor"),
    run("floor", &[FLOAT8], FLOAT8, "pg_floor"),
    run("trunc", &[NUMERIC], NUMERIC, "pg_numeric_trunc"),
    run("trunc", &[FLOAT8], FLOAT8, "pg_trunc"),
    run("sign", &[NUMERIC], NUMERIC, "pg_numeric_sign"),
    run("sign", &[FLOAT8], FLOAT8, "pg_sign"),
    refuse("sqrt", &[NUMERIC], NUMERIC),
    run("sqrt", &[FLOAT8], FLOAT8, "pg_sqrt"),
    refuse("power", &[NUMERIC, NUMERIC], NUMERIC),
    run("power", &[FLOAT8, FLOAT8], FLOAT8, "pg_power"),
    refuse("pow", &[NUMERIC, NUMERIC], NUMERIC),
    run("pow", &[FLOAT8, FLOAT8], FLOAT8, "pg_power"),
    run("jsonb_typeof", &[JSONB], TEXT, "pg_json_typeof"),
    run("json_typeof", &[JSON], TEXT, "pg_json_typeof"),
    run("jsonb_array_length", &[JSONB], INT4, "pg_json_array_length"),
    run("json_array_length", &[JSON], INT4, "pg_json_array_length"),
    run("md5", &[TEXT], TEXT, "pg_md5"),
    // `void` in PostgreSQL, which prints as the empty string.
    run("pg_notify", &[TEXT, TEXT], TEXT, "pg_notify"),
    run("set_config", &[TEXT, TEXT, BOOL], TEXT, "set_config"),
    run(
        "age",
        &[TIMESTAMPTZ, TIMESTAMPTZ],
        INTERVAL,
        "pg_age_timestamptz",
    ),
    run("age", &[TIMESTAMP, TIMESTAMP], INTERVAL, "pg_age_timestamp"),
    run("age", &[TIMESTAMPTZ], INTERVAL, "pg_age_timestamptz"),
    run("age", &[TIMESTAMP], INTERVAL, "pg_age_timestamp"),
    run("to_timestamp", &[FLOAT8], TIMESTAMPTZ, "pg_to_timestamp"),
    run(
        "to_timestamp",
        &[TEXT, TEXT],
        TIMESTAMPTZ,
        "pg_to_timestamp_text",
    ),
    run("to_date", &[TEXT, TEXT], PgType::DATE, "pg_to_date"),
    run("to_char", &[TIMESTAMP, TEXT], TEXT, "pg_to_char_timestamp"),
    run(
        "to_char",
        &[TIMESTAMPTZ, TEXT],
        TEXT,
        "pg_to_char_timestamptz",
    ),
    run("to_char", &[INTERVAL, TEXT], TEXT, "pg_to_char_interval"),
    run("to_char", &[PgType::INT4, TEXT], TEXT, "pg_to_char_number"),
    run("to_char", &[PgType::INT8, TEXT], TEXT, "pg_to_char_number"),
    run(
        "to_char",
        &[PgType::FLOAT4, TEXT],
        TEXT,
        "pg_to_char_number",
    ),
    run("to_char", &[FLOAT8, TEXT], TEXT, "pg_to_char_number"),
    run("to_char", &[NUMERIC, TEXT], TEXT, "pg_to_char_number"),
    run(
        "make_date",
        &[INT4, INT4, INT4],
        PgType::DATE,
        "pg_make_date",
    ),
];

/// Whether `ty` is its category's preferred type.
fn preferred(ty: PgType) -> bool {
    ty == TEXT || ty == FLOAT8 || ty == TIMESTAMPTZ
}

/// How well arguments of `types` fit `params`: `None` if they cannot be
/// converted implicitly; else (exact matches, conversions to a preferred
/// type).
fn fit(types: &[Ty], params: &[PgType]) -> Option<(usize, usize)> {
    let mut exact = 0;
    let mut to_preferred = 0;
    for (ty, param) in types.iter().zip(params) {
        match ty {
            Ty::Known(t) if t.without_modifier() == *param || (t.is_string() && *param == TEXT) => {
                exact += 1;
            }
            Ty::Known(t) if allowed(*t, *param, CastKind::Implicit) => {
                to_preferred += usize::from(preferred(*param));
            }
            Ty::Known(_) => return None,
            Ty::Unknown => to_preferred += usize::from(preferred(*param)),
        }
    }
    Some((exact, to_preferred))
}

impl Translator<'_> {
    /// Resolves and converts the arguments of a plain function call:
    /// the SQLite function to call and the result type, or `None` when no
    /// plain function has this name and number of arguments.
    pub(crate) fn plain_function(
        &mut self,
        name: &str,
        args: &mut [&mut Expr],
        types: &[Ty],
    ) -> Result<Option<(&'static str, PgType)>, Error> {
        let mut candidates = OVERLOADS
            .iter()
            .filter(|o| o.name == name && o.params.len() == args.len())
            .peekable();
        if candidates.peek().is_none() {
            return Ok(None);
        }
        let mut best: Option<(&Overload, (usize, usize))> = None;
        for overload in candidates {
            if let Some(score) = fit(types, overload.params)
                && best.is_none_or(|(_, best_score)| score > best_score)
            {
                best = Some((overload, score));
            }
        }
        let Some((overload, _)) = best else {
            let shown: Vec<String> = types
                .iter()
                .map(|t| t.known().map_or("unknown".into(), |t| t.to_string()))
                .collect();
            return Err(Error::UndefinedFunction(format!(
                "{name}({})",
                shown.join(", ")
            )));
        };
        let Some(sqlite) = overload.sqlite else {
            let shown: Vec<String> = overload.params.iter().map(ToString::to_string).collect();
            return Err(Error::Unsupported(format!("{name}({})", shown.join(", "))));
        };
        for ((arg, ty), param) in args.iter_mut().zip(types).zip(overload.params) {
            self.coerce(arg, *ty, *param, CastKind::Implicit)?;
        }
        Ok(Some((sqlite, overload.result)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overloads_resolve_like_postgres_15() {
        // SELECT pg_typeof(ceil(5)), pg_typeof(ceil(2.5)), pg_typeof(ceil(2.5::real)),
        //        pg_typeof(sign('1')) → double precision, numeric, double precision, double precision
        let pick = |types: &[Ty]| {
            OVERLOADS
                .iter()
                .filter(|o| o.name == "ceil")
                .filter_map(|o| fit(types, o.params).map(|score| (score, o.result)))
                .max_by_key(|(score, _)| *score)
                .map(|(_, result)| result)
        };
        assert_eq!(pick(&[Ty::Known(PgType::INT4)]), Some(FLOAT8));
        assert_eq!(pick(&[Ty::Known(NUMERIC)]), Some(NUMERIC));
        assert_eq!(pick(&[Ty::Known(PgType::FLOAT4)]), Some(FLOAT8));
        assert_eq!(pick(&[Ty::Unknown]), Some(FLOAT8));
        assert_eq!(pick(&[Ty::Known(TEXT)]), None);
    }
}
