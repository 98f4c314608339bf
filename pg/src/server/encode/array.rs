//! One-dimensional arrays. Stored as a JSON array of the element values;
//! their text is PostgreSQL's literal (`{1,NULL}`, `{"a b","\\x01"}`) and
//! their binary form `array_send`'s: the number of dimensions, a has-NULLs
//! flag, the element type's OID, each dimension's length and lower bound,
//! then each element as a length (-1 for NULL) and its binary form.

use rusqlite::types::Value;
use serde_json::Value as Json;

use super::{PgError, corrupt, insufficient, malformed};
use crate::types::PgType;
use crate::values::array::literal;
use crate::values::cast::json_to_value;

/// PostgreSQL's `MAXDIM`.
const MAX_DIMENSIONS: i32 = 6;

fn element_type(ty: PgType) -> PgType {
    ty.element().unwrap_or(ty)
}

/// The stored element values of a stored array.
fn elements(value: &Value, ty: PgType) -> Result<Vec<Value>, PgError> {
    let Value::Text(stored) = value else {
        return Err(corrupt(value, ty));
    };
    match serde_json::from_str(stored) {
        Ok(Json::Array(items)) => Ok(items
            .into_iter()
            .map(|item| json_to_value(item, ty.element()))
            .collect()),
        _ => Err(corrupt(value, ty)),
    }
}

/// PostgreSQL's text output (`array_out`) of a stored array.
pub(super) fn to_text(value: &Value, ty: PgType) -> Result<String, PgError> {
    let items = elements(value, ty)?;
    if ty.is_vector() {
        return Ok(crate::values::vector::literal(&items, element_type(ty)));
    }
    Ok(literal(&items, element_type(ty)))
}

fn put_i32(out: &mut Vec<u8>, n: i32) {
    out.extend(n.to_be_bytes());
}

/// `array_send` of a stored array.
pub(super) fn send(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    let element = element_type(ty);
    let items = elements(value, ty)?;
    let too_many = || PgError::new("54000", "array size exceeds the maximum allowed");
    let mut out = Vec::new();
    put_i32(&mut out, i32::from(!items.is_empty()));
    put_i32(&mut out, i32::from(items.contains(&Value::Null)));
    out.extend(element.oid().to_be_bytes());
    if items.is_empty() {
        return Ok(out);
    }
    put_i32(
        &mut out,
        i32::try_from(items.len()).map_err(|_| too_many())?,
    );
    put_i32(&mut out, if ty.is_vector() { 0 } else { 1 });
    for item in &items {
        if matches!(item, Value::Null) {
            put_i32(&mut out, -1);
            continue;
        }
        let bytes = super::send(item, element)?;
        put_i32(
            &mut out,
            i32::try_from(bytes.len()).map_err(|_| too_many())?,
        );
        out.extend(bytes);
    }
    Ok(out)
}

/// Reads `array_send`'s format front to back.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PgError> {
        if self.bytes.len() < n {
            return Err(insufficient());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn i32(&mut self) -> Result<i32, PgError> {
        let head = self.take(4)?;
        Ok(i32::from_be_bytes([head[0], head[1], head[2], head[3]]))
    }
}

