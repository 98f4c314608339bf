//! Literal hoisting: the constants of a translated write become bound
//! parameters, so statements that differ only in their values share one
//! SQLite statement. Drivers that put values into the SQL text (psycopg2,
//! node-postgres without parameters, pgbench `-M simple`) would otherwise
//! make SQLite compile every write anew, capture triggers included, which
//! costs more than running it.
//!
//! Only literals SQLite could not need to see are hoisted: those standing
//! as values (a VALUES item, the right side of `=`, a SET value), not
//! function arguments (an expression index matches only the same
//! constant), and nothing in statements with a query or a type inside.

use rusqlite::types::Value;

/// The most parameters a statement may have after hoisting (SQLite's limit
/// is 32766).
const MAX_PARAMETERS: usize = 30_000;

/// Words that mean a statement may need its constants as written: a
/// subquery (ORDER BY 1 is a position), a type (`numeric(10,2)`).
const KEEP_AS_WRITTEN: &[&str] = &["SELECT", "CAST", "AS", "COLLATE", "ORDER", "GROUP", "LIMIT"];

/// What a parenthesis follows when its contents are values, not a
/// function's arguments: VALUES rows, and the NOT NULL check the
/// translation wraps around an integer key's value.
const VALUE_WRAPPERS: &[&str] = &["VALUES", "pg_not_null"];

/// `sql` with its hoistable literals replaced by `?n` parameters numbered
/// after `bound` (the statement's own parameters), and their values; `None`
/// when nothing is hoisted.
pub(crate) fn hoist(sql: &str, bound: usize) -> Option<(String, Vec<Value>)> {
    let tokens = tokenize(sql)?;
    if tokens.iter().any(|t| {
        matches!(t.kind, Kind::Word)
            && KEEP_AS_WRITTEN
                .iter()
                .any(|k| t.text(sql).eq_ignore_ascii_case(k))
    }) {
        return None;
    }
    let mut out = String::with_capacity(sql.len());
    let mut values = Vec::new();
    let mut copied = 0;
    // For each open parenthesis: whether it opens a function's arguments.
    let mut calls: Vec<bool> = Vec::new();
    let mut previous: Option<&Token> = None;
    for token in &tokens {
        match token.kind {
            Kind::Open => calls.push(previous.is_some_and(|p| {
                p.kind == Kind::Word
                    && !VALUE_WRAPPERS
                        .iter()
                        .any(|w| p.text(sql).eq_ignore_ascii_case(w))
            })),
            Kind::Close => {
                calls.pop();
            }
            Kind::String | Kind::Number if !calls.last().copied().unwrap_or(false) => {
                let value = match token.kind {
                    Kind::String => {
                        Value::Text(token.text(sql)[1..token.len - 1].replace("''", "'"))
                    }
                    _ => number(token.text(sql))?,
                };
                values.push(value);
                out.push_str(&sql[copied..token.start]);
                out.push_str(&format!("?{}", bound + values.len()));
                copied = token.start + token.len;
            }
            _ => {}
        }
        previous = Some(token);
    }
    if values.is_empty() || bound + values.len() > MAX_PARAMETERS {
        return None;
    }
    out.push_str(&sql[copied..]);
    Some((out, values))
}

/// A numeric literal as SQLite reads it: an integer, or a real. An integer
/// too large for 64 bits is left in place (SQLite reads `-9223372036854775808`
/// as an integer, which a bound value after a minus could not be).
fn number(text: &str) -> Option<Value> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok().map(Value::Integer);
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Real)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    String,
    Number,
    Open,
    Close,
    Other,
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    start: usize,
    len: usize,
}

impl Token {
    fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.start + self.len]
    }
}

/// SQLite's tokens, as far as hoisting needs them; `None` for anything it
/// does not follow (blobs, comments), which is then left alone.
fn tokenize(sql: &str) -> Option<Vec<Token>> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'\'' => {
                i += 1;
                loop {
                    match bytes.get(i)? {
                        b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                        b'\'' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                Kind::String
            }
            b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1 + sql[i + 1..].find(close as char)? + 1;
                Kind::Word
            }
            b'0'..=b'9' | b'.' if c != b'.' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                if c == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
                    return None;
                }
                while i < bytes.len() {
                    match bytes[i] {
                        b'0'..=b'9' | b'.' => i += 1,
                        b'e' | b'E' => {
                            i += 1;
                            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                                i += 1;
                            }
                        }
                        _ => break,
                    }
                }
                Kind::Number
            }
            // A parameter: `?`, `?NNN`.
            b'?' => {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                Kind::Other
            }
            b'(' => {
                i += 1;
                Kind::Open
            }
            b')' => {
                i += 1;
                Kind::Close
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => return None,
            b'/' if bytes.get(i + 1) == Some(&b'*') => return None,
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                // A blob literal is X'…': leave the statement alone.
                if matches!(c, b'x' | b'X') && bytes.get(i + 1) == Some(&b'\'') {
                    return None;
                }
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'$')
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                i += 1;
                Kind::Other
            }
        };
        tokens.push(Token {
            kind,
            start,
            len: i - start,
        });
    }
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hoists_values_not_function_arguments() {
        let (sql, values) = hoist(
            "INSERT INTO kv VALUES (5, 'it''s', '1.5'), (-6, lower('A'), 2.5e3)",
            0,
        )
        .unwrap();
        assert_eq!(
            sql,
            "INSERT INTO kv VALUES (?1, ?2, ?3), (-?4, lower('A'), ?5)"
        );
        assert_eq!(
            values,
            [
                Value::Integer(5),
                Value::Text("it's".into()),
                Value::Text("1.5".into()),
                Value::Integer(6),
                Value::Real(2500.0)
            ]
        );
        let (sql, _) = hoist("INSERT INTO kv VALUES (pg_not_null(7, 'id', 'kv'))", 0).unwrap();
        assert_eq!(sql, "INSERT INTO kv VALUES (pg_not_null(?1, ?2, ?3))");
        let (sql, _) = hoist("UPDATE kv SET v = 'y' WHERE id = ?1 AND f(x, 3) = 4", 1).unwrap();
        assert_eq!(sql, "UPDATE kv SET v = ?2 WHERE id = ?1 AND f(x, 3) = ?3");
    }

    #[test]
    fn leaves_statements_that_need_their_constants() {
        for sql in [
            "INSERT INTO t SELECT 1, 2 ORDER BY 1",
            "UPDATE t SET n = CAST(n AS NUMERIC(10, 2))",
            "INSERT INTO t VALUES (X'00')",
            "DELETE FROM t WHERE id = 1 -- note",
            "DELETE FROM t WHERE id = ?1",
            "INSERT INTO t VALUES (0x10)",
            "INSERT INTO t VALUES (-9223372036854775808)",
        ] {
            assert_eq!(hoist(sql, 1), None, "{sql}");
        }
    }

    #[test]
    fn quoted_names_are_not_literals() {
        let (sql, _) = hoist("UPDATE \"t 1\" SET \"v'\" = 'x' WHERE [a] = 1", 0).unwrap();
        assert_eq!(sql, "UPDATE \"t 1\" SET \"v'\" = ?1 WHERE [a] = ?2");
    }
}
