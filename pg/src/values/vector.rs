//! `int2vector` and `oidvector`, the catalog's vectors (`pg_index.indkey`,
//! `indclass`, …). Stored like any array (a JSON array of the elements);
//! their text is the elements separated by single spaces (`1 2`, empty for
//! none), never braces, and their subscripts start at 0.

use rusqlite::types::Value;

use crate::types::PgType;
use crate::values::text::to_pg_text;

/// `int2vectorout` / `oidvectorout` of the stored element values.
pub fn literal(items: &[Value], element: PgType) -> String {
    let parts: Vec<String> = items
        .iter()
        .filter_map(|item| to_pg_text(item, element))
        .collect();
    parts.join(" ")
}

/// Splits `int2vectorin` / `oidvectorin` input into its elements, which
/// are separated by white space; the caller converts each to the element
/// type, which rejects what is not a number as PostgreSQL does
/// (`invalid input syntax for type smallint: "{1,2}"`).
pub fn parse_literal(input: &str) -> Vec<Option<String>> {
    input
        .split_ascii_whitespace()
        .map(|item| Some(item.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses_like_postgres_15() {
        // SELECT '1  2'::int2vector, ''::int2vector (PostgreSQL 15: `1 2`, ``)
        let items = [Value::Integer(1), Value::Integer(2)];
        assert_eq!(literal(&items, PgType::INT2), "1 2");
        assert_eq!(literal(&[], PgType::INT2), "");
        assert_eq!(
            parse_literal(" 1  2 "),
            vec![Some("1".into()), Some("2".into())]
        );
        assert_eq!(parse_literal(""), Vec::<Option<String>>::new());
    }
}
