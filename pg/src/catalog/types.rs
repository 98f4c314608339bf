//! The built-in rows of `pg_type` (PostgreSQL 15's OIDs, names, lengths,
//! categories, element and array types), and `format_type`.

use crate::types::{PgType, Scalar};

/// One built-in base type; its array type is derived.
pub(crate) struct BuiltinType {
    pub oid: u32,
    pub name: &'static str,
    pub len: i16,
    pub by_value: bool,
    pub category: char,
    pub preferred: bool,
    pub element: u32,
    pub array: u32,
    pub collation: u32,
    /// The function prefix of `typinput` and friends (`int4` → `int4in`,
    /// `date_` → `date_in`).
    pub io: &'static str,
}

const fn t(
    oid: u32,
    name: &'static str,
    len: i16,
    category: char,
    element: u32,
    array: u32,
    collation: u32,
) -> BuiltinType {
    BuiltinType {
        oid,
        name,
        len,
        by_value: len > 0 && len <= 8 && len != 6 && len != 64,
        category,
        preferred: false,
        element,
        array,
        collation,
        io: name,
    }
}

const fn io(mut ty: BuiltinType, io: &'static str) -> BuiltinType {
    ty.io = io;
    ty
}

const fn preferred(mut ty: BuiltinType) -> BuiltinType {
    ty.preferred = true;
    ty
}

/// SELECT oid, typname, typlen, typbyval, typcategory, typispreferred,
/// typelem, typarray, typcollation FROM pg_type (PostgreSQL 15).
pub(crate) const BUILTIN_TYPES: &[BuiltinType] = &[
    preferred(t(16, "bool", 1, 'B', 0, 1000, 0)),
    t(17, "bytea", -1, 'U', 0, 1001, 0),
    t(18, "char", 1, 'Z', 0, 1002, 0),
    t(19, "name", 64, 'S', 18, 1003, 950),
    t(20, "int8", 8, 'N', 0, 1016, 0),
    t(21, "int2", 2, 'N', 0, 1005, 0),
    t(22, "int2vector", -1, 'A', 21, 1006, 0),
    t(23, "int4", 4, 'N', 0, 1007, 0),
    t(24, "regproc", 4, 'N', 0, 1008, 0),
    preferred(t(25, "text", -1, 'S', 0, 1009, 100)),
    preferred(t(26, "oid", 4, 'N', 0, 1028, 0)),
    t(27, "tid", 6, 'U', 0, 1010, 0),
    t(28, "xid", 4, 'U', 0, 1011, 0),
    t(29, "cid", 4, 'U', 0, 1012, 0),
    t(30, "oidvector", -1, 'A', 26, 1013, 0),
    io(t(114, "json", -1, 'U', 0, 199, 0), "json_"),
    io(t(194, "pg_node_tree", -1, 'Z', 0, 0, 100), "pg_node_tree_"),
    t(700, "float4", 4, 'N', 0, 1021, 0),
    preferred(t(701, "float8", 8, 'N', 0, 1022, 0)),
    t(1033, "aclitem", 12, 'U', 0, 1034, 0),
    t(1042, "bpchar", -1, 'S', 0, 1014, 100),
    t(1043, "varchar", -1, 'S', 0, 1015, 100),
    io(t(1082, "date", 4, 'D', 0, 1182, 0), "date_"),
    io(t(1083, "time", 8, 'D', 0, 1183, 0), "time_"),
    io(t(1114, "timestamp", 8, 'D', 0, 1115, 0), "timestamp_"),
    preferred(io(
        t(1184, "timestamptz", 8, 'D', 0, 1185, 0),
        "timestamptz_",
    )),
    preferred(io(t(1186, "interval", 16, 'T', 0, 1187, 0), "interval_")),
    io(t(1700, "numeric", -1, 'N', 0, 1231, 0), "numeric_"),
    t(2202, "regprocedure", 4, 'N', 0, 2207, 0),
    t(2203, "regoper", 4, 'N', 0, 2208, 0),
    t(2205, "regclass", 4, 'N', 0, 2210, 0),
    t(2206, "regtype", 4, 'N', 0, 2211, 0),
    io(t(2950, "uuid", 16, 'U', 0, 2951, 0), "uuid_"),
    io(t(3802, "jsonb", -1, 'U', 0, 3807, 0), "jsonb_"),
    t(4089, "regnamespace", 4, 'N', 0, 4090, 0),
    t(4096, "regrole", 4, 'N', 0, 4097, 0),
];

