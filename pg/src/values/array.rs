//! Arrays: stored as a JSON array of element values; read from and printed
//! as PostgreSQL's array literal (`{1,2}`, `{a,"b c",NULL}`).

use serde_json::Value as Json;

use crate::error::Error;
use crate::types::{PgType, Scalar};

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
    let is_bool = ty.scalar() == Scalar::Bool;
    let parts: Vec<String> = items
        .iter()
        .map(|item| match item {
            Json::Null => "NULL".to_string(),
            Json::Bool(b) => if *b { "t" } else { "f" }.to_string(),
            Json::Number(n) if is_bool => if n.to_string() == "0" { "f" } else { "t" }.to_string(),
            Json::Number(n) => n.to_string(),
            Json::String(s) => quote_element(s),
            other => quote_element(&other.to_string()),
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn quote_element(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.eq_ignore_ascii_case("null")
        || s.chars()
            .any(|c| c.is_whitespace() || matches!(c, '{' | '}' | ',' | '"' | '\\'));
    if !needs_quotes {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
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
    }
}
