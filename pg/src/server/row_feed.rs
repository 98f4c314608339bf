//! Row change feeds: a session that `LISTEN "patina:changes:<table>"`
//! (the table's name as stored) hears one notification per row of that
//! table a committed transaction changed — its own node's writes and rows
//! merged from other nodes — with a JSON payload:
//!
//! ```json
//! {"table":"t","op":"insert"|"update"|"delete","pk":{"id":1},
//!  "columns":{"id":1,"name":"x"},"origin":"<site id>","db_version":7}
//! ```
//!
//! `columns` holds every column for an insert, the columns whose value
//! changed for an update (an update that changes nothing is no change),
//! nothing for a delete. Values follow their PostgreSQL types: numbers
//! (integers, floats, numeric) as JSON numbers, booleans as `true`/`false`,
//! NULL as `null`, json/jsonb embedded as JSON, anything else (arrays
//! included) as PostgreSQL prints it as text (`\x…` for bytea, ISO dates
//! and times); non-finite floats and numerics as strings (`"NaN"`).
//! `origin` and `db_version` name the transaction that wrote the row.
//! A payload stays under PostgreSQL's 8000 bytes: a change whose values
//! would not fit comes without `columns` and with `"truncated":true` (the
//! listener reads the row by its key), and one whose key alone would not
//! fit without `pk` either (the listener reads the table again).
//!
//! Notifications go out in the order this node commits: its own
//! transactions and the merges of other nodes' versions (so replaying a
//! feed follows the table on the listener's node); a transaction's row
//! changes come before its own NOTIFYs. The notifying pid is 0. The feed of a table is
//! captured ([`super::row_changes`]) while some session listens to it: its
//! LISTEN is checked when planned (42P01 for a table that does not exist
//! or is not replicated), and its capture starts when the LISTEN commits;
//! UNLISTEN, `UNLISTEN *` and disconnecting stop it. A session that falls
//! behind gets `{"op":"overflow"}` on the channel (see `notify`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use super::database::Database;
use super::errors::PgError;
use super::notify::{MAX_PAYLOAD, Notification, NotifyCommand, RESERVED_PREFIX};
use super::row_changes::{Committed, RowChange, RowOp, TableWatch};
use crate::translate::Catalog;
use crate::types::{PgType, Scalar};
use crate::values::text::to_pg_text;

/// The channels of row change feeds: this, then the table's name.
pub(crate) const CHANGES_PREFIX: &str = "patina:changes:";
/// The channels of query subscriptions (see `subscriptions`).
const SUBSCRIPTION_PREFIX: &str = "patina:sub:";

/// Checks a LISTEN of one of patina's channels: a feed's table must be a
/// replicated table of this database (named as stored); other `patina:`
/// channels than feeds and subscriptions do not exist.
pub(crate) fn check(
    reader: &Connection,
    tables: &dyn Catalog,
    command: &NotifyCommand,
) -> Result<(), PgError> {
    let NotifyCommand::Listen(channel) = command else {
        return Ok(());
    };
    if !channel.starts_with(RESERVED_PREFIX) || channel.starts_with(SUBSCRIPTION_PREFIX) {
        return Ok(());
    }
    let Some(table) = channel.strip_prefix(CHANGES_PREFIX) else {
        return Err(PgError::new(
            "22023",
            format!(
                "unknown patina channel \"{channel}\": patina serves \"{CHANGES_PREFIX}<table>\" and \"{SUBSCRIPTION_PREFIX}<id>\""
            ),
        ));
    };
    let stored: Option<String> = reader
        .prepare_cached("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?1")?
        .query_row([table], |row| row.get(0))
        .optional()?;
    // A replicated table has a primary key; patina's own are not the user's.
    let replicated =
        stored.is_some() && !table.starts_with("__patina") && !tables.primary_key(table).is_empty();
    if !replicated {
        return Err(PgError::new(
            "42P01",
            format!("relation \"{table}\" does not exist"),
        ));
    }
    Ok(())
}

/// The captures a session's feed channels hold.
#[derive(Debug, Default)]
pub(crate) struct SessionFeeds {
    watches: HashMap<String, TableWatch>,
}

