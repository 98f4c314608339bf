//! The differential test: every statement of `tests/corpus/*.sql` runs on a
//! real PostgreSQL 15 (the reference) and on patina (the candidate), and
//! their answers must agree.
//!
//! Each corpus file runs in order, on one connection per server (files run
//! one after the other against the same two servers, so their tables need
//! distinct names). For each statement the test compares:
//!
//! - what `prepare` (Parse + Describe, the extended protocol) says: success
//!   with the result columns' names and type OIDs, or the error's SQLSTATE;
//! - what `simple_query` (the simple protocol) says: success with the rows
//!   as text and the number of rows affected, or the error's SQLSTATE.
//!   Rows of a query without a top-level ORDER BY are compared as multisets.
//!
//! Error messages are shown, never compared. All mismatches are collected
//! and reported together at the end.
//!
//! Corpus syntax: statements end with `;`. A comment line `-- error: CODE`
//! before a statement says that it must fail with that SQLSTATE; every
//! other statement must succeed. Both are checked against the reference, so
//! a wrong corpus is reported too.
//!
//! Environment:
//! - `DIFF_AGAINST=postgres` makes the candidate a second PostgreSQL: it
//!   validates the harness and that the corpus is deterministic. Unset (or
//!   `patina`): the candidate is the `patina` binary (see
//!   `patina_tests::patina_bin`).
//! - `DIFF_ONLY=text` runs only the corpus files whose name contains it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use patina_tests::tokio_postgres::{Client, Error, SimpleQueryMessage};
use patina_tests::{Patina, Postgres, describe_error};

/// Differences between patina and PostgreSQL that are intended: the
/// statement (as in the corpus, whitespace folded) and why. A mismatch on a
/// listed statement is reported but does not fail the test; a listed
/// statement that no longer differs does.
const INTENDED_DIFFERENCES: &[(&str, &str)] = &[(
    "ALTER TABLE ec_empty ADD COLUMN y int NOT NULL",
    "a NOT NULL column needs a DEFAULT in a replicated table, as in CREATE TABLE (a replica \
         may learn of a row one column at a time), so patina refuses it with 0A000 even on an \
         empty table, where PostgreSQL adds it",
)];

/// How long one statement may take on one server.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(20);

/// Rows shown per answer in the report.
const ROWS_SHOWN: usize = 20;

#[tokio::test]
async fn corpus_matches_postgres() {
    let against = std::env::var("DIFF_AGAINST").unwrap_or_default();
    let reference = Postgres::start().await;
    let (candidate, candidate_name): (Box<dyn Server>, &str) = match against.as_str() {
        "" | "patina" => match Patina::try_start_with_args::<&str>(&[]).await {
            Ok(node) => (Box::new(node), "patina"),
            Err(e) => panic!(
                "the differential test compares patina with PostgreSQL, and patina could not \
                 be started: {e}\n\n(To check the harness and the corpus without patina, run \
                 it with DIFF_AGAINST=postgres.)"
            ),
        },
        "postgres" => (
            Box::new(Postgres::start().await),
            "postgres (second server)",
        ),
        other => panic!("DIFF_AGAINST must be `patina` (the default) or `postgres`, not {other:?}"),
    };

    let only = std::env::var("DIFF_ONLY").unwrap_or_default();
    let files: Vec<PathBuf> = corpus_files()
        .into_iter()
        .filter(|f| file_name(f).contains(&only))
        .collect();
    assert!(
        !files.is_empty(),
        "no corpus file matches DIFF_ONLY={only:?}"
    );

    let checking_patina = candidate_name == "patina";
    let mut report = Report::default();
    for file in &files {
        run_file(
            file,
            reference.port(),
            candidate.port(),
            candidate_name,
            &mut report,
        )
        .await;
    }

    let mut text = String::new();
    let intended_seen = report.apply_intended(checking_patina);
    let _ = writeln!(
        text,
        "differential test: {} statements in {} files, PostgreSQL vs {candidate_name}: \
         {} mismatches, {} corpus problems, {} intended differences",
        report.statements,
        files.len(),
        report.mismatches.len(),
        report.corpus_problems.len(),
        intended_seen.len(),
    );
    if checking_patina {
        for (statement, _) in INTENDED_DIFFERENCES {
            if !intended_seen.iter().any(|seen| seen == &fold(statement)) && only.is_empty() {
                report.stale_intended.push(statement.to_string());
            }
        }
    }
    for problem in &report.corpus_problems {
        let _ = writeln!(text, "\nCORPUS PROBLEM {problem}");
    }
    for mismatch in &report.mismatches {
        let _ = writeln!(text, "\nMISMATCH {mismatch}");
    }
    for statement in &report.stale_intended {
        let _ = writeln!(
            text,
            "\nINTENDED DIFFERENCE NO LONGER SEEN (remove it from the list): {statement}"
        );
    }
    for note in &report.intended_notes {
        let _ = writeln!(text, "\nintended difference: {note}");
    }
    let failed = !report.mismatches.is_empty()
        || !report.corpus_problems.is_empty()
        || !report.stale_intended.is_empty();
    if failed {
        panic!("{text}");
    }
    print_summary(&text);
    drop(candidate);
    drop(reference);
}

