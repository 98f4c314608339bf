//! Values on the wire: stored SQLite values out as PostgreSQL text or
//! binary, and bound parameters in from either format. Text is what
//! [`crate::values::text::to_pg_text`] prints; binary is PostgreSQL's
//! `*send`/`*recv` format of each type.

use bytes::{BufMut, BytesMut};
use rusqlite::types::Value;

use super::errors::PgError;
use crate::types::{PgType, Scalar};
use crate::values::text::to_pg_text;

/// Format code 1 is binary, 0 text.
pub(crate) const BINARY: i16 = 1;

/// The format of column/parameter `i` from a Bind's format codes (none:
/// all text; one: all that one; else one per column).
pub(crate) fn format_of(codes: &[i16], i: usize) -> i16 {
    match codes {
        [] => 0,
        [one] => *one,
        many => many.get(i).copied().unwrap_or(0),
    }
}

/// Appends one DataRow field (length, then bytes; -1 for NULL).
pub(crate) fn put_field(
    out: &mut BytesMut,
    value: &Value,
    ty: PgType,
    format: i16,
) -> Result<(), PgError> {
    if matches!(value, Value::Null) {
        out.put_i32(-1);
        return Ok(());
    }
    let bytes = if format == BINARY {
        binary(value, ty)?
    } else {
        to_pg_text(value, ty).unwrap_or_default().into_bytes()
    };
    out.put_i32(bytes.len() as i32);
    out.put_slice(&bytes);
    Ok(())
}

fn unsupported_binary(ty: PgType) -> PgError {
    PgError::new(
        "0A000",
        format!("binary format for type {ty} is not supported yet; request text format"),
    )
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(*i),
        Value::Real(r) => Some(*r as i64),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn binary(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    if ty.is_array() {
        return Err(unsupported_binary(ty));
    }
    let bad = || PgError::new("XX000", format!("stored value {value:?} is not a valid {ty}"));
    Ok(match ty.scalar() {
        Scalar::Bool => vec![u8::from(integer(value).ok_or_else(bad)? != 0)],
        Scalar::Int2 => (integer(value).ok_or_else(bad)? as i16).to_be_bytes().to_vec(),
        Scalar::Int4 => (integer(value).ok_or_else(bad)? as i32).to_be_bytes().to_vec(),
        Scalar::Int8 => integer(value).ok_or_else(bad)?.to_be_bytes().to_vec(),
        Scalar::Float4 | Scalar::Float8 => {
            let f = match value {
                Value::Real(r) => *r,
                Value::Integer(i) => *i as f64,
                _ => return Err(bad()),
            };
            if ty.scalar() == Scalar::Float4 {
                (f as f32).to_be_bytes().to_vec()
            } else {
                f.to_be_bytes().to_vec()
            }
        }
        Scalar::Bytea => match value {
            Value::Blob(b) => b.clone(),
            Value::Text(t) => t.as_bytes().to_vec(),
            _ => return Err(bad()),
        },
        Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) | Scalar::Json => {
            to_pg_text(value, ty).unwrap_or_default().into_bytes()
        }
        Scalar::Jsonb => {
            let mut out = vec![1];
            out.extend(to_pg_text(value, ty).unwrap_or_default().into_bytes());
            out
        }
        Scalar::Uuid => {
            let text = to_pg_text(value, ty).unwrap_or_default();
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            (0..16)
                .map(|i| hex.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(bad)?
        }
        _ => return Err(unsupported_binary(ty)),
    })
}

/// A bound parameter as the value the translated SQL expects: numbers as
/// SQLite numbers, everything else as its PostgreSQL text.
pub(crate) fn parameter(bytes: Option<&[u8]>, ty: PgType, format: i16) -> Result<Value, PgError> {
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    let invalid = |what: &str| {
        PgError::new(
            "22P02",
            format!("invalid {what} for a parameter of type {ty}"),
        )
    };
    if format != BINARY {
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("UTF-8"))?;
        return Ok(Value::Text(text.to_owned()));
    }
    if ty.is_array() {
        return Err(unsupported_binary(ty));
    }
    let exact = |n: usize| -> Result<&[u8], PgError> {
        (bytes.len() == n).then_some(bytes).ok_or_else(|| invalid("binary length"))
    };
    Ok(match ty.scalar() {
        Scalar::Bool => Value::Text(if exact(1)?[0] != 0 { "true" } else { "false" }.to_owned()),
        Scalar::Int2 => Value::Integer(i16::from_be_bytes([exact(2)?[0], bytes[1]]).into()),
        Scalar::Int4 => {
            let b = exact(4)?;
            Value::Integer(i32::from_be_bytes([b[0], b[1], b[2], b[3]]).into())
        }
        Scalar::Int8 => {
            let b: [u8; 8] = exact(8)?.try_into().map_err(|_| invalid("binary length"))?;
            Value::Integer(i64::from_be_bytes(b))
        }
        Scalar::Float4 => {
            let b = exact(4)?;
            Value::Real(f32::from_be_bytes([b[0], b[1], b[2], b[3]]).into())
        }
        Scalar::Float8 => {
            let b: [u8; 8] = exact(8)?.try_into().map_err(|_| invalid("binary length"))?;
            Value::Real(f64::from_be_bytes(b))
        }
        Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) | Scalar::Json => Value::Text(
            String::from_utf8(bytes.to_vec()).map_err(|_| invalid("UTF-8"))?,
        ),
        Scalar::Jsonb => {
            let (version, json) = bytes.split_first().ok_or_else(|| invalid("jsonb"))?;
            if *version != 1 {
                return Err(invalid("jsonb version"));
            }
            Value::Text(String::from_utf8(json.to_vec()).map_err(|_| invalid("UTF-8"))?)
        }
        Scalar::Bytea => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            Value::Text(format!("\\x{hex}"))
        }
        Scalar::Uuid => {
            let b = exact(16)?;
            let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
            Value::Text(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ))
        }
        _ => return Err(unsupported_binary(ty)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_in_binary() {
        let bytes = binary(&Value::Integer(-5), PgType::INT4).unwrap();
        assert_eq!(bytes, (-5i32).to_be_bytes());
        assert_eq!(parameter(Some(&bytes), PgType::INT4, BINARY).unwrap(), Value::Integer(-5));
    }

    #[test]
    fn format_codes_follow_the_protocol() {
        assert_eq!(format_of(&[], 3), 0);
        assert_eq!(format_of(&[1], 3), 1);
        assert_eq!(format_of(&[0, 1], 1), 1);
    }

    #[test]
    fn text_parameters_stay_text() {
        assert_eq!(
            parameter(Some(b"9.90"), PgType::TEXT, 0).unwrap(),
            Value::Text("9.90".to_owned())
        );
        assert!(parameter(Some(&[1, 2]), PgType::INT4, BINARY).is_err());
    }
}
