//! String functions SQLite lacks or has only for ASCII, with PostgreSQL's
//! semantics over Unicode characters: `pg_lower`, `pg_upper`,
//! `pg_initcap`, `pg_reverse`, `pg_repeat`, `pg_left`, `pg_right`,
//! `pg_lpad`, `pg_rpad`, `pg_split_part`, `pg_chr`, `pg_ascii`,
//! `pg_starts_with`, `pg_translate`, `pg_regexp_replace`, `pg_format`.
//! Each returns
//! NULL when an argument is NULL (PostgreSQL's functions are strict).

use regex::Regex;
use rusqlite::functions::Context;
use rusqlite::{Connection, Result};

use super::pattern::compile;
use super::{deterministic, text_arg, user_error};
use crate::error::Error;

/// The arguments as text (see [`text_arg`]), or `None` if any is NULL.
fn args(ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
    (0..ctx.len()).map(|index| text_arg(ctx, index)).collect()
}

/// Registers a function of text arguments returning text.
fn text_function(
    conn: &Connection,
    name: &str,
    arity: i32,
    f: fn(&[String]) -> std::result::Result<String, Error>,
) -> Result<()> {
    conn.create_scalar_function(name, arity, deterministic(), move |ctx| match args(ctx)? {
        Some(values) => f(&values).map(Some).map_err(user_error),
        None => Ok(None),
    })
}

/// A text argument read as an integer (the translation passes integers).
fn count(text: &str) -> std::result::Result<i64, Error> {
    text.parse().map_err(|_| Error::InvalidText {
        ty: "integer".into(),
        value: text.into(),
    })
}

pub(super) fn register(conn: &Connection) -> Result<()> {
    text_function(conn, "pg_lower", 1, |a| Ok(a[0].to_lowercase()))?;
    text_function(conn, "pg_upper", 1, |a| Ok(a[0].to_uppercase()))?;
    text_function(conn, "pg_initcap", 1, |a| Ok(initcap(&a[0])))?;
    text_function(conn, "pg_reverse", 1, |a| Ok(a[0].chars().rev().collect()))?;
    text_function(conn, "pg_md5", 1, |a| {
        Ok(format!("{:x}", md5::compute(a[0].as_bytes())))
    })?;
    text_function(conn, "pg_repeat", 2, |a| {
        let times = usize::try_from(count(&a[1])?).unwrap_or(0);
        Ok(a[0].repeat(times))
    })?;
    text_function(conn, "pg_left", 2, |a| Ok(left(&a[0], count(&a[1])?)))?;
    text_function(conn, "pg_right", 2, |a| {
        let reversed: String = a[0].chars().rev().collect();
        Ok(left(&reversed, count(&a[1])?).chars().rev().collect())
    })?;
    for arity in [2, 3] {
        text_function(conn, "pg_lpad", arity, |a| pad(a, true))?;
        text_function(conn, "pg_rpad", arity, |a| pad(a, false))?;
    }
    text_function(conn, "pg_split_part", 3, |a| {
        split_part(&a[0], &a[1], count(&a[2])?)
    })?;
    text_function(conn, "pg_chr", 1, |a| {
        u32::try_from(count(&a[0])?)
            .ok()
            .filter(|c| *c != 0)
            .and_then(char::from_u32)
            .map(String::from)
            .ok_or_else(|| Error::OutOfRange("character number".into()))
    })?;
    conn.create_scalar_function("pg_ascii", 1, deterministic(), |ctx| {
        Ok(text_arg(ctx, 0)?.map(|s| s.chars().next().map_or(0, |c| i64::from(u32::from(c)))))
    })?;
    conn.create_scalar_function("pg_starts_with", 2, deterministic(), |ctx| {
        Ok(args(ctx)?.map(|a| a[0].starts_with(a[1].as_str())))
    })?;
    text_function(conn, "pg_translate", 3, |a| {
        Ok(translate(&a[0], &a[1], &a[2]))
    })?;
    conn.create_scalar_function("pg_format", -1, deterministic(), |ctx| {
        let Some(template) = text_arg(ctx, 0)? else {
            return Ok(None);
        };
        let values = (1..ctx.len())
            .map(|i| text_arg(ctx, i))
            .collect::<Result<Vec<_>>>()?;
        format(&template, &values).map(Some).map_err(user_error)
    })?;
    for arity in [3, 4] {
        conn.create_scalar_function("pg_regexp_replace", arity, deterministic(), |ctx| {
            let flags = if ctx.len() == 4 {
                text_arg(ctx, 3)?
            } else {
                Some(String::new())
            };
            let regex = ctx.get_or_create_aux(
                1,
                |pattern| -> std::result::Result<Option<Regex>, rusqlite::Error> {
                    match (pattern.as_str_or_null()?, &flags) {
                        (Some(pattern), Some(flags)) => {
                            compile(pattern, flags).map(Some).map_err(user_error)
                        }
                        _ => Ok(None),
                    }
                },
            )?;
            let (Some(regex), Some(text), Some(replacement), Some(flags)) =
                (regex.as_ref(), text_arg(ctx, 0)?, text_arg(ctx, 2)?, flags)
            else {
                return Ok(None);
            };
            let replacement = replacement_template(&replacement);
            let limit = if flags.contains('g') { 0 } else { 1 };
            Ok(Some(
                regex
                    .replacen(&text, limit, replacement.as_str())
                    .into_owned(),
            ))
        })?;
    }
    Ok(())
}

