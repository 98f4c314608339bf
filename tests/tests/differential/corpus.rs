//! The corpus format: statements, `-- error:` directives, top-level ORDER BY.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    /// 1-based line of its first character.
    pub(crate) line: usize,
    /// The text without the final `;` and without leading comments.
    pub(crate) sql: String,
    /// `-- error: CODE` before it.
    pub(crate) expect_error: Option<String>,
}

/// Splits a file into statements at `;` outside quotes, comments and
/// dollar-quoted strings, and reads the `-- error: CODE` directives.
pub(crate) fn split_statements(text: &str) -> Result<Vec<Statement>, String> {
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
pub(crate) fn skip_quoted(
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
pub(crate) fn skip_dollar_quoted(chars: &[char], start: usize) -> Option<Option<usize>> {
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
pub(crate) fn skip_block_comment(chars: &[char], start: usize) -> Option<(usize, usize)> {
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
pub(crate) fn has_top_level_order_by(sql: &str) -> bool {
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