impl SessionFeeds {
    /// Captures the tables of the feeds in `listening` (the session's
    /// committed listen set) and no others. Call it when a transaction has
    /// ended, not holding the writer: a new capture waits for it.
    pub async fn sync(&mut self, db: &Database, listening: &BTreeSet<String>) {
        self.watches
            .retain(|table, _| listening.contains(&format!("{CHANGES_PREFIX}{table}")));
        for channel in listening {
            let Some(table) = channel.strip_prefix(CHANGES_PREFIX) else {
                continue;
            };
            if self.watches.contains_key(table) {
                continue;
            }
            match db.watch_tables(&[table.to_owned()]).await {
                Ok(watch) => {
                    self.watches.insert(table.to_owned(), watch);
                }
                // Dropped since the LISTEN was checked: nothing to hear.
                Err(error) => tracing::warn!(%error, channel, "a row feed cannot start"),
            }
        }
    }
}

/// Publishes the feeds of `db`'s committed row changes to its listeners.
pub(crate) fn start(db: &Database) {
    let weak = db.downgrade();
    db.on_row_changes(Arc::new(move |committed: &Arc<Committed>| {
        if let Some(db) = weak.upgrade() {
            publish(&db, committed);
        }
    }));
}

fn publish(db: &Database, committed: &Committed) {
    let hub = db.hub();
    let mut types: HashMap<&str, HashMap<String, PgType>> = HashMap::new();
    let tables = db.tables();
    for row in &committed.rows {
        let channel = format!("{CHANGES_PREFIX}{}", row.table);
        if !hub.is_listened(&channel) {
            continue;
        }
        let types = types.entry(&row.table).or_insert_with(|| {
            tables
                .columns(&row.table)
                .unwrap_or_default()
                .into_iter()
                .collect()
        });
        hub.deliver(Notification {
            pid: 0,
            channel,
            payload: payload(row, types),
        });
    }
}