#[allow(clippy::print_stderr)]
fn print_summary(text: &str) {
    eprintln!("{text}");
}

/// What the candidate needs to be: a local port speaking PostgreSQL.
trait Server {
    fn port(&self) -> u16;
}

impl Server for Postgres {
    fn port(&self) -> u16 {
        Postgres::port(self)
    }
}

impl Server for Patina {
    fn port(&self) -> u16 {
        Patina::port(self)
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Running

#[derive(Default)]
struct Report {
    statements: usize,
    mismatches: Vec<String>,
    corpus_problems: Vec<String>,
    /// Mismatches keyed by folded statement, to match against the intended
    /// differences.
    mismatch_keys: Vec<String>,
    intended_notes: Vec<String>,
    stale_intended: Vec<String>,
}

impl Report {
    /// Moves the mismatches on intended differences to notes (only when the
    /// candidate is patina); returns the folded statements that matched.
    fn apply_intended(&mut self, checking_patina: bool) -> Vec<String> {
        let mut seen = Vec::new();
        if !checking_patina {
            return seen;
        }
        let mut kept = Vec::new();
        let mut kept_keys = Vec::new();
        for (mismatch, key) in self.mismatches.drain(..).zip(self.mismatch_keys.drain(..)) {
            match INTENDED_DIFFERENCES
                .iter()
                .find(|(statement, _)| fold(statement) == key)
            {
                Some((_, reason)) => {
                    self.intended_notes.push(format!("{reason}\n{mismatch}"));
                    seen.push(key);
                }
                None => {
                    kept.push(mismatch);
                    kept_keys.push(key);
                }
            }
        }
        self.mismatches = kept;
        self.mismatch_keys = kept_keys;
        seen
    }
}

async fn run_file(
    file: &Path,
    reference_port: u16,
    candidate_port: u16,
    candidate_name: &str,
    report: &mut Report,
) {
    let name = format!("tests/corpus/{}", file_name(file));
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {name}: {e}"));
    let statements = match split_statements(&text) {
        Ok(statements) => statements,
        Err(e) => panic!("{name}: {e}"),
    };
    let reference = patina_tests::connect(reference_port).await;
    let candidate = match patina_tests::try_connect(candidate_port).await {
        Ok(client) => client,
        Err(e) => {
            report.mismatches.push(format!(
                "{name}: cannot connect to {candidate_name}: {}; the file's {} statements \
                 were not run",
                describe_error(&e),
                statements.len()
            ));
            report.mismatch_keys.push(String::new());
            return;
        }
    };
    for (index, statement) in statements.iter().enumerate() {
        report.statements += 1;
        let (expected, actual) = tokio::join!(
            answer(&reference, &statement.sql),
            answer(&candidate, &statement.sql)
        );
        let place = format!("{name}:{}", statement.line);
        if let Some(problem) = check_expectation(statement, &expected) {
            report.corpus_problems.push(format!(
                "{place}\n  {}\n  {problem}\n  PostgreSQL: {}",
                indent(&statement.sql),
                indent(&expected.show())
            ));
        }
        let ordered = has_top_level_order_by(&statement.sql);
        let differences = expected.differences(&actual, ordered);
        if !differences.is_empty() {
            report.mismatches.push(format!(
                "{place}\n  {}\n  differs in: {}\n  PostgreSQL: {}\n  {candidate_name}: {}",
                indent(&statement.sql),
                differences.join(", "),
                indent(&expected.show()),
                indent(&actual.show())
            ));
            report.mismatch_keys.push(fold(&statement.sql));
        }
        if reference.is_closed() {
            panic!("{place}: the connection to the reference PostgreSQL closed");
        }
        if candidate.is_closed() || actual.timed_out() {
            let rest = statements.len() - index - 1;
            report.mismatches.push(format!(
                "{place}: the connection to {candidate_name} {}; the file's remaining {rest} \
                 statements were not run",
                if actual.timed_out() {
                    "timed out"
                } else {
                    "closed"
                }
            ));
            report.mismatch_keys.push(String::new());
            return;
        }
    }
}

/// The corpus says whether the statement fails; check it on the reference.
fn check_expectation(statement: &Statement, answer: &Answer) -> Option<String> {
    let got = answer.error_code();
    match (&statement.expect_error, got) {
        (None, None) => None,
        (Some(want), Some(got)) if *want == got => None,
        (None, Some(got)) => Some(format!("expected to succeed, but fails with {got}")),
        (Some(want), None) => Some(format!("expected to fail with {want}, but succeeds")),
        (Some(want), Some(got)) => Some(format!(
            "expected to fail with {want}, but fails with {got}"
        )),
    }
}

// ---------------------------------------------------------------------------
// Answers

/// What one server said about one statement.
#[derive(Debug)]
struct Answer {
    /// Parse + Describe: the result columns, or the error.
    described: Result<Vec<Column>, Failure>,
    /// The simple query protocol: the rows and count, or the error.
    executed: Result<Executed, Failure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    oid: u32,
    type_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Executed {
    rows: Vec<Vec<Option<String>>>,
    /// The count of CommandComplete.
    affected: Option<u64>,
}

#[derive(Debug, Clone)]
struct Failure {
    /// The SQLSTATE, or `client` when the server sent none.
    code: String,
    message: String,
}

const TIMEOUT_CODE: &str = "timeout";

async fn answer(client: &Client, sql: &str) -> Answer {
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
    fn timeout() -> Failure {
        Failure {
            code: TIMEOUT_CODE.to_owned(),
            message: format!("no answer within {STATEMENT_TIMEOUT:?}"),
        }
    }
}

impl Answer {
    /// The SQLSTATE the statement fails with, if it fails.
    fn error_code(&self) -> Option<String> {
        match (&self.described, &self.executed) {
            (Err(f), _) | (Ok(_), Err(f)) => Some(f.code.clone()),
            (Ok(_), Ok(_)) => None,
        }
    }

    fn timed_out(&self) -> bool {
        [
            &self.described.as_ref().err(),
            &self.executed.as_ref().err(),
        ]
        .iter()
        .any(|f| f.is_some_and(|f| f.code == TIMEOUT_CODE))
    }

    /// What differs between the reference (`self`) and the candidate.
    fn differences(&self, other: &Answer, ordered: bool) -> Vec<&'static str> {
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

    fn show(&self) -> String {
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

fn sorted(rows: &[Vec<Option<String>>]) -> Vec<Vec<Option<String>>> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n  ")
}

/// Whitespace folded to single spaces, for keys.
fn fold(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------
// The corpus format

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    /// 1-based line of its first character.
    line: usize,
    /// The text without the final `;` and without leading comments.
    sql: String,
    /// `-- error: CODE` before it.
    expect_error: Option<String>,
}

/// Splits a file into statements at `;` outside quotes, comments and
/// dollar-quoted strings, and reads the `-- error: CODE` directives.
fn split_statements(text: &str) -> Result<Vec<Statement>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut start_line = 0;
    let mut line = 1;
    let mut directive: Option<(String, usize)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let at_start = current.trim().is_empty();
        // Comments.
        if c == '-' && next == Some('-') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            let comment: String = chars[i + 2..end].iter().collect();
            if at_start {
                if let Some(code) = comment.trim().strip_prefix("error:") {
                    let code = code.trim();
                    if code.len() != 5 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                        return Err(format!(
                            "line {line}: `-- error:` needs a 5-character SQLSTATE"
                        ));
                    }
                    if let Some((_, at)) = &directive {
                        return Err(format!(
                            "line {line}: second directive (first at line {at})"
                        ));
                    }
                    directive = Some((code.to_owned(), line));
                }
            } else {
                current.extend(&chars[i..end]);
            }
            i = end;
            continue;
        }
        if c == '/' && next == Some('*') {
            let (end, lines) = skip_block_comment(&chars, i)
                .ok_or_else(|| format!("line {line}: unterminated /* comment"))?;
            if !at_start {
                current.extend(&chars[i..end]);
            }
            line += lines;
            i = end;
            continue;
        }
        if c == ';' {
            if current.trim().is_empty() {
                return Err(format!("line {line}: empty statement"));
            }
            statements.push(Statement {
                line: start_line,
                sql: current.trim().to_owned(),
                expect_error: directive.take().map(|(code, _)| code),
            });
            current.clear();
            i += 1;
            continue;
        }
        if at_start && !c.is_whitespace() {
            current.clear();
            start_line = line;
        }
        // Quoted text is copied whole.
        let quoted_end = match c {
            '\'' => {
                let escapes = i > 0
                    && matches!(chars[i - 1], 'E' | 'e')
                    && (i < 2 || !(chars[i - 2].is_alphanumeric() || chars[i - 2] == '_'));
                Some(skip_quoted(&chars, i, '\'', escapes))
            }
            '"' => Some(skip_quoted(&chars, i, '"', false)),
            '$' => skip_dollar_quoted(&chars, i),
            _ => None,
        };
        match quoted_end {
            Some(Some(end)) => {
                line += chars[i..end].iter().filter(|&&c| c == '\n').count();
                current.extend(&chars[i..end]);
                i = end;
            }
            Some(None) => return Err(format!("line {line}: unterminated quoted text")),
            None => {
                if c == '\n' {
                    line += 1;
                }
                if !(at_start && c.is_whitespace()) {
                    current.push(c);
                }
                i += 1;
            }
        }
    }
    if !current.trim().is_empty() {
        return Err(format!("line {start_line}: the last statement has no `;`"));
    }
    if let Some((_, at)) = directive {
        return Err(format!("line {at}: directive without a statement after it"));
    }
    Ok(statements)
}