/// The first `n` characters; a negative `n` drops that many from the end.
fn left(text: &str, n: i64) -> String {
    let length = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
    let keep = if n < 0 { (length + n).max(0) } else { n };
    text.chars()
        .take(usize::try_from(keep).unwrap_or(0))
        .collect()
}

/// `lpad`/`rpad`: fills to `length` characters with the fill (a space by
/// default), or truncates to it.
fn pad(args: &[String], on_left: bool) -> std::result::Result<String, Error> {
    let length = usize::try_from(count(&args[1])?).unwrap_or(0);
    let fill: Vec<char> = args.get(2).map_or(" ", String::as_str).chars().collect();
    let text: Vec<char> = args[0].chars().collect();
    if text.len() >= length || fill.is_empty() {
        return Ok(text.into_iter().take(length).collect());
    }
    let filler: String = fill.iter().cycle().take(length - text.len()).collect();
    let text: String = text.into_iter().collect();
    Ok(if on_left {
        filler + &text
    } else {
        text + &filler
    })
}

fn split_part(text: &str, delimiter: &str, field: i64) -> std::result::Result<String, Error> {
    if field == 0 {
        return Err(Error::InvalidParameter(
            "field position must not be zero".into(),
        ));
    }
    if delimiter.is_empty() {
        return Ok(if field == 1 || field == -1 {
            text.to_string()
        } else {
            String::new()
        });
    }
    let parts: Vec<&str> = text.split(delimiter).collect();
    let index = if field > 0 {
        usize::try_from(field - 1).ok()
    } else {
        usize::try_from(-field)
            .ok()
            .and_then(|back| parts.len().checked_sub(back))
    };
    Ok(index
        .and_then(|i| parts.get(i))
        .map_or_else(String::new, |p| (*p).to_string()))
}

/// PostgreSQL's `format`: `%s` the value (NULL as nothing), `%I` an
/// identifier quoted when needed, `%L` a literal quoted (NULL as `NULL`),
/// `%%` a percent sign.
fn format(template: &str, values: &[Option<String>]) -> std::result::Result<String, Error> {
    let invalid = |what: &str| Error::InvalidParameter(format!("format(): {what}"));
    let mut out = String::with_capacity(template.len());
    let mut next = values.iter();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars
            .next()
            .ok_or_else(|| invalid("unterminated type specifier"))?;
        if spec == '%' {
            out.push('%');
            continue;
        }
        let value = next.next().ok_or_else(|| invalid("too few arguments"))?;
        match (spec, value) {
            ('s', value) => out.push_str(value.as_deref().unwrap_or("")),
            ('I', Some(name)) => out.push_str(&quote_ident(name)),
            ('I', None) => return Err(invalid("a null value cannot be an SQL identifier")),
            ('L', Some(text)) => out.push_str(&format!("'{}'", text.replace('\'', "''"))),
            ('L', None) => out.push_str("NULL"),
            (other, _) => {
                return Err(Error::Unsupported(format!(
                    "format() type specifier \"{other}\""
                )));
            }
        }
    }
    Ok(out)
}

