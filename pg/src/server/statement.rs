//! Splitting a query string into statements, and telling the session's own
//! statements (transaction control, SET/SHOW/RESET, DISCARD, DEALLOCATE,
//! CLOSE) from SQL that is translated and run on SQLite.

use super::errors::PgError;

/// A statement the session answers itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// BEGIN / START TRANSACTION (its tag), with its characteristics.
    Begin(Characteristics, &'static str),
    /// SET TRANSACTION …: the characteristics of the current block.
    SetTransaction(Characteristics),
    Commit,
    Rollback,
    /// SAVEPOINT, RELEASE and ROLLBACK TO, run as written.
    Savepoint {
        sql: String,
        tag: &'static str,
        rolls_back: bool,
    },
    Set {
        name: String,
        value: Option<String>,
        /// SET LOCAL: until the end of the transaction.
        local: bool,
    },
    Show(String),
    Reset(Option<String>),
    DiscardAll,
    Deallocate(Option<String>),
    CloseAll,
    /// Accepted and without effect here (SET SESSION CHARACTERISTICS …).
    NoOp(&'static str),
    /// `SELECT pg_advisory_unlock_all()`: patina takes no advisory locks.
    AdvisoryUnlockAll,
}

/// A transaction's isolation level and access mode, where a statement
/// names them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Characteristics {
    /// `read committed`, `repeatable read`, `serializable`, …
    pub isolation: Option<String>,
    pub read_only: Option<bool>,
}

impl Characteristics {
    fn of(upper: &[String]) -> Characteristics {
        let after = |word: &str| {
            upper
                .iter()
                .position(|w| w == word)
                .map(|i| &upper[i + 1..])
        };
        let isolation = after("LEVEL").and_then(|rest| {
            let level = match rest {
                [a, b, ..] if a == "READ" || a == "REPEATABLE" => format!("{a} {b}"),
                [a, ..] => a.clone(),
                [] => return None,
            };
            Some(level.trim_end_matches(',').to_ascii_lowercase())
        });
        let read_only =
            upper
                .windows(2)
                .find_map(|pair| match (pair[0].as_str(), pair[1].as_str()) {
                    ("READ", "ONLY") => Some(true),
                    ("READ", "WRITE") => Some(false),
                    _ => None,
                });
        Characteristics {
            isolation,
            read_only,
        }
    }
}

/// Splits a query string into its statements' texts, rejecting a syntax
/// error before anything runs (as PostgreSQL does).
pub(crate) fn split(sql: &str) -> Result<Vec<String>, PgError> {
    crate::translate::split(sql).map_err(|e| PgError::from(e).located_in(sql))
}

fn words(sql: &str) -> Vec<String> {
    sql.split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    if v.len() >= 2
        && (v.starts_with('\'') && v.ends_with('\'') || v.starts_with('"') && v.ends_with('"'))
    {
        v[1..v.len() - 1].replace("''", "'")
    } else {
        v.to_owned()
    }
}

/// The settings of a startup packet's `options`: `-c name=value` and
/// `--name=value`, separated by spaces (a backslash escapes one).
pub(crate) fn startup_options(options: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut settings = Vec::new();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let setting = match word.strip_prefix("--") {
            Some(setting) => Some(setting.to_owned()),
            None if word == "-c" => words.next(),
            None => word.strip_prefix("-c").map(str::to_owned),
        };
        if let Some((name, value)) = setting.as_deref().and_then(|s| s.split_once('=')) {
            settings.push((name.replace('-', "_"), value.to_owned()));
        }
    }
    settings
}

