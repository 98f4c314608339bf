//! Values on the wire: stored SQLite values out as PostgreSQL text or
//! binary, and bound parameters in from either format.
//!
//! Text is what [`crate::values::text::to_pg_text`] prints (arrays are
//! printed here, element by element); binary is PostgreSQL's `*send` /
//! `*recv` format of each type, one file per family of types.
//!
//! A bound parameter becomes a value the translated SQL can take: the
//! translator wraps every typed placeholder in `pg_cast`/`pg_assign` from
//! an untyped value, so a binary parameter decodes to the type's stored
//! form (integers, floats, bytes, or the text PostgreSQL prints), except an
//! array, which decodes to its PostgreSQL text literal (`{1,NULL}`), as a
//! text-format parameter would arrive.

mod array;
mod datetime;
mod number;
mod numeric;
mod string;

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
    let bytes = match (format == BINARY, ty.is_array()) {
        (true, true) => array::send(value, ty)?,
        (true, false) => send(value, ty)?,
        (false, true) => array::to_text(value, ty)?.into_bytes(),
        (false, false) => to_pg_text(value, ty).unwrap_or_default().into_bytes(),
    };
    let len = i32::try_from(bytes.len()).map_err(|_| {
        PgError::new(
            "54000",
            format!("a value of type {ty} is too large to send"),
        )
    })?;
    out.put_i32(len);
    out.put_slice(&bytes);
    Ok(())
}

/// A bound parameter as the value the translated SQL expects (see the
/// module comment).
pub(crate) fn parameter(bytes: Option<&[u8]>, ty: PgType, format: i16) -> Result<Value, PgError> {
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    match (format == BINARY, ty.is_array()) {
        (false, _) => string::text(bytes).map(|text| Value::Text(text.to_owned())),
        (true, true) => array::recv(bytes, ty).map(Value::Text),
        (true, false) => recv(bytes, ty),
    }
}

/// The binary form of a stored (non-NULL) scalar value.
fn send(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    match ty.scalar() {
        Scalar::Bool => number::send_bool(value, ty),
        Scalar::Int2 | Scalar::Int4 | Scalar::Int8 => number::send_integer(value, ty),
        Scalar::Float4 | Scalar::Float8 => number::send_float(value, ty),
        Scalar::Numeric(_) => {
            let text = to_pg_text(value, ty).unwrap_or_default();
            numeric::send(&text).ok_or_else(|| corrupt(value, ty))
        }
        Scalar::Date | Scalar::Time | Scalar::Timestamp | Scalar::Timestamptz => {
            datetime::send(value, ty)
        }
        Scalar::Interval => datetime::send_interval(value, ty),
        Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) | Scalar::Json | Scalar::Name => {
            Ok(to_pg_text(value, ty).unwrap_or_default().into_bytes())
        }
        Scalar::Char => Ok(string::send_char(value, ty)),
        Scalar::Regclass => match value {
            Value::Text(named) => crate::values::regclass::oid(named)
                .map(|oid| number::send_oid(&Value::Integer(oid), ty))
                .unwrap_or_else(|| Err(corrupt(value, ty))),
            other => number::send_oid(other, ty),
        },
        Scalar::Oid | Scalar::Regtype => number::send_oid(value, ty),
        Scalar::Jsonb => Ok(string::send_jsonb(value, ty)),
        Scalar::Bytea => string::send_bytea(value, ty),
        Scalar::Uuid => string::send_uuid(value, ty),
        Scalar::Record => match value {
            Value::Text(fields) => crate::values::record::send(fields),
            _ => None,
        }
        .ok_or_else(|| corrupt(value, ty)),
    }
}

/// The stored value of a binary scalar parameter.
fn recv(bytes: &[u8], ty: PgType) -> Result<Value, PgError> {
    match ty.scalar() {
        Scalar::Bool => number::recv_bool(bytes, ty),
        Scalar::Int2 | Scalar::Int4 | Scalar::Int8 => number::recv_integer(bytes, ty),
        Scalar::Float4 | Scalar::Float8 => number::recv_float(bytes, ty),
        Scalar::Numeric(_) => numeric::recv(bytes).map(Value::Text),
        Scalar::Date | Scalar::Time | Scalar::Timestamp | Scalar::Timestamptz => {
            datetime::recv(bytes, ty).map(Value::Text)
        }
        Scalar::Interval => datetime::recv_interval(bytes, ty).map(Value::Text),
        Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) | Scalar::Name => {
            string::text(bytes).map(|t| Value::Text(t.to_owned()))
        }
        Scalar::Char => string::recv_char(bytes),
        Scalar::Oid | Scalar::Regtype | Scalar::Regclass => number::recv_oid(bytes, ty),
        Scalar::Json => string::recv_json(bytes),
        Scalar::Jsonb => string::recv_jsonb(bytes),
        Scalar::Bytea => Ok(Value::Blob(bytes.to_vec())),
        Scalar::Uuid => string::recv_uuid(bytes, ty),
        Scalar::Record => Err(PgError::new(
            "0A000",
            "input of anonymous composite types is not implemented",
        )),
    }
}

/// A binary parameter that is not a valid value of its type
/// (`invalid_binary_representation`, as PostgreSQL's `*recv` reports).
fn malformed(ty: PgType) -> PgError {
    PgError::new(
        "22P03",
        format!("incorrect binary data format for a parameter of type {ty}"),
    )
}

