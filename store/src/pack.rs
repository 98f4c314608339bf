//! A compact, self-describing encoding of primary-key values, so one log
//! table can point at rows of tables with any key shape. Each value is a
//! tag byte then its payload: integers and reals as 8 big-endian bytes,
//! text and blobs as a 4-byte big-endian length then the bytes.

use crate::Value;

const NULL: u8 = 0;
const INTEGER: u8 = 1;
const REAL: u8 = 2;
const TEXT: u8 = 3;
const BLOB: u8 = 4;

pub(crate) fn pack<'a>(values: impl IntoIterator<Item = rusqlite::types::ValueRef<'a>>) -> Vec<u8> {
    use rusqlite::types::ValueRef;
    let mut out = Vec::with_capacity(16);
    for value in values {
        match value {
            ValueRef::Null => out.push(NULL),
            ValueRef::Integer(i) => {
                out.push(INTEGER);
                out.extend_from_slice(&i.to_be_bytes());
            }
            ValueRef::Real(r) => {
                out.push(REAL);
                out.extend_from_slice(&r.to_bits().to_be_bytes());
            }
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                out.push(if matches!(value, ValueRef::Text(_)) {
                    TEXT
                } else {
                    BLOB
                });
                out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }
    out
}

/// Decodes what [`pack`] wrote; `None` if the bytes are not such an encoding.
pub(crate) fn unpack(mut bytes: &[u8]) -> Option<Vec<Value>> {
    let mut values = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        let (value, rest) = match tag {
            NULL => (Value::Null, rest),
            INTEGER | REAL => {
                let (word, rest) = rest.split_first_chunk::<8>()?;
                let value = if tag == INTEGER {
                    Value::Integer(i64::from_be_bytes(*word))
                } else {
                    Value::Real(f64::from_bits(u64::from_be_bytes(*word)))
                };
                (value, rest)
            }
            TEXT | BLOB => {
                let (len, rest) = rest.split_first_chunk::<4>()?;
                let len = u32::from_be_bytes(*len) as usize;
                let (data, rest) = (rest.get(..len)?, &rest[len..]);
                let value = if tag == TEXT {
                    Value::Text(String::from_utf8(data.to_vec()).ok()?)
                } else {
                    Value::Blob(data.to_vec())
                };
                (value, rest)
            }
            _ => return None,
        };
        values.push(value);
        bytes = rest;
    }
    Some(values)
}

/// Packs owned values (merge's keys).
pub(crate) fn pack_values(values: &[Value]) -> Vec<u8> {
    use rusqlite::types::ValueRef;
    pack(values.iter().map(|v| match v {
        Value::Null => ValueRef::Null,
        Value::Integer(i) => ValueRef::Integer(*i),
        Value::Real(r) => ValueRef::Real(*r),
        Value::Text(t) => ValueRef::Text(t.as_bytes()),
        Value::Blob(b) => ValueRef::Blob(b),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_storage_class() {
        let values = vec![
            Value::Null,
            Value::Integer(-7),
            Value::Real(2.5),
            Value::Text("héllo".to_owned()),
            Value::Blob(vec![0, 255]),
            Value::Text(String::new()),
        ];
        assert_eq!(unpack(&pack_values(&values)), Some(values));
    }

    #[test]
    fn rejects_truncated_and_unknown_input() {
        let packed = pack_values(&[Value::Text("abc".to_owned())]);
        assert_eq!(unpack(&packed[..packed.len() - 1]), None);
        assert_eq!(unpack(&[9]), None);
        assert_eq!(unpack(&[INTEGER, 1, 2]), None);
    }

    #[test]
    fn text_and_blob_of_same_bytes_differ() {
        assert_ne!(
            pack_values(&[Value::Text("a".to_owned())]),
            pack_values(&[Value::Blob(b"a".to_vec())])
        );
    }
}
