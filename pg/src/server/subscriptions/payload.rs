//! The JSON payloads of subscription notifications:
//! `{"change_id":N,"op":"insert"|"update"|"delete","row_id":R,"row":{…}}`
//! (no `row` for a delete). A payload must stay under PostgreSQL's 8000
//! bytes (drivers may rely on it): a row too large for that is sent as
//! `"truncated":true` without `row`, and the client reads the result
//! again. A subscription whose query stops running ends with
//! `{"op":"dropped","reason":…}`. Values are rendered as the row change feeds
//! render them (`row_feed::json`): numbers and booleans as JSON numbers and
//! booleans, `json`/`jsonb` as the JSON they hold, anything else as its
//! PostgreSQL text.

use rusqlite::types::Value;
use serde_json::Value as Json;

use super::super::row_feed;
use crate::translate::Column;

use super::super::notify::MAX_PAYLOAD as LIMIT;

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
    if out.len() < LIMIT {
        return out;
    }
    format!(
        "{{\"change_id\":{change_id},\"op\":\"{}\",\"row_id\":{row_id},\"truncated\":true}}",
        op.name()
    )
}

/// The last notification of a subscription dropped because its query no
/// longer runs.
pub(crate) fn dropped(reason: &str) -> String {
    // Leaves room for the rest of the payload.
    let mut end = reason.len().min(LIMIT / 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{{\"op\":\"dropped\",\"reason\":{}}}",
        Json::String(reason[..end].to_owned())
    )
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

    #[test]
    fn payloads_stay_under_the_limit() {
        let columns = [column("id", PgType::INT8), column("doc", PgType::TEXT)];
        let fits = [Value::Integer(1), Value::Text("é".repeat(3900))];
        let rendered = render(5, Op::Insert, 2, &columns, &fits);
        assert!(rendered.len() < LIMIT && rendered.contains("\"row\""));
        let large = [Value::Integer(1), Value::Text("é".repeat(4000))];
        assert_eq!(
            render(5, Op::Insert, 2, &columns, &large),
            r#"{"change_id":5,"op":"insert","row_id":2,"truncated":true}"#
        );
        let reason = dropped(&"é\"".repeat(5000));
        assert!(reason.len() < LIMIT, "{}", reason.len());
        let json: Json = serde_json::from_str(&reason).expect("JSON");
        assert_eq!(json["op"], "dropped");
        assert_eq!(
            dropped("no such table: pets"),
            r#"{"op":"dropped","reason":"no such table: pets"}"#
        );
    }
}
