//! A `regclass` result column: the translation sends each value as the
//! text `'<oid> <name>'` (see `translate::lookups`), since printing the
//! name needs the catalog the wire layer does not have. The text format
//! is the name, as PostgreSQL's `regclassout` prints it; the binary format
//! is the OID. A plain integer (an OID the translation did not name) is
//! both the OID and its text.

/// The name part of a `regclass` result value.
pub fn name(value: &str) -> &str {
    value.split_once(' ').map_or(value, |(_, name)| name)
}

/// The OID part of a `regclass` result value.
pub fn oid(value: &str) -> Option<i64> {
    value
        .split_once(' ')
        .map_or(value, |(oid, _)| oid)
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_value_holds_the_oid_and_the_name() {
        assert_eq!(name("16384 gadgets"), "gadgets");
        assert_eq!(name("16384 \"odd name\""), "\"odd name\"");
        assert_eq!(oid("16384 \"odd name\""), Some(16384));
        assert_eq!((name("99999"), oid("99999")), ("99999", Some(99999)));
    }
}
