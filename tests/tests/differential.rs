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

#[path = "differential/answer.rs"]
mod answer;
#[path = "differential/corpus.rs"]
mod corpus;

use answer::*;
use corpus::*;
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
