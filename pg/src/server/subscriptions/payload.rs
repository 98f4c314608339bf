//! The JSON payloads of subscription notifications:
//! `{"change_id":N,"op":"insert"|"update"|"delete","row_id":R,"row":{…}}`
//! (no `row` for a delete). Values are rendered as the row change feeds
//! render them (`row_feed::json`): numbers and booleans as JSON numbers and
//! booleans, `json`/`jsonb` as the JSON they hold, anything else as its
//! PostgreSQL text.

use rusqlite::types::Value;
use serde_json::Value as Json;

use super::super::row_feed;
use crate::translate::Column;

/// What happened to a result row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Insert,
    Update,
    Delete,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// The payload of change `change_id` of result row `row_id`: `row` holds
/// the row's values (ignored for a delete).
pub(crate) fn render(
    change_id: i64,
    op: Op,
    row_id: i64,
    columns: &[Column],
    row: &[Value],
) -> String {
    let mut out = format!(
        "{{\"change_id\":{change_id},\"op\":\"{}\",\"row_id\":{row_id}",
        op.name()
    );
    if op != Op::Delete {
        out.push_str(",\"row\":{");
        for (i, (column, value)) in columns.iter().zip(row).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&Json::String(column.name.clone()).to_string());
            out.push(':');
            out.push_str(&row_feed::json(value, Some(column.ty)));
        }
        out.push('}');
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PgType;

    fn column(name: &str, ty: PgType) -> Column {
        Column {
            name: name.to_owned(),
            ty,
        }
    }

    #[test]
    fn renders_rows_as_json() {
        let columns = [
            column("id", PgType::INT8),
            column("name", PgType::TEXT),
            column("ok", PgType::BOOL),
            column("doc", PgType::JSONB),
        ];
        let row = [
            Value::Integer(7),
            Value::Text("a\"b".into()),
            Value::Integer(1),
            Value::Text("{\"k\":[1,2]}".into()),
        ];
        assert_eq!(
            render(3, Op::Update, 9, &columns, &row),
            r#"{"change_id":3,"op":"update","row_id":9,"row":{"id":7,"name":"a\"b","ok":true,"doc":{"k":[1,2]}}}"#
        );
        assert_eq!(
            render(4, Op::Delete, 9, &columns, &row),
            r#"{"change_id":4,"op":"delete","row_id":9}"#
        );
    }
}
