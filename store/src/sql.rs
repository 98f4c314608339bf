//! Helpers for writing SQL text safely.

/// Quotes an identifier for SQLite (`"a""b"`).
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `a = ?1 AND b = ?2`: one numbered parameter per column, from `first`.
pub(crate) fn params_match(prefix: &str, columns: &[String], first: usize) -> String {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{prefix}{} = ?{}", ident(c), first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `l.a = r.a AND l.b = r.b`.
pub(crate) fn columns_match(left: &str, right: &str, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("{left}.{0} = {right}.{0}", ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `p.a, p.b`.
pub(crate) fn column_list(prefix: &str, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("{prefix}{}", ident(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_embedded_quotes() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn builds_numbered_matches() {
        let cols = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(params_match("", &cols, 3), "\"a\" = ?3 AND \"b\" = ?4");
        assert_eq!(
            columns_match("l", "r", &cols),
            "l.\"a\" = r.\"a\" AND l.\"b\" = r.\"b\""
        );
        assert_eq!(column_list("NEW.", &cols), "NEW.\"a\", NEW.\"b\"");
    }
}