/// The JSON payload of one row change (keys in a fixed order), under
/// [`MAX_PAYLOAD`] bytes.
fn payload(row: &RowChange, types: &HashMap<String, PgType>) -> String {
    let op = match row.op {
        RowOp::Insert => "insert",
        RowOp::Update => "update",
        RowOp::Delete => "delete",
    };
    let head = format!(r#"{{"table":{},"op":"{op}""#, string(&row.table));
    let tail = format!(
        r#""origin":{},"db_version":{}}}"#,
        string(&row.origin),
        row.db_version
    );
    let pk = object(&row.pk, types);
    let whole = format!(
        r#"{head},"pk":{pk},"columns":{},{tail}"#,
        object(&row.columns, types)
    );
    if whole.len() < MAX_PAYLOAD {
        return whole;
    }
    let keyed = format!(r#"{head},"pk":{pk},"truncated":true,{tail}"#);
    if keyed.len() < MAX_PAYLOAD {
        return keyed;
    }
    format!(r#"{head},"truncated":true,{tail}"#)
}

fn object(pairs: &[(String, Value)], types: &HashMap<String, PgType>) -> String {
    let fields: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}:{}", string(name), json(value, types.get(name).copied())))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// A stored value as JSON, by its column's PostgreSQL type (a column the
/// catalog does not know is taken as text). Query subscriptions render
/// their rows with it too.
pub(crate) fn json(value: &Value, ty: Option<PgType>) -> String {
    if matches!(value, Value::Null) {
        return "null".to_owned();
    }
    let ty = ty.unwrap_or(PgType::TEXT);
    let text = to_pg_text(value, ty).unwrap_or_default();
    if ty.is_array() {
        return string(&text);
    }
    match ty.scalar() {
        Scalar::Bool => (text == "t").to_string(),
        Scalar::Int2
        | Scalar::Int4
        | Scalar::Int8
        | Scalar::Float4
        | Scalar::Float8
        | Scalar::Numeric(_)
        | Scalar::Oid => number(text),
        Scalar::Json | Scalar::Jsonb
            if serde_json::from_str::<serde_json::Value>(&text).is_ok() =>
        {
            text
        }
        _ => string(&text),
    }
}

/// A number as PostgreSQL prints it, as a JSON number if JSON can hold it
/// (not `NaN` or `Infinity`), else as a string.
fn number(text: String) -> String {
    match serde_json::from_str::<serde_json::Number>(&text) {
        Ok(_) => text,
        Err(_) => string(&text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_by_their_postgresql_type() {
        let cases = [
            (Value::Null, PgType::INT4, "null"),
            (Value::Integer(-7), PgType::INT8, "-7"),
            (Value::Integer(1), PgType::BOOL, "true"),
            (Value::Integer(0), PgType::BOOL, "false"),
            (Value::Real(0.5), PgType::FLOAT8, "0.5"),
            (Value::Real(f64::from(0.1f32)), PgType::FLOAT4, "0.1"),
            (Value::Text("NaN".into()), PgType::FLOAT8, r#""NaN""#),
            (Value::Text("9.90".into()), PgType::NUMERIC, "9.90"),
            (
                Value::Text("Infinity".into()),
                PgType::NUMERIC,
                r#""Infinity""#,
            ),
            (
                Value::Text(r#"{"a": [1, 2]}"#.into()),
                PgType::JSONB,
                r#"{"a": [1, 2]}"#,
            ),
            (
                Value::Text("say \"hi\"".into()),
                PgType::TEXT,
                r#""say \"hi\"""#,
            ),
            (Value::Blob(vec![0xde, 0xad]), PgType::BYTEA, r#""\\xdead""#),
            (
                Value::Text("2024-02-29 10:00:00.5+00".into()),
                PgType::TIMESTAMPTZ,
                r#""2024-02-29 10:00:00.5+00""#,
            ),
            (
                Value::Text("[1,null]".into()),
                PgType::INT4.array_of(),
                r#""{1,NULL}""#,
            ),
        ];
        for (value, ty, expected) in cases {
            assert_eq!(json(&value, Some(ty)), expected, "{value:?} as {ty}");
        }
    }

    #[test]
    fn payloads_name_the_row_and_its_writer() {
        let row = RowChange {
            table: "t".into(),
            op: RowOp::Update,
            pk: vec![("id".into(), Value::Integer(1))],
            columns: vec![
                ("ok".into(), Value::Integer(1)),
                ("note".into(), Value::Null),
            ],
            origin: "ab12".into(),
            db_version: 9,
        };
        let types = [
            ("id".to_owned(), PgType::INT4),
            ("ok".to_owned(), PgType::BOOL),
            ("note".to_owned(), PgType::TEXT),
        ]
        .into();
        assert_eq!(
            payload(&row, &types),
            r#"{"table":"t","op":"update","pk":{"id":1},"columns":{"ok":true,"note":null},"origin":"ab12","db_version":9}"#
        );
    }

    #[test]
    fn payloads_stay_under_postgres_limit() {
        let types: HashMap<String, PgType> = [
            ("id".to_owned(), PgType::TEXT),
            ("note".to_owned(), PgType::TEXT),
        ]
        .into();
        let row = |id: &str, note: &str| RowChange {
            table: "t".into(),
            op: RowOp::Insert,
            pk: vec![("id".into(), Value::Text(id.into()))],
            columns: vec![
                ("id".into(), Value::Text(id.into())),
                ("note".into(), Value::Text(note.into())),
            ],
            origin: "ab12".into(),
            db_version: 3,
        };
        let fits = payload(&row("k", &"x".repeat(7800)), &types);
        assert!(fits.len() < MAX_PAYLOAD && fits.contains(r#""columns""#));
        assert_eq!(
            payload(&row("k", &"x".repeat(8000)), &types),
            r#"{"table":"t","op":"insert","pk":{"id":"k"},"truncated":true,"origin":"ab12","db_version":3}"#
        );
        assert_eq!(
            payload(&row(&"k".repeat(8000), "x"), &types),
            r#"{"table":"t","op":"insert","truncated":true,"origin":"ab12","db_version":3}"#
        );
    }
}
