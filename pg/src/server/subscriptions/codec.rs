//! A compact, exact encoding of a row of SQLite values as bytes: how the
//! materialized result keeps its rows and their keys, so that equal rows
//! (and keys) have equal bytes.

use rusqlite::types::Value;

const NULL: u8 = 0;
const INTEGER: u8 = 1;
const REAL: u8 = 2;
const TEXT: u8 = 3;
const BLOB: u8 = 4;

/// The bytes of `values`.
pub(crate) fn encode(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 9);
    for value in values {
        match value {
            Value::Null => out.push(NULL),
            Value::Integer(i) => {
                out.push(INTEGER);
                out.extend_from_slice(&i.to_be_bytes());
            }
            Value::Real(f) => {
                out.push(REAL);
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Value::Text(t) => bytes(&mut out, TEXT, t.as_bytes()),
            Value::Blob(b) => bytes(&mut out, BLOB, b),
        }
    }
    out
}

fn bytes(out: &mut Vec<u8>, tag: u8, data: &[u8]) {
    out.push(tag);
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(data);
}

/// The values `encode` made `bytes` of; `None` if they are not such bytes.
pub(crate) fn decode(mut bytes: &[u8]) -> Option<Vec<Value>> {
    let mut values = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        let (value, rest) = match tag {
            NULL => (Value::Null, rest),
            INTEGER => {
                let (head, rest) = rest.split_first_chunk::<8>()?;
                (Value::Integer(i64::from_be_bytes(*head)), rest)
            }
            REAL => {
                let (head, rest) = rest.split_first_chunk::<8>()?;
                (Value::Real(f64::from_bits(u64::from_be_bytes(*head))), rest)
            }
            TEXT | BLOB => {
                let (length, rest) = rest.split_first_chunk::<4>()?;
                let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
                let data = rest.get(..length)?;
                let value = if tag == TEXT {
                    Value::Text(String::from_utf8(data.to_vec()).ok()?)
                } else {
                    Value::Blob(data.to_vec())
                };
                (value, &rest[length..])
            }
            _ => return None,
        };
        values.push(value);
        bytes = rest;
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_distinguishes_storage_classes() {
        let row = vec![
            Value::Null,
            Value::Integer(-5),
            Value::Real(1.5),
            Value::Text("é".into()),
            Value::Blob(vec![0, 1]),
        ];
        assert_eq!(decode(&encode(&row)), Some(row));
        assert_ne!(encode(&[Value::Integer(1)]), encode(&[Value::Real(1.0)]));
        assert_ne!(
            encode(&[Value::Text("1".into())]),
            encode(&[Value::Integer(1)])
        );
        assert_eq!(decode(&[9]), None);
    }
}