/// The session command `sql` is, or `None` for SQL to translate.
pub(crate) fn command(sql: &str) -> Option<Command> {
    let words = words(sql);
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let first = upper.first()?.as_str();
    let second = upper.get(1).map(String::as_str);
    Some(match (first, second) {
        ("BEGIN", _) => Command::Begin(Characteristics::of(&upper), "BEGIN"),
        ("START", _) => Command::Begin(Characteristics::of(&upper), "START TRANSACTION"),
        ("COMMIT" | "END", _) => Command::Commit,
        ("ROLLBACK" | "ABORT", _) if upper.iter().any(|w| w == "TO") => Command::Savepoint {
            sql: sql.to_owned(),
            tag: "ROLLBACK",
            rolls_back: true,
        },
        ("ROLLBACK" | "ABORT", _) => Command::Rollback,
        ("SAVEPOINT", _) => Command::Savepoint {
            sql: sql.to_owned(),
            tag: "SAVEPOINT",
            rolls_back: false,
        },
        ("RELEASE", _) => Command::Savepoint {
            sql: sql.to_owned(),
            tag: "RELEASE",
            rolls_back: false,
        },
        ("SET", Some("TRANSACTION")) => Command::SetTransaction(Characteristics::of(&upper)),
        ("SET", Some("SESSION")) if upper.get(2).is_some_and(|w| w == "CHARACTERISTICS") => {
            Command::NoOp("SET")
        }
        ("SET", _) => {
            let rest = sql.trim().trim_end_matches(';')[3..].trim();
            let local = second == Some("LOCAL");
            let rest = rest
                .strip_prefix("SESSION ")
                .or_else(|| rest.strip_prefix("session "))
                .or_else(|| rest.strip_prefix("LOCAL "))
                .or_else(|| rest.strip_prefix("local "))
                .unwrap_or(rest);
            let (name, value) = rest
                .split_once('=')
                .or_else(|| rest.split_once(" TO "))
                .or_else(|| rest.split_once(" to "))
                .map(|(n, v)| (n.trim(), v.trim()))
                .or_else(|| {
                    // SET TIME ZONE 'UTC'
                    let lower = rest.to_ascii_lowercase();
                    lower
                        .starts_with("time zone")
                        .then(|| ("timezone", rest[9..].trim()))
                })?;
            let value = (!value.eq_ignore_ascii_case("DEFAULT"))
                .then(|| value.split(',').map(unquote).collect::<Vec<_>>().join(", "));
            Command::Set {
                name: name.to_ascii_lowercase(),
                value,
                local,
            }
        }
        ("SHOW", _) => Command::Show(words[1..].join(" ").to_ascii_lowercase()),
        ("RESET", Some("ALL")) => Command::Reset(None),
        ("RESET", Some(_)) => Command::Reset(Some(words[1].to_ascii_lowercase())),
        ("DISCARD", _) => Command::DiscardAll,
        ("DEALLOCATE", _) => match upper.last().map(String::as_str) {
            Some("ALL") => Command::Deallocate(None),
            _ => Command::Deallocate(words.last().map(|w| unquote(w))),
        },
        ("CLOSE", Some("ALL")) => Command::CloseAll,
        ("SELECT", _) if upper.len() == 2 && upper[1].starts_with("PG_ADVISORY_UNLOCK_ALL(") => {
            Command::AdvisoryUnlockAll
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_rejects_syntax_errors_up_front() {
        assert_eq!(split("SELECT 1; SELECT 2").unwrap().len(), 2);
        assert_eq!(split("SELECT 1; SELEC 2").unwrap_err().code, "42601");
    }

    #[test]
    fn reads_startup_options() {
        assert_eq!(
            startup_options("-c search_path=app  --statement-timeout=5 -cwork_mem=1MB -c a=b\\ c"),
            vec![
                ("search_path".to_owned(), "app".to_owned()),
                ("statement_timeout".to_owned(), "5".to_owned()),
                ("work_mem".to_owned(), "1MB".to_owned()),
                ("a".to_owned(), "b c".to_owned()),
            ]
        );
    }

    #[test]
    fn recognises_session_statements() {
        assert_eq!(
            command("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
            Some(Command::Begin(
                Characteristics {
                    isolation: Some("repeatable read".into()),
                    read_only: Some(true)
                },
                "BEGIN"
            ))
        );
        assert_eq!(
            command("START TRANSACTION"),
            Some(Command::Begin(
                Characteristics::default(),
                "START TRANSACTION"
            ))
        );
        assert_eq!(command("end"), Some(Command::Commit));
        assert_eq!(
            command("SET application_name = 'psql'"),
            Some(Command::Set {
                name: "application_name".into(),
                value: Some("psql".into()),
                local: false
            })
        );
        assert_eq!(
            command("SET LOCAL extra_float_digits TO 3"),
            Some(Command::Set {
                name: "extra_float_digits".into(),
                value: Some("3".into()),
                local: true
            })
        );
        assert_eq!(
            command("SHOW TRANSACTION ISOLATION LEVEL"),
            Some(Command::Show("transaction isolation level".into()))
        );
        assert_eq!(command("RESET ALL"), Some(Command::Reset(None)));
        assert_eq!(
            command("SELECT pg_advisory_unlock_all()"),
            Some(Command::AdvisoryUnlockAll)
        );
        assert!(matches!(
            command("ROLLBACK TO SAVEPOINT a"),
            Some(Command::Savepoint {
                rolls_back: true,
                ..
            })
        ));
        assert_eq!(command("ROLLBACK"), Some(Command::Rollback));
        assert_eq!(
            command("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
            Some(Command::SetTransaction(Characteristics {
                isolation: Some("serializable".into()),
                read_only: None
            }))
        );
        assert_eq!(command("SELECT 1"), None);
    }
}
