//! `boolean`, the integers and the floats in binary: one byte, big-endian
//! two's complement, IEEE 754.

use rusqlite::types::Value;

use super::{PgError, corrupt, fixed, malformed};
use crate::error::Error;
use crate::types::{PgType, Scalar};
use crate::values::cast::{Context, cast, stored_float, to_float};

/// A stored value read as `ty` (an integer, or a float), through the same
/// conversion a cast uses, so text that slipped into a column still
/// prints if it is a valid value.
fn read_as(value: &Value, ty: PgType) -> Result<Value, PgError> {
    match value {
        Value::Integer(_) | Value::Real(_) => Ok(value.clone()),
        other => cast(other.clone(), None, ty, Context::Explicit).map_err(|_| corrupt(value, ty)),
    }
}

pub(super) fn send_bool(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    match read_as(value, ty)? {
        Value::Integer(i) => Ok(vec![u8::from(i != 0)]),
        _ => Err(corrupt(value, ty)),
    }
}

pub(super) fn send_integer(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    let out_of_range = || PgError::from(Error::OutOfRange(ty.to_string()));
    let i = match read_as(value, ty)? {
        Value::Integer(i) => i,
        Value::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => f as i64,
        _ => return Err(corrupt(value, ty)),
    };
    Ok(match ty.scalar() {
        Scalar::Int2 => i16::try_from(i)
            .map_err(|_| out_of_range())?
            .to_be_bytes()
            .to_vec(),
        Scalar::Int4 => i32::try_from(i)
            .map_err(|_| out_of_range())?
            .to_be_bytes()
            .to_vec(),
        _ => i.to_be_bytes().to_vec(),
    })
}

pub(super) fn send_float(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    let f = to_float(value.clone(), Some(ty)).map_err(|_| corrupt(value, ty))?;
    Ok(if ty.scalar() == Scalar::Float4 {
        (f as f32).to_be_bytes().to_vec()
    } else {
        f.to_be_bytes().to_vec()
    })
}

/// `oid` and `regtype`: four bytes, unsigned.
pub(super) fn send_oid(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    match read_as(value, ty)? {
        Value::Integer(i) => u32::try_from(i)
            .map(|oid| oid.to_be_bytes().to_vec())
            .map_err(|_| corrupt(value, ty)),
        _ => Err(corrupt(value, ty)),
    }
}

pub(super) fn recv_oid(bytes: &[u8], ty: PgType) -> Result<Value, PgError> {
    Ok(Value::Integer(u32::from_be_bytes(fixed(bytes, ty)?).into()))
}

/// `boolrecv`: any nonzero byte is true.
pub(super) fn recv_bool(bytes: &[u8], ty: PgType) -> Result<Value, PgError> {
    let [byte] = fixed::<1>(bytes, ty)?;
    Ok(Value::Integer(i64::from(byte != 0)))
}

pub(super) fn recv_integer(bytes: &[u8], ty: PgType) -> Result<Value, PgError> {
    Ok(Value::Integer(match ty.scalar() {
        Scalar::Int2 => i16::from_be_bytes(fixed(bytes, ty)?).into(),
        Scalar::Int4 => i32::from_be_bytes(fixed(bytes, ty)?).into(),
        Scalar::Int8 => i64::from_be_bytes(fixed(bytes, ty)?),
        _ => return Err(malformed(ty)),
    }))
}

pub(super) fn recv_float(bytes: &[u8], ty: PgType) -> Result<Value, PgError> {
    Ok(stored_float(match ty.scalar() {
        Scalar::Float4 => f32::from_be_bytes(fixed(bytes, ty)?).into(),
        _ => f64::from_be_bytes(fixed(bytes, ty)?),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_like_postgres_15() {
        // SELECT boolsend(true), int2send(-2), int4send(7), int8send(-1),
        //        float4send(0.1), float8send('-Infinity')
        assert_eq!(send_bool(&Value::Integer(1), PgType::BOOL), Ok(vec![1]));
        assert_eq!(
            send_integer(&Value::Integer(-2), PgType::INT2),
            Ok(vec![0xff, 0xfe])
        );
        assert_eq!(
            send_integer(&Value::Integer(7), PgType::INT4),
            Ok(vec![0, 0, 0, 7])
        );
        assert_eq!(
            send_integer(&Value::Integer(-1), PgType::INT8),
            Ok(vec![0xff; 8])
        );
        assert_eq!(
            send_float(&Value::Real(f64::from(0.1f32)), PgType::FLOAT4),
            Ok(vec![0x3d, 0xcc, 0xcc, 0xcd])
        );
        assert_eq!(
            send_float(&Value::Real(f64::NEG_INFINITY), PgType::FLOAT8),
            Ok(vec![0xff, 0xf0, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(
            send_float(&Value::Integer(2), PgType::FLOAT8),
            Ok(2f64.to_be_bytes().to_vec())
        );
        // SELECT oidsend(4294967295)
        assert_eq!(
            send_oid(&Value::Integer(4_294_967_295), PgType::OID),
            Ok(vec![0xff; 4])
        );
    }

    #[test]
    fn reads_text_that_holds_a_value() {
        assert_eq!(
            send_bool(&Value::Text("t".into()), PgType::BOOL),
            Ok(vec![1])
        );
        assert_eq!(
            send_integer(&Value::Text(" 5".into()), PgType::INT4),
            Ok(vec![0, 0, 0, 5])
        );
        assert!(send_integer(&Value::Text("x".into()), PgType::INT4).is_err());
        assert!(send_integer(&Value::Integer(1 << 40), PgType::INT4).is_err());
    }

    #[test]
    fn receives_any_nonzero_byte_as_true() {
        assert_eq!(recv_bool(&[2], PgType::BOOL), Ok(Value::Integer(1)));
        assert_eq!(recv_bool(&[0], PgType::BOOL), Ok(Value::Integer(0)));
        assert_eq!(
            recv_float(&0.1f32.to_be_bytes(), PgType::FLOAT4),
            Ok(Value::Real(f64::from(0.1f32)))
        );
        // NaN is stored as text and sent as float8send('NaN')
        let nan = recv_float(&f64::NAN.to_be_bytes(), PgType::FLOAT8);
        assert_eq!(nan, Ok(Value::Text("NaN".into())));
        assert_eq!(
            send_float(&Value::Text("NaN".into()), PgType::FLOAT8),
            Ok(vec![0x7f, 0xf8, 0, 0, 0, 0, 0, 0])
        );
    }
}