/// The index after the closing quote.
fn skip_quoted(
    chars: &[char],
    start: usize,
    quote: char,
    backslash_escapes: bool,
) -> Option<usize> {
    let mut i = start + 1;
    while i < chars.len() {
        if backslash_escapes && chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// `None` if `$` does not open a dollar-quoted string here (e.g. `$1`);
/// else the index after the closing tag, `Some(None)` if unterminated.
fn skip_dollar_quoted(chars: &[char], start: usize) -> Option<Option<usize>> {
    let tag_len = chars[start + 1..].iter().position(|&c| c == '$')?;
    let tag = &chars[start + 1..start + 1 + tag_len];
    if tag.first().is_some_and(char::is_ascii_digit)
        || !tag.iter().all(|c| c.is_alphanumeric() || *c == '_')
    {
        return None;
    }
    let delimiter = &chars[start..start + tag_len + 2];
    let body = start + tag_len + 2;
    Some(
        (body..=chars.len().saturating_sub(delimiter.len()))
            .find(|&j| &chars[j..j + delimiter.len()] == delimiter)
            .map(|j| j + delimiter.len()),
    )
}

/// The index after `*/` (nested comments count) and the newlines inside.
fn skip_block_comment(chars: &[char], start: usize) -> Option<(usize, usize)> {
    let mut depth = 0;
    let mut lines = 0;
    let mut i = start;
    while i + 1 < chars.len() {
        match (chars[i], chars[i + 1]) {
            ('/', '*') => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some((i, lines));
                }
            }
            (c, _) => {
                lines += usize::from(c == '\n');
                i += 1;
            }
        }
    }
    None
}