/// An identifier as `quote_ident` writes it: bare when it is lower-case
/// letters, digits and underscores not starting with a digit.
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Upper-cases the first letter of each run of letters and digits, and
/// lower-cases the rest.
fn initcap(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_word = false;
    for c in text.chars() {
        if in_word {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        in_word = c.is_alphanumeric();
    }
    out
}

/// Replaces each character of `from` by the one at the same position of
/// `to`, deleting those past the end of `to`.
fn translate(text: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    text.chars()
        .filter_map(|c| match from.iter().position(|f| *f == c) {
            Some(at) => to.get(at).copied(),
            None => Some(c),
        })
        .collect()
}

/// PostgreSQL's replacement text (`\1` a group, `\&` the match, `\\` a
/// backslash) as a `regex` template.
fn replacement_template(replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().copied()) {
            ('\\', Some(d @ '1'..='9')) => {
                chars.next();
                out.push_str(&format!("${{{d}}}"));
            }
            ('\\', Some('&')) => {
                chars.next();
                out.push_str("${0}");
            }
            ('\\', Some('\\')) => {
                chars.next();
                out.push('\\');
            }
            ('$', _) => out.push_str("$$"),
            (c, _) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(sql: &str) -> Vec<Option<String>> {
        let conn = Connection::open_in_memory().expect("open");
        register(&conn).expect("register");
        let mut statement = conn.prepare(sql).expect("prepare");
        let width = statement.column_count();
        statement
            .query_row([], |r| {
                (0..width)
                    .map(|i| r.get::<_, Option<rusqlite::types::Value>>(i))
                    .collect::<Result<Vec<_>>>()
            })
            .expect("query")
            .into_iter()
            .map(|v| match v {
                Some(rusqlite::types::Value::Text(t)) => Some(t),
                Some(rusqlite::types::Value::Integer(i)) => Some(i.to_string()),
                Some(other) => Some(format!("{other:?}")),
                None => None,
            })
            .collect()
    }

    #[test]
    fn folds_unicode_case() {
        assert_eq!(
            query("SELECT pg_lower('ÄBC'), pg_upper('straße'), pg_initcap('hello wORLD-x1y')"),
            [
                Some("äbc".into()),
                Some("STRASSE".into()),
                Some("Hello World-X1y".into())
            ]
        );
    }

    #[test]
    fn match_postgres_15() {
        // SELECT reverse('abc'), repeat('ab', 3), left('abcdef', 2), right('abcdef', 2),
        //        left('abcdef', -2), lpad('5', 3, '0'), rpad('ab', 4, '*'), lpad('abcdef', 3),
        //        split_part('a,b,c', ',', 2), split_part('a,b,c', ',', -1), chr(65), ascii('é'),
        //        translate('abc', 'ab', 'x'), regexp_replace('a1b2c3', '[0-9]', '#', 'g'),
        //        regexp_replace('abc', '(b)', '[\1]')
        let got = query(
            "SELECT pg_reverse('abc'), pg_repeat('ab', 3), pg_left('abcdef', 2), pg_right('abcdef', 2), \
             pg_left('abcdef', -2), pg_lpad('5', 3, '0'), pg_rpad('ab', 4, '*'), pg_lpad('abcdef', 3), \
             pg_split_part('a,b,c', ',', 2), pg_split_part('a,b,c', ',', -1), pg_chr(65), pg_ascii('é'), \
             pg_translate('abc', 'ab', 'x'), pg_regexp_replace('a1b2c3', '[0-9]', '#', 'g'), \
             pg_regexp_replace('abc', '(b)', '[\\1]'), pg_starts_with('patina', 'pat'), \
             pg_format('%s is %L, %I %%', 'x', 'it''s', 'Col'), pg_reverse(NULL)",
        );
        let expected = [
            "cba",
            "ababab",
            "ab",
            "ef",
            "abcd",
            "005",
            "ab**",
            "abc",
            "b",
            "c",
            "A",
            "233",
            "xc",
            "a#b#c#",
            "a[b]c",
            "1",
            "x is 'it''s', \"Col\" %",
        ];
        let mut expected: Vec<Option<String>> =
            expected.iter().map(|s| Some((*s).to_string())).collect();
        expected.push(None);
        assert_eq!(got, expected);
    }
}