/// The built-in base type whose OID is `oid`.
pub(crate) fn builtin_type(oid: u32) -> Option<&'static BuiltinType> {
    BUILTIN_TYPES.iter().find(|t| t.oid == oid)
}

/// The type's name as `format_type(oid, typmod)` prints it: with its
/// modifier, `[]` for arrays, `???` for an unknown OID.
pub(crate) fn format_type(oid: u32, typmod: Option<i32>) -> String {
    if let Some(ty) = PgType::from_oid(oid) {
        return with_typmod(ty, typmod.unwrap_or(-1)).to_string();
    }
    if let Some(base) = builtin_type(oid) {
        return match base.name {
            "char" => "\"char\"".into(),
            name => name.into(),
        };
    }
    match BUILTIN_TYPES.iter().find(|t| t.array == oid) {
        Some(base) => format!("{}[]", format_type(base.oid, None)),
        None => "???".into(),
    }
}

/// `ty` with the modifier that `typmod` (`atttypmod`) encodes.
pub(crate) fn with_typmod(ty: PgType, typmod: i32) -> PgType {
    const VARHDRSZ: i32 = 4;
    let Ok(modifier) = u32::try_from(typmod - VARHDRSZ) else {
        return ty;
    };
    let scalar = match ty.scalar() {
        Scalar::Varchar(_) => Scalar::Varchar(Some(modifier)),
        Scalar::Bpchar(_) => Scalar::Bpchar(Some(modifier)),
        Scalar::Numeric(_) => Scalar::Numeric(Some((modifier >> 16, modifier & 0xffff))),
        _ => return ty,
    };
    let scalar = PgType::scalar_type(scalar);
    if ty.is_array() {
        scalar.array_of()
    } else {
        scalar
    }
}

/// The `SELECT` of every built-in `pg_type` row, base types and arrays.
pub(super) fn pg_type_rows() -> String {
    let mut rows = Vec::new();
    for ty in BUILTIN_TYPES {
        rows.push(format!(
            "({}, '{}', {}, {}, 'b', '{}', {}, ',', 0, {}, {}, '{}in', '{}out', '{}recv', '{}send', {})",
            ty.oid,
            ty.name,
            ty.len,
            i32::from(ty.by_value),
            ty.category,
            i32::from(ty.preferred),
            ty.element,
            ty.array,
            ty.io,
            ty.io,
            ty.io,
            ty.io,
            ty.collation,
        ));
        if ty.array != 0 {
            rows.push(format!(
                "({}, '_{}', -1, 0, 'b', 'A', 0, ',', 0, {}, 0, 'array_in', 'array_out', 'array_recv', 'array_send', {})",
                ty.array, ty.name, ty.oid, ty.collation,
            ));
        }
    }
    format!(
        "SELECT column1, column2, 11, {owner}, column3, column4, column5, column6, column7, 1, \
         column8, column9, column10, column11, column12, column13, column14, column15, 0, 0, -1, \
         0, column16, NULL, NULL, NULL FROM (VALUES {})",
        rows.join(", "),
        owner = super::OWNER_OID,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_type_matches_postgres_15() {
        // SELECT format_type(1043, 36), format_type(1700, 655366), format_type(1007, -1),
        //        format_type(2205, -1), format_type(18, -1), format_type(1043, -1),
        //        format_type(1015, 24), format_type(12345678, -1)
        assert_eq!(format_type(1043, Some(36)), "character varying(32)");
        assert_eq!(format_type(1700, Some(655366)), "numeric(10,2)");
        assert_eq!(format_type(1007, Some(-1)), "integer[]");
        assert_eq!(format_type(2205, Some(-1)), "regclass");
        assert_eq!(format_type(18, None), "\"char\"");
        assert_eq!(format_type(1043, None), "character varying");
        assert_eq!(format_type(1015, Some(24)), "character varying(20)[]");
        assert_eq!(format_type(1006, None), "int2vector[]");
        assert_eq!(format_type(12_345_678, Some(-1)), "???");
    }

    #[test]
    fn every_supported_type_has_a_row() {
        for ty in BUILTIN_TYPES {
            assert!(ty.array == 0 || builtin_type(ty.array).is_none());
        }
        for oid in [
            16, 17, 20, 21, 23, 25, 114, 700, 701, 1042, 1043, 1082, 1083, 1114, 1184, 1186, 1700,
            2950, 3802, 19, 26, 18, 2206,
        ] {
            let ty = PgType::from_oid(oid).expect("supported");
            let row = builtin_type(oid).expect("pg_type row");
            assert_eq!(row.array, ty.array_of().oid(), "{oid}");
        }
    }
}