/// Whether the statement has ORDER BY outside parentheses (so its rows
/// come in a defined order). Quoted text and comments are skipped.
fn has_top_level_order_by(sql: &str) -> bool {
    let chars: Vec<char> = sql.chars().collect();
    let mut words: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '-' && next == Some('-') {
            i = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
        } else if c == '/' && next == Some('*') {
            i = skip_block_comment(&chars, i).map_or(chars.len(), |(end, _)| end);
        } else if c == '\'' || c == '"' {
            i = skip_quoted(&chars, i, c, false).unwrap_or(chars.len());
        } else if c == '$' {
            i = match skip_dollar_quoted(&chars, i) {
                Some(end) => end.unwrap_or(chars.len()),
                None => i + 1,
            };
        } else if c == '(' {
            depth += 1;
            i += 1;
        } else if c == ')' {
            depth = depth.saturating_sub(1);
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let end = chars[i..]
                .iter()
                .position(|c| !(c.is_alphanumeric() || *c == '_'))
                .map_or(chars.len(), |p| i + p);
            words.push((
                depth,
                chars[i..end]
                    .iter()
                    .collect::<String>()
                    .to_ascii_lowercase(),
            ));
            i = end;
        } else {
            i += 1;
        }
    }
    words
        .windows(2)
        .any(|w| w[0].0 == 0 && w[1].0 == 0 && w[0].1 == "order" && w[1].1 == "by")
}

