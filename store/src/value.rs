//! SQLite values as they travel in change rows, and the order merge uses to
//! break ties between them.

use std::cmp::Ordering;

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

/// One SQLite value, with its storage class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// Rank of the storage class in the merge tie-break:
    /// NULL < BLOB < TEXT < REAL < INTEGER (cr-sqlite's order, not SQLite's sort order).
    fn class_rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Blob(_) => 1,
            Value::Text(_) => 2,
            Value::Real(_) => 3,
            Value::Integer(_) => 4,
        }
    }

    /// The order that decides between two writes with equal causal length and
    /// column version: storage class first, then numerically for numbers and
    /// byte by byte for text and blobs (no collation).
    pub fn merge_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Real(a), Value::Real(b)) => a.total_cmp(b),
            (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Blob(a), Value::Blob(b)) => a.cmp(b),
            _ => self.class_rank().cmp(&other.class_rank()),
        }
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(value: ValueRef<'_>) -> Self {
        match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl FromSql for Value {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(value.into())
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn storage_class_decides_before_content() {
        let ascending = [
            Value::Null,
            Value::Blob(vec![0xff; 4]),
            text(""),
            text("zzz"),
            Value::Real(-1e300),
            Value::Real(1e300),
            Value::Integer(i64::MIN),
            Value::Integer(1),
        ];
        for pair in ascending.windows(2) {
            assert_eq!(pair[0].merge_cmp(&pair[1]), Ordering::Less, "{pair:?}");
            assert_eq!(pair[1].merge_cmp(&pair[0]), Ordering::Greater, "{pair:?}");
        }
    }

    #[test]
    fn text_compares_bytes_without_collation() {
        assert_eq!(text("B").merge_cmp(&text("a")), Ordering::Less);
        assert_eq!(text("10").merge_cmp(&text("9")), Ordering::Less);
        assert_eq!(text("ab").merge_cmp(&text("abc")), Ordering::Less);
        assert_eq!(text("x").merge_cmp(&text("x")), Ordering::Equal);
    }

    #[test]
    fn null_loses_to_empty_text() {
        assert_eq!(Value::Null.merge_cmp(&text("")), Ordering::Less);
    }

    #[test]
    fn numbers_compare_numerically_within_their_class() {
        assert_eq!(
            Value::Integer(9).merge_cmp(&Value::Integer(10)),
            Ordering::Less
        );
        assert_eq!(
            Value::Real(2.5).merge_cmp(&Value::Real(10.0)),
            Ordering::Less
        );
    }
}
