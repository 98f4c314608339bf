//! Pattern matching with PostgreSQL's semantics: `pg_like(text, pattern,
//! case_insensitive)` for `LIKE`/`ILIKE` (SQLite's own `LIKE` ignores
//! ASCII case), and `pg_regex(text, pattern, flags)` for `~`, `~*`,
//! `regexp_like` (flags `i` for case-insensitive).

use regex::{Regex, RegexBuilder};
use rusqlite::{Connection, Result};

use super::{deterministic, text_arg, user_error};
use crate::error::Error;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_like", 3, deterministic(), |ctx| {
        let (Some(text), Some(pattern)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        let insensitive: bool = ctx.get(2)?;
        like(&text, &pattern, insensitive)
            .map(Some)
            .map_err(user_error)
    })?;
    conn.create_scalar_function("pg_regex", 3, deterministic(), |ctx| {
        let regex = ctx.get_or_create_aux(
            1,
            |pattern| -> std::result::Result<Option<Regex>, rusqlite::Error> {
                let Some(pattern) = pattern.as_str_or_null()? else {
                    return Ok(None);
                };
                let flags: String = text_arg(ctx, 2)?.unwrap_or_default();
                compile(pattern, &flags).map(Some).map_err(user_error)
            },
        )?;
        let text = text_arg(ctx, 0)?;
        Ok(match (regex.as_ref(), text) {
            (Some(regex), Some(text)) => Some(regex.is_match(&text)),
            _ => None,
        })
    })
}

/// Compiles a PostgreSQL regular expression. The `regex` crate's syntax
/// covers the common subset (ERE and Perl classes); back-references and
/// look-around are rejected as invalid, as `regex` does not support them.
pub(crate) fn compile(pattern: &str, flags: &str) -> std::result::Result<Regex, Error> {
    let mut builder = RegexBuilder::new(pattern);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'c' => builder.case_insensitive(false),
            'g' => continue,
            'n' | 'm' => builder.multi_line(true),
            's' => builder.dot_matches_new_line(true),
            'x' => builder.ignore_whitespace(true),
            other => {
                return Err(Error::InvalidParameter(format!(
                    "regular expression option \"{other}\""
                )));
            }
        };
    }
    builder
        .build()
        .map_err(|e| Error::InvalidRegex(e.to_string()))
}

/// PostgreSQL `LIKE`: `%` any run, `_` one character, `\` escapes; the
/// whole string must match. `ILIKE` lower-cases both sides.
pub(crate) fn like(
    text: &str,
    pattern: &str,
    insensitive: bool,
) -> std::result::Result<bool, Error> {
    let fold = |s: &str| {
        if insensitive {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let text: Vec<char> = fold(text).chars().collect();
    let mut tokens = Vec::new();
    let mut chars = fold(pattern).chars().collect::<Vec<_>>().into_iter();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '%' => Token::Any,
            '_' => Token::One,
            '\\' => Token::Literal(chars.next().ok_or_else(|| Error::InvalidText {
                ty: "LIKE pattern".into(),
                value: "LIKE pattern must not end with escape character".into(),
            })?),
            other => Token::Literal(other),
        });
    }
    Ok(matches(&text, &tokens))
}

#[derive(Clone, Copy, PartialEq)]
enum Token {
    Any,
    One,
    Literal(char),
}

/// Greedy wildcard matching with backtracking to the last `%`.
fn matches(text: &[char], tokens: &[Token]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Any) => {
                resume = Some((p, t));
                p += 1;
            }
            Some(Token::One) => {
                t += 1;
                p += 1;
            }
            Some(Token::Literal(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match resume {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    resume = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|token| *token == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_is_case_sensitive_and_ilike_is_not() {
        // SELECT 'Hello' LIKE 'h%', 'Hello' ILIKE 'h%', 'a_c' LIKE 'a\_c', 'abc' LIKE 'a\_c'
        assert_eq!(like("Hello", "h%", false), Ok(false));
        assert_eq!(like("Hello", "H%", false), Ok(true));
        assert_eq!(like("Hello", "h%", true), Ok(true));
        assert_eq!(like("ÄBC", "äbc", true), Ok(true));
        assert_eq!(like("a_c", "a\\_c", false), Ok(true));
        assert_eq!(like("abc", "a\\_c", false), Ok(false));
        assert_eq!(like("abcbc", "%bc", false), Ok(true));
        assert_eq!(like("abc", "a%c%", false), Ok(true));
        assert_eq!(like("", "%", false), Ok(true));
        assert_eq!(like("ab", "a", false), Ok(false));
        assert!(like("a", "a\\", false).is_err());
    }

    #[test]
    fn regex_functions_run_in_sqlite() {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let row: (bool, bool, bool, Option<bool>) = conn
            .query_row(
                "SELECT pg_regex('Foo42', '^f\\w+\\d$', ''), pg_regex('Foo42', '^f', 'i'), \
                 pg_like('Foo', 'f%', 0), pg_regex(NULL, 'x', '')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("query");
        assert_eq!(row, (false, true, false, None));
        let err = conn
            .query_row("SELECT pg_regex('a', '(', '')", [], |r| r.get::<_, bool>(0))
            .expect_err("invalid");
        assert_eq!(
            crate::functions::sqlstate_of(&err).map(|(code, _)| code),
            Some("2201B")
        );
    }
}