// ---------------------------------------------------------------------------
// Tests of the harness itself

#[test]
fn splits_statements_and_directives() {
    let text = "-- a comment\nCREATE TABLE t (a int PRIMARY KEY);\n\n-- error: 23505\nINSERT INTO t\n  VALUES (1); -- trailing\nSELECT ';', E'\\';', $$;$$, \"x;\" /* ; */ FROM t;\n";
    let statements = split_statements(text).unwrap();
    let summary: Vec<(usize, &str, Option<&str>)> = statements
        .iter()
        .map(|s| (s.line, s.sql.as_str(), s.expect_error.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (2, "CREATE TABLE t (a int PRIMARY KEY)", None),
            (5, "INSERT INTO t\n  VALUES (1)", Some("23505")),
            (7, "SELECT ';', E'\\';', $$;$$, \"x;\" /* ; */ FROM t", None),
        ]
    );
    assert!(split_statements("SELECT 1").is_err());
    assert!(split_statements("-- error: 2350\nSELECT 1;").is_err());
    assert!(split_statements("SELECT 1;\n-- error: 23505\n").is_err());
}

#[test]
fn finds_top_level_order_by() {
    assert!(has_top_level_order_by("SELECT a FROM t ORDER BY a"));
    assert!(has_top_level_order_by(
        "select a from t order\n by a limit 1"
    ));
    assert!(!has_top_level_order_by("SELECT a FROM t"));
    assert!(!has_top_level_order_by(
        "SELECT string_agg(a, ',' ORDER BY a) FROM t"
    ));
    assert!(!has_top_level_order_by(
        "SELECT row_number() OVER (ORDER BY a) FROM t"
    ));
    assert!(!has_top_level_order_by(
        "SELECT 'order by' FROM t -- order by\n"
    ));
    assert!(!has_top_level_order_by(
        "SELECT * FROM (SELECT a FROM t ORDER BY a) s"
    ));
    assert!(!has_top_level_order_by("SELECT a AS order_by FROM t"));
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