/// A binary array parameter as its PostgreSQL text literal, which the
/// translated SQL casts like a text parameter (`array_recv`'s checks).
pub(super) fn recv(bytes: &[u8], ty: PgType) -> Result<String, PgError> {
    let element = element_type(ty);
    let mut reader = Reader { bytes };
    let dimensions = reader.i32()?;
    if dimensions < 0 {
        return Err(malformed(ty));
    }
    if dimensions > MAX_DIMENSIONS {
        return Err(PgError::new(
            "54000",
            format!(
                "number of array dimensions ({dimensions}) exceeds the maximum allowed ({MAX_DIMENSIONS})"
            ),
        ));
    }
    if !(0..=1).contains(&reader.i32()?) {
        return Err(malformed(ty));
    }
    let element_oid = reader.i32()? as u32;
    if element_oid != element.oid() {
        return Err(PgError::new(
            "42804",
            format!(
                "binary data has array element type {element_oid} instead of expected {} ({element})",
                element.oid()
            ),
        ));
    }
    let mut items = Vec::new();
    if dimensions > 1 {
        return Err(PgError::new(
            "0A000",
            "multidimensional arrays are not supported",
        ));
    }
    if dimensions == 1 {
        let length = usize::try_from(reader.i32()?).map_err(|_| malformed(ty))?;
        if i64::from(reader.i32()?) != ty.lower_bound() {
            return Err(PgError::new(
                "0A000",
                "arrays with a lower bound other than 1 are not supported",
            ));
        }
        for _ in 0..length {
            let item = match reader.i32()? {
                -1 => Value::Null,
                n => {
                    let n = usize::try_from(n).map_err(|_| malformed(ty))?;
                    super::recv(reader.take(n)?, element)?
                }
            };
            items.push(item);
        }
    }
    if !reader.bytes.is_empty() {
        return Err(malformed(ty));
    }
    if ty.is_vector() {
        return Ok(crate::values::vector::literal(&items, element));
    }
    Ok(literal(&items, element))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn stored(json: &str) -> Value {
        Value::Text(json.into())
    }

    #[test]
    fn sends_like_postgres_15() {
        // SELECT array_send(ARRAY[]::int[]), array_send(ARRAY[1,NULL]::int[]),
        //        array_send(ARRAY['a']::varchar(3)[])
        let int4s = PgType::INT4.array_of();
        assert_eq!(
            send(&stored("[]"), int4s).map(|b| hex(&b)),
            Ok("000000000000000000000017".into())
        );
        assert_eq!(
            send(&stored("[1,null]"), int4s).map(|b| hex(&b)),
            Ok("00000001000000010000001700000002000000010000000400000001ffffffff".into())
        );
        assert_eq!(
            send(&stored(r#"["a"]"#), PgType::VARCHAR.array_of()).map(|b| hex(&b)),
            Ok("00000001000000000000041300000001000000010000000161".into())
        );
    }

    #[test]
    fn prints_like_postgres_15() {
        // SELECT ARRAY['', 'null', 'a b', '"q\', 'x']::text[],
        //        ARRAY[0.1, 1e20, NULL]::real[], ARRAY['\x01'::bytea]
        assert_eq!(
            to_text(
                &stored(r#"["","null","a b","\"q\\","x"]"#),
                PgType::TEXT.array_of()
            ),
            Ok(r#"{"","null","a b","\"q\\",x}"#.into())
        );
        assert_eq!(
            to_text(
                &stored("[0.10000000149011612,1.0000000200408773e20,null]"),
                PgType::FLOAT4.array_of()
            ),
            Ok("{0.1,1e+20,NULL}".into())
        );
        assert_eq!(
            to_text(&stored(r#"["\\x01"]"#), PgType::BYTEA.array_of()),
            Ok(r#"{"\\x01"}"#.into())
        );
        assert_eq!(
            to_text(&stored("[true,false]"), PgType::BOOL.array_of()),
            Ok("{t,f}".into())
        );
    }

    #[test]
    fn receives_a_text_literal() {
        let texts = PgType::TEXT.array_of();
        let bytes = send(&stored(r#"["a b",null,"NULL"]"#), texts).unwrap();
        assert_eq!(recv(&bytes, texts).as_deref(), Ok(r#"{"a b",NULL,"NULL"}"#));
        let empty = send(&stored("[]"), texts).unwrap();
        assert_eq!(recv(&empty, texts).as_deref(), Ok("{}"));
        let byteas = PgType::BYTEA.array_of();
        let bytes = send(&stored(r#"["\\x0102"]"#), byteas).unwrap();
        assert_eq!(recv(&bytes, byteas).as_deref(), Ok(r#"{"\\x0102"}"#));
    }

    #[test]
    fn rejects_what_array_recv_rejects() {
        let int4s = PgType::INT4.array_of();
        let code = |bytes: &[u8]| recv(bytes, int4s).map_err(|e| e.code);
        let mut wrong_element = send(&stored("[1]"), int4s).unwrap();
        wrong_element[11] = 20;
        assert_eq!(code(&wrong_element), Err("42804".to_owned()));
        let mut truncated = send(&stored("[1]"), int4s).unwrap();
        truncated.pop();
        assert_eq!(code(&truncated), Err("08P01".to_owned()));
        let mut trailing = send(&stored("[1]"), int4s).unwrap();
        trailing.push(0);
        assert_eq!(code(&trailing), Err("22P03".to_owned()));
        let mut bad_flags = send(&stored("[1]"), int4s).unwrap();
        bad_flags[7] = 2;
        assert_eq!(code(&bad_flags), Err("22P03".to_owned()));
        let two_dimensions = [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23];
        assert_eq!(code(&two_dimensions), Err("0A000".to_owned()));
    }
}
