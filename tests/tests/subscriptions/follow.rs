//! Following a query subscription as a client does: a tokio-postgres
//! connection that records its notifications, the rows
//! `patina_subscribe` returned, and the replay of each change onto them.
//! Rows are kept as text (what the simple protocol returns); JSON values
//! of the notifications are turned into the same text (`t`/`f` for
//! booleans), so a replayed result compares with the query's rows.

// Each test file uses part of these helpers.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use patina_tests::{Notification, Recording, connect_recording, rows_of};
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio_postgres::{Client, SimpleQueryMessage};

/// How long a notification may take before the test fails.
pub const ARRIVAL: Duration = Duration::from_secs(30);

pub use patina_tests::Rows;

/// A connection recording the notifications it receives.
pub struct Session {
    pub client: Client,
    pub notifications: mpsc::UnboundedReceiver<Notification>,
    /// The messages of the NOTICEs it received.
    pub notices: mpsc::UnboundedReceiver<String>,
    /// Payloads received for a channel while waiting for another.
    pending: HashMap<String, VecDeque<String>>,
}

impl Session {
    /// The next payload on `channel`.
    pub async fn next_on(&mut self, channel: &str) -> String {
        if let Some(payload) = self.pending.get_mut(channel).and_then(VecDeque::pop_front) {
            return payload;
        }
        loop {
            let Notification {
                channel: got,
                payload,
                ..
            } = tokio::time::timeout(ARRIVAL, self.notifications.recv())
                .await
                .unwrap_or_else(|_| panic!("nothing on {channel} within {ARRIVAL:?}"))
                .expect("the connection is open");
            if got == channel {
                return payload;
            }
            self.pending.entry(got).or_default().push_back(payload);
        }
    }
}

pub async fn session(addr: SocketAddr) -> Session {
    let Recording {
        client,
        notifications,
        notices,
    } = connect_recording(addr).await;
    Session {
        client,
        notifications,
        notices,
        pending: HashMap::new(),
    }
}

/// A subscription as one client follows it.
#[derive(Debug, Clone)]
pub struct Followed {
    pub id: String,
    pub change_id: i64,
    /// The query's own columns.
    pub columns: Vec<String>,
    pub rows: BTreeMap<i64, Vec<Option<String>>>,
}

/// One change as a notification carried it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub change_id: i64,
    pub op: String,
    pub row_id: i64,
    pub row: Option<Vec<Option<String>>>,
}

/// `query` quoted as a string literal.
pub fn literal(query: &str) -> String {
    format!("'{}'", query.replace('\'', "''"))
}

/// Subscribes to `query` on `session`: the id and change id come from the
/// NOTICE (`subscribed to "patina:sub:<id>" at change <n>`), and agree
/// with the rows.
pub async fn subscribe(
    session: &mut Session,
    query: &str,
) -> Result<Followed, tokio_postgres::Error> {
    let sql = format!("SELECT * FROM patina_subscribe({})", literal(query));
    let messages = session.client.simple_query(&sql).await?;
    let mut followed = Followed {
        id: String::new(),
        change_id: 0,
        columns: Vec::new(),
        rows: BTreeMap::new(),
    };
    let notice = loop {
        let notice = tokio::time::timeout(ARRIVAL, session.notices.recv())
            .await
            .expect("the subscribe NOTICE")
            .expect("the connection is open");
        if notice.starts_with("subscribed to ") {
            break notice;
        }
    };
    let (id, change_id) = notice
        .strip_prefix("subscribed to \"patina:sub:")
        .and_then(|rest| rest.split_once("\" at change "))
        .unwrap_or_else(|| panic!("not a subscribe NOTICE: {notice}"));
    followed.id = id.to_owned();
    followed.change_id = change_id.parse().expect("a change id");
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(columns) => {
                followed.columns = columns
                    .iter()
                    .skip(3)
                    .map(|c| c.name().to_owned())
                    .collect();
            }
            SimpleQueryMessage::Row(row) => {
                let text = |i: usize| row.get(i).map(str::to_owned);
                assert_eq!(text(0).as_deref(), Some(followed.id.as_str()));
                assert_eq!(text(1), Some(followed.change_id.to_string()));
                let row_id: i64 = text(2).and_then(|r| r.parse().ok()).expect("a row id");
                let values = (3..row.len()).map(text).collect();
                followed.rows.insert(row_id, values);
            }
            _ => {}
        }
    }
    Ok(followed)
}

/// The text a JSON value of a notification stands for.
fn text_of(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::Bool(b) => Some(if *b { "t" } else { "f" }.to_owned()),
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Followed {
    /// The channel its changes come on.
    pub fn channel(&self) -> String {
        format!("patina:sub:{}", self.id)
    }

    /// Reads a change payload.
    pub fn parse(&self, payload: &str) -> Change {
        let json: Json = serde_json::from_str(payload).expect("a JSON payload");
        let row = json.get("row").map(|row| {
            self.columns
                .iter()
                .map(|c| text_of(row.get(c).expect("every column")))
                .collect()
        });
        Change {
            change_id: json["change_id"].as_i64().expect("a change id"),
            op: json["op"].as_str().expect("an op").to_owned(),
            row_id: json["row_id"].as_i64().expect("a row id"),
            row,
        }
    }

    /// Applies a change; panics when it does not follow the last one or
    /// does not fit the rows.
    pub fn apply(&mut self, change: &Change) {
        assert_eq!(
            change.change_id,
            self.change_id + 1,
            "change ids follow each other: {change:?}"
        );
        self.change_id = change.change_id;
        match change.op.as_str() {
            "insert" => {
                let row = change.row.clone().expect("an inserted row");
                assert!(self.rows.insert(change.row_id, row).is_none(), "{change:?}");
            }
            "update" => {
                let row = change.row.clone().expect("an updated row");
                assert!(self.rows.insert(change.row_id, row).is_some(), "{change:?}");
            }
            "delete" => assert!(self.rows.remove(&change.row_id).is_some(), "{change:?}"),
            other => panic!("unknown op {other}"),
        }
    }

    /// Waits for the next change on this subscription's channel and
    /// applies it.
    pub async fn next(&mut self, session: &mut Session) -> Change {
        let payload = session.next_on(&self.channel()).await;
        let change = self.parse(&payload);
        self.apply(&change);
        change
    }

    /// Applies changes until the replayed rows are `expected` (any order).
    pub async fn until(&mut self, session: &mut Session, expected: &Rows) {
        let mut want = expected.clone();
        want.sort();
        while self.sorted() != want {
            self.next(session).await;
        }
    }

    /// The replayed rows, sorted.
    pub fn sorted(&self) -> Rows {
        let mut rows: Rows = self.rows.values().cloned().collect();
        rows.sort();
        rows
    }
}

/// The rows of `sql` (simple protocol).
pub async fn rows(client: &Client, sql: &str) -> Rows {
    let mut rows = rows_of(client.simple_query(sql).await.expect(sql));
    rows.sort();
    rows
}

/// The SQLSTATE `sql` fails with.
pub async fn error_code(client: &Client, sql: &str) -> String {
    match client.simple_query(sql).await {
        Ok(_) => panic!("{sql} succeeded"),
        Err(error) => error
            .code()
            .map(|c| c.code().to_owned())
            .unwrap_or_default(),
    }
}
