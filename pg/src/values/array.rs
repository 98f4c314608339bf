//! Arrays: stored as a JSON array of element values; read from and printed
//! as PostgreSQL's array literal (`{1,2}`, `{a,"b c",NULL}`).

use rusqlite::types::Value;
use serde_json::Value as Json;

use crate::error::Error;
use crate::types::PgType;
use crate::values::cast::json_to_value;
use crate::values::text::to_pg_text;

/// Splits a one-dimensional PostgreSQL array literal into its elements
/// (`None` for an unquoted `NULL`).
pub fn parse_literal(input: &str, ty: PgType) -> Result<Vec<Option<String>>, Error> {
    let invalid = || Error::InvalidText {
        ty: ty.to_string(),
        value: input.into(),
    };
    let inner = input
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(invalid)?;
    let mut elements = Vec::new();
    if inner.trim().is_empty() {
        return Ok(elements);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut element = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next().ok_or_else(invalid)? {
                    '"' => break,
                    '\\' => element.push(chars.next().ok_or_else(invalid)?),
                    c => element.push(c),
                }
            }
        }
        while let Some(&c) = chars.peek() {
            if c == ',' {
                break;
            }
            if c == '{' || c == '}' || c == '"' || (quoted && !c.is_whitespace()) {
                return Err(Error::Unsupported(format!("array literal {input}")));
            }
            if c == '\\' {
                chars.next();
                element.push(chars.next().ok_or_else(invalid)?);
                continue;
            }
            element.push(c);
            chars.next();
        }
        if quoted {
            elements.push(Some(element));
        } else {
            let trimmed = element.trim();
            if trimmed.is_empty() {
                return Err(invalid());
            }
            elements.push((!trimmed.eq_ignore_ascii_case("null")).then(|| trimmed.to_string()));
        }
        if chars.next().is_none() {
            return Ok(elements);
        }
    }
}

/// Prints a stored JSON array as PostgreSQL's array literal.
pub fn json_to_pg_text(json: &str, ty: PgType) -> String {
    let Ok(Json::Array(items)) = serde_json::from_str::<Json>(json) else {
        return json.to_string();
    };
    let element = ty.element();
    let values: Vec<Value> = items
        .into_iter()
        .map(|item| json_to_value(item, element))
        .collect();
    if ty.is_vector() {
        return crate::values::vector::literal(&values, element.unwrap_or(ty));
    }
    literal(&values, element.unwrap_or(ty))
}

/// PostgreSQL's array literal (`array_out`) of stored element values.
pub fn literal(items: &[Value], element: PgType) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|item| to_pg_text(item, element).map_or_else(|| "NULL".to_owned(), |t| quote(&t)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// An element as `array_out` writes it: in double quotes (with `"` and `\`
/// escaped) if empty, `NULL` in any case, or holding a delimiter, brace,
/// quote, backslash or ASCII white space (other white space stays bare).
fn quote(text: &str) -> String {
    let needs_quotes = text.is_empty()
        || text.eq_ignore_ascii_case("null")
        || text.bytes().any(|b| {
            matches!(
                b,
                b'{' | b'}' | b',' | b'"' | b'\\' | b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c
            )
        });
    if !needs_quotes {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_array_literals() {
        let t = PgType::TEXT.array_of();
        assert_eq!(
            parse_literal(r#"{a, "b c",NULL,"\"q", "NULL"}"#, t),
            Ok(vec![
                Some("a".into()),
                Some("b c".into()),
                None,
                Some("\"q".into()),
                Some("NULL".into())
            ])
        );
        assert_eq!(parse_literal("{}", t), Ok(vec![]));
        assert!(parse_literal("1,2", t).is_err());
        assert!(matches!(
            parse_literal("{{1},{2}}", t),
            Err(Error::Unsupported(_))
        ));
    }

    #[test]
    fn prints_like_postgres_15() {
        // SELECT ARRAY['a','b c',NULL,'"q']::text[] → {a,"b c",NULL,"\"q"}
        let t = PgType::TEXT.array_of();
        assert_eq!(
            json_to_pg_text(r#"["a","b c",null,"\"q"]"#, t),
            r#"{a,"b c",NULL,"\"q"}"#
        );
        assert_eq!(
            json_to_pg_text("[1.5,2]", PgType::NUMERIC.array_of()),
            "{1.5,2}"
        );
        assert_eq!(
            json_to_pg_text("[true,false]", PgType::BOOL.array_of()),
            "{t,f}"
        );
        // SELECT ARRAY[0.1,1e20]::real[]::text, ARRAY[E'a\u00a0b']::text,
        //        ARRAY['Infinity'::float8, 'NaN']::text
        assert_eq!(
            json_to_pg_text(
                "[0.10000000149011612,1.0000000200408773e20]",
                PgType::FLOAT4.array_of()
            ),
            "{0.1,1e+20}"
        );
        assert_eq!(
            json_to_pg_text("[\"a\u{a0}b\"]", PgType::TEXT.array_of()),
            "{a\u{a0}b}"
        );
        assert_eq!(
            json_to_pg_text(r#"["Infinity","NaN"]"#, PgType::FLOAT8.array_of()),
            "{Infinity,NaN}"
        );
    }
}
