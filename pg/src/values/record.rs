//! `record` values (anonymous rows, as `information_schema._pg_expandarray`
//! returns): stored as a JSON object of the fields in order
//! (`{"x":3,"n":1}`), printed as PostgreSQL's `record_out` prints them
//! (`(3,1)`), and sent in `record_send`'s binary form. The fields' types
//! are not kept: numbers go out as `bigint` or `double precision`,
//! strings as `text`.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// A record's fields in their stored order (a `serde_json::Map` would sort
/// them by name).
struct Fields(Vec<Value>);

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fields, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object of record fields")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Fields, M::Error> {
                let mut fields = Vec::new();
                while let Some((_, value)) = map.next_entry::<String, Value>()? {
                    fields.push(value);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

fn fields(stored: &str) -> Option<Vec<Value>> {
    serde_json::from_str::<Fields>(stored).ok().map(|f| f.0)
}

/// A field's text, `None` for NULL.
fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(if *b { "t" } else { "f" }.into()),
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `record_out`: `(a,b)`, a NULL field empty, a field quoted when empty or
/// holding a quote, backslash, parenthesis, comma or white space.
pub fn to_text(stored: &str) -> Option<String> {
    let printed: Vec<String> = fields(stored)?
        .iter()
        .map(|value| match field_text(value) {
            None => String::new(),
            Some(text) => {
                let quote = text.is_empty()
                    || text
                        .chars()
                        .any(|c| matches!(c, '"' | '\\' | '(' | ')' | ',') || c.is_whitespace());
                if quote {
                    let escaped = text.replace('\\', "\\\\").replace('"', "\"\"");
                    format!("\"{escaped}\"")
                } else {
                    text
                }
            }
        })
        .collect();
    Some(format!("({})", printed.join(",")))
}

/// `record_send`: the field count, then each field's type OID, length and
/// binary value (-1 for NULL).
pub fn send(stored: &str) -> Option<Vec<u8>> {
    let fields = fields(stored)?;
    let mut out = Vec::new();
    out.extend_from_slice(&i32::try_from(fields.len()).ok()?.to_be_bytes());
    for value in &fields {
        let (oid, bytes): (u32, Option<Vec<u8>>) = match value {
            Value::Null => (25, None),
            Value::Bool(b) => (16, Some(vec![u8::from(*b)])),
            Value::Number(n) => match n.as_i64() {
                Some(i) => (20, Some(i.to_be_bytes().to_vec())),
                None => (701, Some(n.as_f64()?.to_be_bytes().to_vec())),
            },
            other => (25, field_text(other).map(String::into_bytes)),
        };
        out.extend_from_slice(&oid.to_be_bytes());
        match bytes {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(bytes) => {
                out.extend_from_slice(&i32::try_from(bytes.len()).ok()?.to_be_bytes());
                out.extend_from_slice(&bytes);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_print_as_postgres_15() {
        // SELECT information_schema._pg_expandarray(ARRAY['a b','c,d',NULL,'','x'])
        assert_eq!(
            to_text(r#"{"x":"a b","n":1}"#).as_deref(),
            Some("(\"a b\",1)")
        );
        assert_eq!(to_text(r#"{"x":null,"n":3}"#).as_deref(), Some("(,3)"));
        assert_eq!(to_text(r#"{"x":"","n":4}"#).as_deref(), Some("(\"\",4)"));
        assert_eq!(
            to_text(r#"{"x":"say \"hi\"","n":5}"#).as_deref(),
            Some("(\"say \"\"hi\"\"\",5)")
        );
        assert_eq!(to_text(r#"{"x":3,"n":1}"#).as_deref(), Some("(3,1)"));
        assert_eq!(to_text("[1]"), None);
    }

    #[test]
    fn records_send_their_fields() {
        let bytes = send(r#"{"x":7,"n":null}"#).expect("send");
        let mut expected = 2i32.to_be_bytes().to_vec();
        expected.extend_from_slice(&20u32.to_be_bytes());
        expected.extend_from_slice(&8i32.to_be_bytes());
        expected.extend_from_slice(&7i64.to_be_bytes());
        expected.extend_from_slice(&25u32.to_be_bytes());
        expected.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(bytes, expected);
    }
}
