//! Types whose binary form is bytes or text: `text`, `varchar`, `bpchar`,
//! `name` and `json` are their UTF-8 text, `jsonb` the text after a
//! version byte (1), `"char"` its one byte, `bytea` the raw bytes, `uuid`
//! its 16 bytes.

use rusqlite::types::Value;

use super::{PgError, corrupt, fixed, malformed};
use crate::types::PgType;
use crate::values::json;
use crate::values::text::to_pg_text;

/// The version byte before `jsonb`'s text.
const JSONB_VERSION: u8 = 1;

/// Client text as a string: UTF-8 without NUL, as PostgreSQL's encoding
/// check demands of every parameter.
pub(super) fn text(bytes: &[u8]) -> Result<&str, PgError> {
    let invalid = |detail: String| {
        PgError::new(
            "22021",
            format!("invalid byte sequence for encoding \"UTF8\": {detail}"),
        )
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        invalid(format!("0x{:02x}", bytes.get(at).copied().unwrap_or(0)))
    })?;
    if text.contains('\0') {
        return Err(invalid("0x00".into()));
    }
    Ok(text)
}

pub(super) fn send_jsonb(value: &Value, ty: PgType) -> Vec<u8> {
    let mut out = vec![JSONB_VERSION];
    out.extend(to_pg_text(value, ty).unwrap_or_default().into_bytes());
    out
}

/// `bytea` is stored as a blob; inside an array it is kept as its text
/// (`\x0102`).
pub(super) fn send_bytea(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    match value {
        Value::Blob(bytes) => Ok(bytes.clone()),
        Value::Text(text) => match text.strip_prefix("\\x") {
            Some(hex) if hex.len() % 2 == 0 => (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| corrupt(value, ty)),
            Some(_) => Err(corrupt(value, ty)),
            None => Ok(text.as_bytes().to_vec()),
        },
        _ => Err(corrupt(value, ty)),
    }
}

pub(super) fn send_uuid(value: &Value, ty: PgType) -> Result<Vec<u8>, PgError> {
    let text = to_pg_text(value, ty).unwrap_or_default();
    uuid::Uuid::try_parse(&text)
        .map(|u| u.as_bytes().to_vec())
        .map_err(|_| corrupt(value, ty))
}

/// `charsend`: always one byte, the zero byte for the empty value.
pub(super) fn send_char(value: &Value, ty: PgType) -> Vec<u8> {
    let text = to_pg_text(value, ty).unwrap_or_default();
    vec![text.bytes().next().unwrap_or(0)]
}

/// `charrecv` takes the first byte (none is the zero byte); patina keeps
/// ASCII only, as its stored text must be UTF-8.
pub(super) fn recv_char(bytes: &[u8]) -> Result<Value, PgError> {
    match bytes.first() {
        None | Some(0) => Ok(Value::Text(String::new())),
        Some(_) => text(&bytes[..1]).map(|t| Value::Text(t.to_owned())),
    }
}

/// `json_recv` checks the text and keeps it as given.
pub(super) fn recv_json(bytes: &[u8]) -> Result<Value, PgError> {
    let input = text(bytes)?;
    json::parse(input, "json")?;
    Ok(Value::Text(input.to_owned()))
}

/// `jsonb_recv` reads the text after the version byte; the stored form is
/// `jsonb`'s normalised output.
pub(super) fn recv_jsonb(bytes: &[u8]) -> Result<Value, PgError> {
    match bytes.split_first() {
        Some((&JSONB_VERSION, input)) => {
            let parsed = json::parse(text(input)?, "jsonb")?;
            Ok(Value::Text(json::to_jsonb_text(&parsed)))
        }
        _ => Err(malformed(PgType::JSONB)),
    }
}

pub(super) fn recv_uuid(bytes: &[u8], ty: PgType) -> Result<Value, PgError> {
    let uuid = uuid::Uuid::from_bytes(fixed(bytes, ty)?);
    Ok(Value::Text(uuid.hyphenated().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytea_in_an_array_is_its_hex_text() {
        let ty = PgType::BYTEA;
        assert_eq!(
            send_bytea(&Value::Text("\\x00ff".into()), ty),
            Ok(vec![0, 255])
        );
        assert!(send_bytea(&Value::Text("\\x0".into()), ty).is_err());
    }

    #[test]
    fn jsonb_is_normalised_on_the_way_in() {
        assert_eq!(
            recv_jsonb(b"\x01{\"bb\":1,\"a\":[1,2]}"),
            Ok(Value::Text(r#"{"a": [1, 2], "bb": 1}"#.into()))
        );
        assert_eq!(
            send_jsonb(&Value::Text("[]".into()), PgType::JSONB),
            b"\x01[]".to_vec()
        );
        assert_eq!(
            recv_json(b"{\"b\":1,  \"a\":2}"),
            Ok(Value::Text("{\"b\":1,  \"a\":2}".into()))
        );
        assert_eq!(recv_json(b"{").map_err(|e| e.code), Err("22P02".to_owned()));
    }

    #[test]
    fn text_must_be_utf8_without_nul() {
        assert_eq!(text("héllo".as_bytes()), Ok("héllo"));
        assert_eq!(text(b"a\0b").map_err(|e| e.code), Err("22021".to_owned()));
        assert_eq!(text(b"\xc3").map_err(|e| e.code), Err("22021".to_owned()));
    }
}
