//! The names a SQLite SQL text mentions, as SQLite's tokenizer would read
//! them: bare words and quoted identifiers (`"…"`, `` `…` ``, `[…]`),
//! skipping string literals and comments. The catalog finds the views a
//! statement or a view reads with it.

use std::borrow::Cow;

/// Calls `found` with every identifier of `sql`, unquoted.
pub(super) fn each_name(sql: &str, mut found: impl FnMut(&str)) {
    let bytes = sql.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\'' => at = quoted(sql, at, b'\'').0,
            b'"' | b'`' => {
                let (end, name) = quoted(sql, at, bytes[at]);
                found(&name);
                at = end;
            }
            b'[' => {
                let end = sql[at..].find(']').map_or(bytes.len(), |i| at + i);
                found(&sql[at + 1..end]);
                at = end + 1;
            }
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                at = sql[at..].find('\n').map_or(bytes.len(), |i| at + i + 1);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = sql[at + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |i| at + 2 + i + 2);
            }
            byte if is_word(byte) => {
                let end = sql[at..]
                    .bytes()
                    .position(|b| !is_word(b))
                    .map_or(bytes.len(), |i| at + i);
                found(&sql[at..end]);
                at = end;
            }
            _ => at += 1,
        }
    }
}

/// A byte of a bare word: SQLite takes every non-ASCII byte as one.
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || !byte.is_ascii()
}

/// The text quoted by `quote` at `start` (a doubled quote is one), and
/// where it ends.
fn quoted(sql: &str, start: usize, quote: u8) -> (usize, Cow<'_, str>) {
    let bytes = sql.as_bytes();
    let mut unescaped: Option<String> = None;
    let mut at = start + 1;
    let mut from = at;
    while at < bytes.len() {
        if bytes[at] == quote {
            if bytes.get(at + 1) != Some(&quote) {
                break;
            }
            unescaped
                .get_or_insert_with(String::new)
                .push_str(&sql[from..=at]);
            at += 2;
            from = at;
        } else {
            at += 1;
        }
    }
    let end = at.min(bytes.len());
    let text = match unescaped {
        None => Cow::Borrowed(&sql[from..end]),
        Some(mut text) => {
            text.push_str(&sql[from..end]);
            Cow::Owned(text)
        }
    };
    (end + 1, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<String> {
        let mut names = Vec::new();
        each_name(sql, |name| names.push(name.to_owned()));
        names
    }

    #[test]
    fn reads_words_and_quoted_names_but_not_strings_or_comments() {
        assert_eq!(
            names("SELECT c.oid FROM \"pg_catalog.pg_class\" AS c, __x"),
            [
                "SELECT",
                "c",
                "oid",
                "FROM",
                "pg_catalog.pg_class",
                "AS",
                "c",
                "__x"
            ]
        );
        assert_eq!(
            names("SELECT '\"a.b\"', 'it''s' -- \"c.d\"\n/* \"e.f\" */ [g.h] `i``j` \"k\"\"l\""),
            ["SELECT", "g.h", "i`j", "k\"l"]
        );
        assert_eq!(names("SELECT \"unterminated"), ["SELECT", "unterminated"]);
        assert_eq!(names("[open"), ["open"]);
        assert_eq!(names("x'00' é"), ["x", "é"]);
    }
}
