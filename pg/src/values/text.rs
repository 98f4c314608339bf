//! PostgreSQL's text output of a stored value: what `psql` shows and what
//! a cast to `text` yields. The wire layer sends this for text-format
//! results.

use rusqlite::types::Value;

use crate::types::{PgType, Scalar};
use crate::values::numeric::Numeric;

/// PostgreSQL's text output for a float (`float8out`/`float4out`: shortest
/// round-trip digits, exponent form below 1e-4 or from 1e15 — 1e6 for
/// `real`).
pub fn format_float(value: f64, single: bool) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let scientific = if single {
        format!("{:e}", value as f32)
    } else {
        format!("{value:e}")
    };
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let limit = if single { 6 } else { 15 };
    if exponent < -4 || exponent >= limit {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exponent + 1;
    let body = if point <= 0 {
        format!(
            "0.{}{digits}",
            "0".repeat(usize::try_from(-point).unwrap_or(0))
        )
    } else {
        let point = usize::try_from(point).unwrap_or(0);
        if digits.len() <= point {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    if negative { format!("-{body}") } else { body }
}

/// PostgreSQL's text output for a stored value of type `ty`; `None` for
/// NULL.
pub fn to_pg_text(value: &Value, ty: PgType) -> Option<String> {
    if ty.is_array() {
        return match value {
            Value::Null => None,
            Value::Text(json) => Some(crate::values::array::json_to_pg_text(json, ty)),
            other => Some(scalar_text(other, PgType::TEXT)),
        };
    }
    match value {
        Value::Null => None,
        other => Some(scalar_text(other, ty)),
    }
}

fn scalar_text(value: &Value, ty: PgType) -> String {
    match (value, ty.scalar()) {
        (Value::Integer(i), Scalar::Bool) => if *i != 0 { "t" } else { "f" }.into(),
        (Value::Integer(i), Scalar::Numeric(Some((_, scale)))) => Numeric::from_i64(*i)
            .with_scale(scale)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| i.to_string()),
        (Value::Integer(oid), Scalar::Regtype) => u32::try_from(*oid)
            .ok()
            .and_then(PgType::from_oid)
            .map_or_else(|| oid.to_string(), |t| t.to_string()),
        (Value::Integer(i), _) => i.to_string(),
        (Value::Real(f), Scalar::Numeric(_)) => Numeric::from_f64(*f)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| format_float(*f, false)),
        (Value::Real(f), Scalar::Float4) => format_float(*f, true),
        (Value::Real(f), _) => format_float(*f, false),
        (Value::Text(t), Scalar::Regclass) => crate::values::regclass::name(t).to_owned(),
        (Value::Text(t), Scalar::Record) => {
            crate::values::record::to_text(t).unwrap_or_else(|| t.clone())
        }
        (Value::Text(t), _) => t.clone(),
        (Value::Blob(b), _) => {
            let mut out = String::from("\\x");
            for byte in b {
                out.push_str(&format!("{byte:02x}"));
            }
            out
        }
        (Value::Null, _) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_postgres_15() {
        // SELECT 1e20::float8, 1.5e-7::float8, 123456789012345::float8,
        //        1234567890123456::float8, 1e6::float4, 123456::float4, 0.1::float4
        assert_eq!(format_float(1e20, false), "1e+20");
        assert_eq!(format_float(1.5e-7, false), "1.5e-07");
        assert_eq!(format_float(123456789012345.0, false), "123456789012345");
        assert_eq!(
            format_float(1234567890123456.0, false),
            "1.234567890123456e+15"
        );
        assert_eq!(format_float(1e6, true), "1e+06");
        assert_eq!(format_float(123456.0, true), "123456");
        assert_eq!(format_float(f64::from(0.1f32), true), "0.1");
        assert_eq!(format_float(1.0 / 3.0, false), "0.3333333333333333");
        assert_eq!(format_float(-0.5, false), "-0.5");
        assert_eq!(format_float(f64::INFINITY, false), "Infinity");
    }

    #[test]
    fn stored_values_print_like_postgres() {
        assert_eq!(
            to_pg_text(&Value::Integer(1), PgType::BOOL),
            Some("t".into())
        );
        assert_eq!(
            to_pg_text(&Value::Blob(vec![1, 2]), PgType::BYTEA),
            Some("\\x0102".into())
        );
        assert_eq!(to_pg_text(&Value::Null, PgType::INT4), None);
        assert_eq!(
            to_pg_text(
                &Value::Text(r#"["a","b c",null]"#.into()),
                PgType::TEXT.array_of()
            ),
            Some(r#"{a,"b c",NULL}"#.into())
        );
    }
}
