//! What one server said about one statement, and how two answers differ.

use super::*;

/// What one server said about one statement.
#[derive(Debug)]
pub(crate) struct Answer {
    /// Parse + Describe: the result columns, or the error.
    pub(crate) described: Result<Vec<Column>, Failure>,
    /// The simple query protocol: the rows and count, or the error.
    pub(crate) executed: Result<Executed, Failure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) oid: u32,
    pub(crate) type_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Executed {
    pub(crate) rows: Vec<Vec<Option<String>>>,
    /// The count of CommandComplete.
    pub(crate) affected: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The SQLSTATE, or `client` when the server sent none.
    pub(crate) code: String,
    pub(crate) message: String,
}

pub(crate) const TIMEOUT_CODE: &str = "timeout";

pub(crate) async fn answer(client: &Client, sql: &str) -> Answer {
    // Describe first: it executes nothing, so the state both protocols see
    // is the same.
    let described = match tokio::time::timeout(STATEMENT_TIMEOUT, client.prepare(sql)).await {
        Err(_) => Err(Failure::timeout()),
        Ok(Err(e)) => Err(Failure::from(&e)),
        Ok(Ok(statement)) => Ok(statement
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_owned(),
                oid: c.type_().oid(),
                type_name: c.type_().name().to_owned(),
            })
            .collect()),
    };
    if described.as_ref().is_err_and(|f| f.code == TIMEOUT_CODE) {
        return Answer {
            described,
            executed: Err(Failure::timeout()),
        };
    }
    let executed = match tokio::time::timeout(STATEMENT_TIMEOUT, client.simple_query(sql)).await {
        Err(_) => Err(Failure::timeout()),
        Ok(Err(e)) => Err(Failure::from(&e)),
        Ok(Ok(messages)) => {
            let mut rows = Vec::new();
            let mut affected = None;
            for message in messages {
                match message {
                    SimpleQueryMessage::Row(row) => {
                        rows.push(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_owned))
                                .collect(),
                        );
                    }
                    SimpleQueryMessage::CommandComplete(n) => affected = Some(n),
                    _ => {}
                }
            }
            Ok(Executed { rows, affected })
        }
    };
    Answer {
        described,
        executed,
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Failure {
        match e.as_db_error() {
            Some(db) => Failure {
                code: db.code().code().to_owned(),
                message: db.message().to_owned(),
            },
            None => Failure {
                code: "client".to_owned(),
                message: describe_error(e),
            },
        }
    }
}

impl Failure {
    pub(crate) fn timeout() -> Failure {
        Failure {
            code: TIMEOUT_CODE.to_owned(),
            message: format!("no answer within {STATEMENT_TIMEOUT:?}"),
        }
    }
}

impl Answer {
    /// The SQLSTATE the statement fails with, if it fails.
    pub(crate) fn error_code(&self) -> Option<String> {
        match (&self.described, &self.executed) {
            (Err(f), _) | (Ok(_), Err(f)) => Some(f.code.clone()),
            (Ok(_), Ok(_)) => None,
        }
    }

    pub(crate) fn timed_out(&self) -> bool {
        [
            &self.described.as_ref().err(),
            &self.executed.as_ref().err(),
        ]
        .iter()
        .any(|f| f.is_some_and(|f| f.code == TIMEOUT_CODE))
    }

    /// What differs between the reference (`self`) and the candidate.
    pub(crate) fn differences(&self, other: &Answer, ordered: bool) -> Vec<&'static str> {
        let mut found = Vec::new();
        match (&self.described, &other.described) {
            (Ok(a), Ok(b)) => {
                let names =
                    |cols: &[Column]| cols.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
                let oids = |cols: &[Column]| cols.iter().map(|c| c.oid).collect::<Vec<_>>();
                if names(a) != names(b) {
                    found.push("column names (prepare)");
                }
                if oids(a) != oids(b) {
                    found.push("column type OIDs (prepare)");
                }
            }
            (Err(a), Err(b)) => {
                if a.code != b.code {
                    found.push("SQLSTATE (prepare)");
                }
            }
            _ => found.push("success vs error (prepare)"),
        }
        match (&self.executed, &other.executed) {
            (Ok(a), Ok(b)) => {
                let same_rows = if ordered {
                    a.rows == b.rows
                } else {
                    sorted(&a.rows) == sorted(&b.rows)
                };
                if !same_rows {
                    found.push(if ordered {
                        "rows (ordered)"
                    } else {
                        "rows (as a multiset)"
                    });
                }
                if a.affected != b.affected {
                    found.push("row count of CommandComplete");
                }
            }
            (Err(a), Err(b)) => {
                if a.code != b.code {
                    found.push("SQLSTATE (simple query)");
                }
            }
            _ => found.push("success vs error (simple query)"),
        }
        found
    }

    pub(crate) fn show(&self) -> String {
        let mut out = String::new();
        match &self.described {
            Ok(columns) if columns.is_empty() => out.push_str("prepare: ok, no result columns"),
            Ok(columns) => {
                let columns: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{} {}({})", c.name, c.type_name, c.oid))
                    .collect();
                let _ = write!(out, "prepare: ok, columns [{}]", columns.join(", "));
            }
            Err(f) => {
                let _ = write!(out, "prepare: ERROR {}: {}", f.code, f.message);
            }
        }
        out.push('\n');
        match &self.executed {
            Ok(executed) => {
                let count = executed
                    .affected
                    .map_or_else(|| "no count".to_owned(), |n| n.to_string());
                let _ = write!(
                    out,
                    "simple query: ok, {} row(s), CommandComplete {count}",
                    executed.rows.len()
                );
                for row in executed.rows.iter().take(ROWS_SHOWN) {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|cell| {
                            cell.as_ref()
                                .map_or_else(|| "NULL".to_owned(), |v| format!("{v:?}"))
                        })
                        .collect();
                    let _ = write!(out, "\n  ({})", cells.join(", "));
                }
                if executed.rows.len() > ROWS_SHOWN {
                    let _ = write!(out, "\n  … {} more", executed.rows.len() - ROWS_SHOWN);
                }
            }
            Err(f) => {
                let _ = write!(out, "simple query: ERROR {}: {}", f.code, f.message);
            }
        }
        out
    }
}

pub(crate) fn sorted(rows: &[Vec<Option<String>>]) -> Vec<Vec<Option<String>>> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}

pub(crate) fn indent(text: &str) -> String {
    text.replace('\n', "\n  ")
}

/// Whitespace folded to single spaces, for keys.
pub(crate) fn fold(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn unordered_rows_compare_as_multisets() {
    let rows = |values: &[&str]| Executed {
        rows: values.iter().map(|v| vec![Some((*v).to_owned())]).collect(),
        affected: Some(values.len() as u64),
    };
    let answer = |values: &[&str]| Answer {
        described: Ok(Vec::new()),
        executed: Ok(rows(values)),
    };
    assert!(
        answer(&["a", "b", "b"])
            .differences(&answer(&["b", "a", "b"]), false)
            .is_empty()
    );
    assert!(
        !answer(&["a", "b", "b"])
            .differences(&answer(&["a", "a", "b"]), false)
            .is_empty()
    );
    assert!(
        !answer(&["a", "b"])
            .differences(&answer(&["b", "a"]), true)
            .is_empty()
    );
}
