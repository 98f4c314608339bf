//! SQL-level prepared statements: `PREPARE name [(types)] AS statement` and
//! `EXECUTE name [(arguments)]`, read from the statement text. The session
//! keeps them with the protocol-level ones (`DEALLOCATE` drops both, as in
//! PostgreSQL).

use super::errors::PgError;

/// `PREPARE name [(type, …)] AS statement`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prepare {
    pub name: String,
    pub types: Vec<String>,
    pub body: String,
}

/// `EXECUTE name [(argument, …)]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Execute {
    pub name: String,
    pub arguments: Vec<String>,
}

/// Reads a PREPARE; `None` if `sql` is not one.
pub(crate) fn prepare(sql: &str) -> Option<Result<Prepare, PgError>> {
    let rest = strip_keyword(sql.trim(), "PREPARE")?;
    let (name, rest) = split_name(rest);
    let (types, rest) = match rest.strip_prefix('(') {
        Some(inner) => match closing_parenthesis(inner) {
            Some(end) => (
                split_top_level(&inner[..end]),
                inner[end + 1..].trim_start(),
            ),
            None => return Some(Err(syntax("PREPARE"))),
        },
        None => (Vec::new(), rest),
    };
    let Some(body) = strip_keyword(rest, "AS") else {
        return Some(Err(syntax("PREPARE")));
    };
    let body = body.trim().trim_end_matches(';').trim();
    if name.is_empty() || body.is_empty() {
        return Some(Err(syntax("PREPARE")));
    }
    Some(Ok(Prepare {
        name,
        types,
        body: body.to_owned(),
    }))
}

/// Reads an EXECUTE; `None` if `sql` is not one.
pub(crate) fn execute(sql: &str) -> Option<Result<Execute, PgError>> {
    let rest = strip_keyword(sql.trim(), "EXECUTE")?;
    let (name, rest) = split_name(rest);
    let rest = rest.trim().trim_end_matches(';').trim();
    let arguments = match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) => split_top_level(inner),
        None if rest.is_empty() => Vec::new(),
        None => return Some(Err(syntax("EXECUTE"))),
    };
    if name.is_empty() {
        return Some(Err(syntax("EXECUTE")));
    }
    Some(Ok(Execute { name, arguments }))
}

fn syntax(what: &str) -> PgError {
    PgError::new("42601", format!("syntax error in {what}"))
}

/// `text` without its leading `keyword` (any case, followed by a space or
/// a parenthesis).
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    let rest = &text[keyword.len()..];
    (head.eq_ignore_ascii_case(keyword)
        && rest.starts_with(|c: char| c.is_whitespace() || c == '('))
    .then(|| rest.trim_start())
}

/// A statement name (folded to lower case unless quoted) and what follows.
fn split_name(text: &str) -> (String, &str) {
    if let Some(quoted) = text.strip_prefix('"')
        && let Some(end) = quoted.find('"')
    {
        return (quoted[..end].to_owned(), quoted[end + 1..].trim_start());
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    (text[..end].to_ascii_lowercase(), text[end..].trim_start())
}

/// Where the parenthesis opened just before `text` closes.
fn closing_parenthesis(text: &str) -> Option<usize> {
    let mut depth = 1usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at commas outside parentheses and quotes.
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                parts.push(std::mem::take(&mut current).trim().to_owned());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prepare() {
        let p = prepare("PREPARE by_id (int, numeric(10,2)) AS SELECT id FROM t WHERE id = $1;")
            .and_then(Result::ok);
        assert_eq!(
            p,
            Some(Prepare {
                name: "by_id".into(),
                types: vec!["int".into(), "numeric(10,2)".into()],
                body: "SELECT id FROM t WHERE id = $1".into(),
            })
        );
        assert!(prepare("prepare q as select 1").is_some_and(|p| p.is_ok()));
        assert!(prepare("SELECT 1").is_none());
        assert!(prepare("PREPARE q SELECT 1").is_some_and(|p| p.is_err()));
    }

    #[test]
    fn reads_execute() {
        let e = execute("EXECUTE by_id (1, 'a,b', f(2, 3))").and_then(Result::ok);
        assert_eq!(
            e,
            Some(Execute {
                name: "by_id".into(),
                arguments: vec!["1".into(), "'a,b'".into(), "f(2, 3)".into()],
            })
        );
        assert!(execute("execute q").is_some_and(|e| e.is_ok_and(|e| e.arguments.is_empty())));
        assert!(execute("EXECUTED").is_none());
    }
}