/// A stored value that its column's type cannot print: the database holds
/// something the translator should never have written.
fn corrupt(value: &Value, ty: PgType) -> PgError {
    PgError::new(
        "XX000",
        format!("stored value {value:?} is not a valid {ty}"),
    )
}

/// A binary parameter shorter than its type's format: PostgreSQL's
/// message reader reports a protocol violation.
fn insufficient() -> PgError {
    PgError::protocol("insufficient data left in message")
}

/// The bytes of a fixed-size binary value: 08P01 if too few, 22P03 if too
/// many, as PostgreSQL answers.
fn fixed<const N: usize>(bytes: &[u8], ty: PgType) -> Result<[u8; N], PgError> {
    if bytes.len() < N {
        return Err(insufficient());
    }
    bytes.try_into().map_err(|_| malformed(ty))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(value: &Value, ty: PgType, format: i16) -> Vec<u8> {
        let mut out = BytesMut::new();
        put_field(&mut out, value, ty, format).unwrap();
        out.to_vec()
    }

    #[test]
    fn format_codes_follow_the_protocol() {
        assert_eq!(format_of(&[], 3), 0);
        assert_eq!(format_of(&[1], 3), 1);
        assert_eq!(format_of(&[0, 1], 1), 1);
    }

    #[test]
    fn fields_carry_their_length() {
        assert_eq!(field(&Value::Null, PgType::INT4, BINARY), [255; 4]);
        assert_eq!(
            field(&Value::Integer(-5), PgType::INT4, BINARY),
            [0, 0, 0, 4, 255, 255, 255, 251]
        );
        assert_eq!(
            field(&Value::Integer(1), PgType::BOOL, 0),
            [0, 0, 0, 1, b't']
        );
    }

    #[test]
    fn text_parameters_stay_text() {
        assert_eq!(
            parameter(Some(b"9.90"), PgType::NUMERIC, 0),
            Ok(Value::Text("9.90".to_owned()))
        );
        assert_eq!(parameter(None, PgType::INT4, BINARY), Ok(Value::Null));
        assert_eq!(
            parameter(Some(&[0xff]), PgType::TEXT, 0).map_err(|e| e.code),
            Err("22021".to_owned())
        );
    }

    #[test]
    fn every_scalar_round_trips_through_binary() {
        // Each stored value, sent in binary and received back, is unchanged.
        let cases = [
            (PgType::BOOL, Value::Integer(1)),
            (PgType::INT2, Value::Integer(-32768)),
            (PgType::INT8, Value::Integer(i64::MAX)),
            (PgType::FLOAT4, Value::Real(f64::from(0.1f32))),
            (PgType::FLOAT8, Value::Real(-1e300)),
            (PgType::NUMERIC, Value::Text("-12345.678900".into())),
            (PgType::TEXT, Value::Text("héllo".into())),
            (PgType::JSON, Value::Text(r#"{"b":1, "a":2}"#.into())),
            (PgType::JSONB, Value::Text(r#"{"a": 2, "b": 1}"#.into())),
            (PgType::BYTEA, Value::Blob(vec![0, 1, 255])),
            (
                PgType::UUID,
                Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()),
            ),
            (PgType::DATE, Value::Text("0001-01-01".into())),
            (PgType::TIME, Value::Text("23:59:59.999999".into())),
            (
                PgType::TIMESTAMP,
                Value::Text("2024-02-29 10:00:00.5".into()),
            ),
            (
                PgType::TIMESTAMPTZ,
                Value::Text("1999-12-31 23:59:59+00".into()),
            ),
            (
                PgType::INTERVAL,
                Value::Text("-1 years -2 mons +3 days -100:00:00.25".into()),
            ),
            (PgType::NAME, Value::Text("pg_catalog".into())),
            (PgType::OID, Value::Integer(4_294_967_295)),
            (PgType::REGTYPE, Value::Integer(23)),
            (PgType::CHAR, Value::Text("a".into())),
            (PgType::CHAR, Value::Text(String::new())),
        ];
        for (ty, value) in cases {
            let bytes = send(&value, ty).unwrap();
            assert_eq!(recv(&bytes, ty), Ok(value), "{ty}");
        }
    }

    #[test]
    fn malformed_binary_parameters_fail_like_postgres() {
        // too short: 08P01; too long or invalid: 22P03
        for (ty, bytes, code) in [
            (PgType::INT4, &[1, 2][..], "08P01"),
            (PgType::INT4, &[0, 0, 0, 1, 2][..], "22P03"),
            (PgType::BOOL, &[][..], "08P01"),
            (PgType::UUID, &[0; 15][..], "08P01"),
            (PgType::JSONB, &[2, b'1'][..], "22P03"),
            (
                PgType::NUMERIC,
                &[0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10][..],
                "22P03",
            ),
            (PgType::NUMERIC, &[0, 1, 0, 0, 0, 0, 0, 0][..], "08P01"),
            (PgType::INT4.array_of(), &[0, 0, 0, 1][..], "08P01"),
        ] {
            assert_eq!(
                parameter(Some(bytes), ty, BINARY).map_err(|e| e.code),
                Err(code.to_owned()),
                "{ty} {bytes:?}"
            );
        }
    }
}
