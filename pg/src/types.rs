//! The PostgreSQL types patina supports: their OIDs, their names as
//! `format_type` spells them, how they are parsed from SQL, and how each is
//! stored in SQLite.
//!
//! # Storage
//!
//! SQLite decides a column's affinity from the declared type, and affinity
//! rewrites values (`NUMERIC` turns `'9.90'` into `9.9`, anything containing
//! `INT` gets `INTEGER` affinity). patina therefore declares only the four
//! plain storage classes and remembers the PostgreSQL type itself.
//!
//! | PostgreSQL type | declared in SQLite | value stored |
//! |---|---|---|
//! | `boolean` | `INTEGER` | `0` / `1` |
//! | `smallint`, `integer`, `bigint` | `INTEGER` | the integer |
//! | `real`, `double precision` | `REAL` | the float (`real` rounded to f32); NaN as the text `'NaN'` (see below) |
//! | `text`, `character varying(n)`, `character(n)`, `name` | `TEXT` | the string (`character(n)` blank-padded) |
//! | `"char"` | `TEXT` | the one-character string (`''` for the zero byte) |
//! | `oid`, `regtype` | `INTEGER` | the OID (0 to 4294967295) |
//! | `bytea` | `BLOB` | the bytes |
//! | `numeric(p,s)` | `TEXT COLLATE pg_numeric` | PostgreSQL's text output, scale kept (`'9.90'`); the collation orders numerically |
//! | `date` | `TEXT` | `YYYY-MM-DD`, or `infinity` / `-infinity` |
//! | `time without time zone` | `TEXT` | `HH:MM:SS[.ffffff]` |
//! | `timestamp without time zone` | `TEXT` | `YYYY-MM-DD HH:MM:SS[.ffffff]`, or `infinity` / `-infinity` |
//! | `timestamp with time zone` | `TEXT` | `YYYY-MM-DD HH:MM:SS[.ffffff]+00`, always UTC, or `infinity` / `-infinity` |
//! | `interval` | `TEXT` | PostgreSQL's output (`1 year 2 mons 3 days 04:05:06`) |
//! | `uuid` | `TEXT` | lower-case hyphenated |
//! | `json` | `TEXT` | the text as given |
//! | `jsonb` | `TEXT` | PostgreSQL's normalised output (`{"a": 1, "bb": [1, 2]}`) |
//! | any array | `TEXT` | a JSON array of the element values (numbers, `true`/`false`, strings, `null`; non-finite floats as the strings `"Infinity"`, `"-Infinity"`, `"NaN"`) |
//!
//! Every text format above is exactly what PostgreSQL prints with
//! `DateStyle=ISO`, `TimeZone=UTC` and `IntervalStyle=postgres`, so the wire
//! layer can send a stored text value unchanged; fixed-width fields and
//! trimmed fractions make the date/time formats sort chronologically as text.
//! `-infinity` sorts before every date (`-` is below the digits) and
//! `infinity` after every one (`i` is above them), as in PostgreSQL.
//!
//! SQLite has no NaN: it turns a NaN float into NULL. A NaN `real` or
//! `double precision` is therefore stored as the text `'NaN'`. SQLite
//! orders every text after every number and compares texts exactly, which
//! is PostgreSQL's rule for NaN: equal to itself and greater than every
//! other value, `Infinity` included. Arithmetic on a stored NaN goes
//! through the float functions, which read the text back as NaN.

use sqlparser::ast::{
    ArrayElemTypeDef, CharacterLength, DataType, ExactNumberInfo, ObjectName, TimezoneInfo,
};
use std::fmt;

use crate::error::Error;

/// A PostgreSQL type: a scalar type, or a one-dimensional array of one.
/// The catalog's `int2vector` and `oidvector` are arrays too (stored and
/// sent like one), with their own OIDs, space-separated text and
/// subscripts from 0 (see [`crate::values::vector`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PgType {
    scalar: Scalar,
    array: bool,
    vector: bool,
}

/// The scalar PostgreSQL types, with their type modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `boolean`
    Bool,
    /// `bytea`
    Bytea,
    /// `smallint`
    Int2,
    /// `integer`
    Int4,
    /// `bigint`
    Int8,
    /// `text`
    Text,
    /// `json`
    Json,
    /// `real`
    Float4,
    /// `double precision`
    Float8,
    /// `character varying(n)`
    Varchar(Option<u32>),
    /// `character(n)`; `None` is the unbounded internal `bpchar`
    Bpchar(Option<u32>),
    /// `date`
    Date,
    /// `time without time zone`
    Time,
    /// `timestamp without time zone`
    Timestamp,
    /// `timestamp with time zone`
    Timestamptz,
    /// `interval`
    Interval,
    /// `numeric(precision, scale)`
    Numeric(Option<(u32, u32)>),
    /// `uuid`
    Uuid,
    /// `jsonb`
    Jsonb,
    /// `name`: an identifier of at most 63 bytes
    Name,
    /// `oid`: an unsigned 4-byte object identifier
    Oid,
    /// `"char"`: a single byte
    Char,
    /// `regtype`: a type, by OID (only `pg_typeof` returns it)
    Regtype,
    /// `regclass`: a relation, by OID (see [`crate::catalog`]); a result
    /// column of this type is sent as the relation's name, as `text`
    Regclass,
    /// `record`: an anonymous row, as `_pg_expandarray` returns; stored
    /// as a JSON object of its fields in order, never in a table
    Record,
}

/// The SQLite storage class patina uses for a PostgreSQL type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// 64-bit integer
    Integer,
    /// 64-bit float
    Real,
    /// UTF-8 text
    Text,
    /// bytes
    Blob,
}

impl Storage {
    /// The declared type that gives a SQLite column this storage class as
    /// its affinity.
    pub fn declared_type(self) -> &'static str {
        match self {
            Storage::Integer => "INTEGER",
            Storage::Real => "REAL",
            Storage::Text => "TEXT",
            Storage::Blob => "BLOB",
        }
    }
}

impl PgType {
    /// `boolean`
    pub const BOOL: PgType = PgType::scalar_type(Scalar::Bool);
    /// `bytea`
    pub const BYTEA: PgType = PgType::scalar_type(Scalar::Bytea);
    /// `smallint`
    pub const INT2: PgType = PgType::scalar_type(Scalar::Int2);
    /// `integer`
    pub const INT4: PgType = PgType::scalar_type(Scalar::Int4);
    /// `bigint`
    pub const INT8: PgType = PgType::scalar_type(Scalar::Int8);
    /// `text`
    pub const TEXT: PgType = PgType::scalar_type(Scalar::Text);
    /// `json`
    pub const JSON: PgType = PgType::scalar_type(Scalar::Json);
    /// `real`
    pub const FLOAT4: PgType = PgType::scalar_type(Scalar::Float4);
    /// `double precision`
    pub const FLOAT8: PgType = PgType::scalar_type(Scalar::Float8);
    /// `character varying` without a length
    pub const VARCHAR: PgType = PgType::scalar_type(Scalar::Varchar(None));
    /// `date`
    pub const DATE: PgType = PgType::scalar_type(Scalar::Date);
    /// `time without time zone`
    pub const TIME: PgType = PgType::scalar_type(Scalar::Time);
    /// `timestamp without time zone`
    pub const TIMESTAMP: PgType = PgType::scalar_type(Scalar::Timestamp);
    /// `timestamp with time zone`
    pub const TIMESTAMPTZ: PgType = PgType::scalar_type(Scalar::Timestamptz);
    /// `interval`
    pub const INTERVAL: PgType = PgType::scalar_type(Scalar::Interval);
    /// `numeric` without precision or scale
    pub const NUMERIC: PgType = PgType::scalar_type(Scalar::Numeric(None));
    /// `uuid`
    pub const UUID: PgType = PgType::scalar_type(Scalar::Uuid);
    /// `jsonb`
    pub const JSONB: PgType = PgType::scalar_type(Scalar::Jsonb);
    /// `name`
    pub const NAME: PgType = PgType::scalar_type(Scalar::Name);
    /// `oid`
    pub const OID: PgType = PgType::scalar_type(Scalar::Oid);
    /// `"char"`
    pub const CHAR: PgType = PgType::scalar_type(Scalar::Char);
    /// `regtype`
    pub const REGTYPE: PgType = PgType::scalar_type(Scalar::Regtype);
    /// `regclass`
    pub const REGCLASS: PgType = PgType::scalar_type(Scalar::Regclass);
    /// `record`
    pub const RECORD: PgType = PgType::scalar_type(Scalar::Record);
    /// `int2vector`
    pub const INT2VECTOR: PgType = PgType::vector_of(Scalar::Int2);
    /// `oidvector`
    pub const OIDVECTOR: PgType = PgType::vector_of(Scalar::Oid);

    /// The scalar type `scalar`.
    pub const fn scalar_type(scalar: Scalar) -> PgType {
        PgType {
            scalar,
            array: false,
            vector: false,
        }
    }

    const fn vector_of(scalar: Scalar) -> PgType {
        PgType {
            scalar,
            array: true,
            vector: true,
        }
    }

    /// The array type whose elements are of this type's scalar type.
    pub const fn array_of(self) -> PgType {
        PgType {
            scalar: self.scalar,
            array: true,
            vector: false,
        }
    }

    /// The scalar type, or the element type of an array.
    pub fn scalar(self) -> Scalar {
        self.scalar
    }

    /// Whether this is an array type (`int2vector` and `oidvector`
    /// included).
    pub fn is_array(self) -> bool {
        self.array
    }

    /// Whether this is `int2vector` or `oidvector`.
    pub fn is_vector(self) -> bool {
        self.vector
    }

    /// The first subscript of an array of this type: 0 for `int2vector`
    /// and `oidvector`, 1 for every other array.
    pub fn lower_bound(self) -> i64 {
        if self.vector { 0 } else { 1 }
    }

    /// The element type of an array type.
    pub fn element(self) -> Option<PgType> {
        self.array.then_some(PgType::scalar_type(self.scalar))
    }

    /// This type without its type modifier (`varchar(20)` → `varchar`).
    pub fn without_modifier(self) -> PgType {
        let scalar = match self.scalar {
            Scalar::Varchar(_) => Scalar::Varchar(None),
            Scalar::Bpchar(_) => Scalar::Bpchar(None),
            Scalar::Numeric(_) => Scalar::Numeric(None),
            other => other,
        };
        PgType {
            scalar,
            array: self.array,
            vector: self.vector,
        }
    }

    /// The OID in `pg_type`.
    pub fn oid(self) -> u32 {
        let (scalar, array) = match self.scalar {
            Scalar::Bool => (16, 1000),
            Scalar::Bytea => (17, 1001),
            Scalar::Int8 => (20, 1016),
            Scalar::Int2 => (21, 1005),
            Scalar::Int4 => (23, 1007),
            Scalar::Text => (25, 1009),
            Scalar::Json => (114, 199),
            Scalar::Float4 => (700, 1021),
            Scalar::Float8 => (701, 1022),
            Scalar::Bpchar(_) => (1042, 1014),
            Scalar::Varchar(_) => (1043, 1015),
            Scalar::Date => (1082, 1182),
            Scalar::Time => (1083, 1183),
            Scalar::Timestamp => (1114, 1115),
            Scalar::Timestamptz => (1184, 1185),
            Scalar::Interval => (1186, 1187),
            Scalar::Numeric(_) => (1700, 1231),
            Scalar::Uuid => (2950, 2951),
            Scalar::Jsonb => (3802, 3807),
            Scalar::Name => (19, 1003),
            Scalar::Oid => (26, 1028),
            Scalar::Char => (18, 1002),
            Scalar::Regtype => (2206, 2211),
            Scalar::Regclass => (2205, 2210),
            Scalar::Record => (2249, 2287),
        };
        match (self.vector, self.scalar) {
            (true, Scalar::Int2) => 22,
            (true, _) => 30,
            (false, _) if self.array => array,
            (false, _) => scalar,
        }
    }

    /// The `atttypmod` PostgreSQL reports for this type (-1 when none).
    pub fn typmod(self) -> i32 {
        const VARHDRSZ: u32 = 4;
        let modifier = match self.scalar {
            Scalar::Varchar(Some(n)) | Scalar::Bpchar(Some(n)) => n + VARHDRSZ,
            Scalar::Numeric(Some((precision, scale))) => ((precision << 16) | scale) + VARHDRSZ,
            _ => return -1,
        };
        i32::try_from(modifier).unwrap_or(-1)
    }

    /// The type whose OID is `oid`, without a type modifier.
    pub fn from_oid(oid: u32) -> Option<PgType> {
        ALL_SCALARS
            .iter()
            .map(|&scalar| PgType::scalar_type(scalar))
            .flat_map(|t| [t, t.array_of()])
            .chain([PgType::INT2VECTOR, PgType::OIDVECTOR])
            .find(|t| t.oid() == oid)
    }

    /// The SQLite storage class of this type's values.
    pub fn storage(self) -> Storage {
        if self.array {
            return Storage::Text;
        }
        match self.scalar {
            Scalar::Bool
            | Scalar::Int2
            | Scalar::Int4
            | Scalar::Int8
            | Scalar::Oid
            | Scalar::Regtype
            | Scalar::Regclass => Storage::Integer,
            Scalar::Float4 | Scalar::Float8 => Storage::Real,
            Scalar::Bytea => Storage::Blob,
            _ => Storage::Text,
        }
    }

    /// The column definition tail patina declares in SQLite for a column of
    /// this type: the declared type, plus the `pg_numeric` collation for
    /// `numeric`.
    pub fn sqlite_declaration(self) -> &'static str {
        match (self.scalar, self.array) {
            (Scalar::Numeric(_), false) => "TEXT COLLATE pg_numeric",
            _ => self.storage().declared_type(),
        }
    }

    /// Whether this is one of the integer types.
    pub fn is_integer(self) -> bool {
        !self.array && matches!(self.scalar, Scalar::Int2 | Scalar::Int4 | Scalar::Int8)
    }

    /// Whether this is a string type (`text`, `varchar`, `bpchar`,
    /// `name`), which PostgreSQL converts to `text` implicitly.
    pub fn is_string(self) -> bool {
        !self.array
            && matches!(
                self.scalar,
                Scalar::Text | Scalar::Varchar(_) | Scalar::Bpchar(_) | Scalar::Name
            )
    }

    /// Parses a type as written in SQL.
    pub fn from_data_type(data_type: &DataType) -> Result<PgType, Error> {
        let unsupported = || Error::Unsupported(format!("type {data_type}"));
        let scalar = match data_type {
            DataType::Array(elem) => {
                let inner = match elem {
                    ArrayElemTypeDef::SquareBracket(inner, _)
                    | ArrayElemTypeDef::AngleBracket(inner)
                    | ArrayElemTypeDef::Parenthesis(inner) => inner,
                    _ => return Err(unsupported()),
                };
                let element = PgType::from_data_type(inner)?;
                if element.is_array() {
                    return Err(Error::Unsupported("multidimensional arrays".into()));
                }
                return Ok(element.array_of());
            }
            DataType::Bool | DataType::Boolean => Scalar::Bool,
            DataType::Bytea => Scalar::Bytea,
            DataType::SmallInt(None) | DataType::Int2(None) => Scalar::Int2,
            DataType::Int(None) | DataType::Integer(None) | DataType::Int4(None) => Scalar::Int4,
            DataType::BigInt(None) | DataType::Int8(None) => Scalar::Int8,
            DataType::Text => Scalar::Text,
            DataType::JSON => Scalar::Json,
            DataType::JSONB => Scalar::Jsonb,
            DataType::Real | DataType::Float4 => Scalar::Float4,
            DataType::DoublePrecision | DataType::Float8 => Scalar::Float8,
            DataType::Float(info) => match info {
                ExactNumberInfo::None => Scalar::Float8,
                ExactNumberInfo::Precision(p) if (1..=24).contains(p) => Scalar::Float4,
                ExactNumberInfo::Precision(p) if (25..=53).contains(p) => Scalar::Float8,
                _ => return Err(unsupported()),
            },
            DataType::Varchar(len)
            | DataType::CharacterVarying(len)
            | DataType::CharVarying(len) => Scalar::Varchar(char_length(len.as_ref(), data_type)?),
            DataType::Char(len) | DataType::Character(len) => {
                Scalar::Bpchar(Some(char_length(len.as_ref(), data_type)?.unwrap_or(1)))
            }
            DataType::Date => Scalar::Date,
            DataType::Time(None, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
                Scalar::Time
            }
            DataType::Timestamp(None, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
                Scalar::Timestamp
            }
            DataType::Timestamp(None, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => {
                Scalar::Timestamptz
            }
            DataType::Interval {
                fields: None,
                precision: None,
            } => Scalar::Interval,
            DataType::Numeric(info) | DataType::Decimal(info) | DataType::Dec(info) => {
                Scalar::Numeric(numeric_modifier(info, data_type)?)
            }
            DataType::Uuid => Scalar::Uuid,
            DataType::Regclass => Scalar::Regclass,
            DataType::Custom(name, modifiers) if modifiers.is_empty() => {
                return PgType::from_name(&custom_name(name)).ok_or_else(unsupported);
            }
            _ => return Err(unsupported()),
        };
        Ok(PgType::scalar_type(scalar))
    }

    /// Parses a type name as `format_type` prints it (as [`PgType`]'s
    /// `Display` does), or one of PostgreSQL's internal names (`int4`,
    /// `timestamptz`, `_int4`, …).
    pub fn from_name(name: &str) -> Option<PgType> {
        let name = name.trim().to_ascii_lowercase();
        if let Some(element) = name.strip_suffix("[]") {
            return PgType::from_name(element)
                .filter(|t| !t.is_array())
                .map(PgType::array_of);
        }
        if let Some(element) = name.strip_prefix('_') {
            return PgType::from_name(element)
                .filter(|t| !t.is_array())
                .map(PgType::array_of);
        }
        let (base, modifiers) = match name.split_once('(') {
            Some((base, rest)) => {
                let inner = rest.strip_suffix(')')?;
                let numbers: Option<Vec<u32>> =
                    inner.split(',').map(|n| n.trim().parse().ok()).collect();
                (base.trim(), numbers?)
            }
            None => (name.as_str(), Vec::new()),
        };
        let scalar = match (base, modifiers.as_slice()) {
            ("boolean" | "bool", []) => Scalar::Bool,
            ("bytea", []) => Scalar::Bytea,
            ("smallint" | "int2", []) => Scalar::Int2,
            ("integer" | "int" | "int4", []) => Scalar::Int4,
            ("bigint" | "int8", []) => Scalar::Int8,
            ("text", []) => Scalar::Text,
            ("json", []) => Scalar::Json,
            ("jsonb", []) => Scalar::Jsonb,
            ("real" | "float4", []) => Scalar::Float4,
            ("double precision" | "float8", []) => Scalar::Float8,
            ("character varying" | "varchar", []) => Scalar::Varchar(None),
            ("character varying" | "varchar", [n]) => Scalar::Varchar(Some(*n)),
            ("bpchar", []) => Scalar::Bpchar(None),
            ("character" | "char" | "bpchar", [n]) => Scalar::Bpchar(Some(*n)),
            ("character" | "char", []) => Scalar::Bpchar(Some(1)),
            ("date", []) => Scalar::Date,
            ("time" | "time without time zone", []) => Scalar::Time,
            ("timestamp" | "timestamp without time zone", []) => Scalar::Timestamp,
            ("timestamptz" | "timestamp with time zone", []) => Scalar::Timestamptz,
            ("interval", []) => Scalar::Interval,
            ("numeric" | "decimal", []) => Scalar::Numeric(None),
            ("numeric" | "decimal", [p]) => Scalar::Numeric(Some((*p, 0))),
            ("numeric" | "decimal", [p, s]) => Scalar::Numeric(Some((*p, *s))),
            ("uuid", []) => Scalar::Uuid,
            ("name", []) => Scalar::Name,
            ("oid", []) => Scalar::Oid,
            ("\"char\"", []) => Scalar::Char,
            ("regtype", []) => Scalar::Regtype,
            ("regclass", []) => Scalar::Regclass,
            ("int2vector", []) => return Some(PgType::INT2VECTOR),
            ("oidvector", []) => return Some(PgType::OIDVECTOR),
            // the other object-identifier types are their OIDs
            ("regnamespace" | "regproc" | "regprocedure" | "regrole" | "regoper", []) => {
                Scalar::Oid
            }
            _ => return None,
        };
        Some(PgType::scalar_type(scalar))
    }
}

/// Every scalar type without modifiers, for lookups by OID.
const ALL_SCALARS: [Scalar; 24] = [
    Scalar::Bool,
    Scalar::Bytea,
    Scalar::Int2,
    Scalar::Int4,
    Scalar::Int8,
    Scalar::Text,
    Scalar::Json,
    Scalar::Float4,
    Scalar::Float8,
    Scalar::Varchar(None),
    Scalar::Bpchar(None),
    Scalar::Date,
    Scalar::Time,
    Scalar::Timestamp,
    Scalar::Timestamptz,
    Scalar::Interval,
    Scalar::Numeric(None),
    Scalar::Uuid,
    Scalar::Jsonb,
    Scalar::Name,
    Scalar::Oid,
    Scalar::Char,
    Scalar::Regtype,
    Scalar::Regclass,
];

fn custom_name(name: &ObjectName) -> String {
    let parts: Vec<String> = name.0.iter().map(|part| part.to_string()).collect();
    match parts.as_slice() {
        [schema, base] if schema.eq_ignore_ascii_case("pg_catalog") => base.clone(),
        _ => parts.join("."),
    }
}

fn char_length(len: Option<&CharacterLength>, data_type: &DataType) -> Result<Option<u32>, Error> {
    match len {
        None => Ok(None),
        Some(CharacterLength::IntegerLength { length, unit: None }) => u32::try_from(*length)
            .ok()
            .filter(|n| (1..=10_485_760).contains(n))
            .map(Some)
            .ok_or_else(|| Error::InvalidParameter(format!("length for type {data_type}"))),
        Some(_) => Err(Error::Unsupported(format!("type {data_type}"))),
    }
}

fn numeric_modifier(
    info: &ExactNumberInfo,
    data_type: &DataType,
) -> Result<Option<(u32, u32)>, Error> {
    let invalid = || Error::InvalidParameter(format!("precision or scale of type {data_type}"));
    let (precision, scale) = match info {
        ExactNumberInfo::None => return Ok(None),
        ExactNumberInfo::Precision(p) => (*p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, u64::try_from(*s).map_err(|_| invalid())?),
    };
    let precision = u32::try_from(precision).map_err(|_| invalid())?;
    let scale = u32::try_from(scale).map_err(|_| invalid())?;
    if !(1..=1000).contains(&precision) || scale > precision {
        return Err(invalid());
    }
    Ok(Some((precision, scale)))
}

impl fmt::Display for PgType {
    /// The name as PostgreSQL's `format_type` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.vector {
            return f.write_str(if self.scalar == Scalar::Int2 {
                "int2vector"
            } else {
                "oidvector"
            });
        }
        match self.scalar {
            Scalar::Bool => f.write_str("boolean")?,
            Scalar::Bytea => f.write_str("bytea")?,
            Scalar::Int2 => f.write_str("smallint")?,
            Scalar::Int4 => f.write_str("integer")?,
            Scalar::Int8 => f.write_str("bigint")?,
            Scalar::Text => f.write_str("text")?,
            Scalar::Json => f.write_str("json")?,
            Scalar::Float4 => f.write_str("real")?,
            Scalar::Float8 => f.write_str("double precision")?,
            Scalar::Varchar(None) => f.write_str("character varying")?,
            Scalar::Varchar(Some(n)) => write!(f, "character varying({n})")?,
            Scalar::Bpchar(None) => f.write_str("bpchar")?,
            Scalar::Bpchar(Some(n)) => write!(f, "character({n})")?,
            Scalar::Date => f.write_str("date")?,
            Scalar::Time => f.write_str("time without time zone")?,
            Scalar::Timestamp => f.write_str("timestamp without time zone")?,
            Scalar::Timestamptz => f.write_str("timestamp with time zone")?,
            Scalar::Interval => f.write_str("interval")?,
            Scalar::Numeric(None) => f.write_str("numeric")?,
            Scalar::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})")?,
            Scalar::Uuid => f.write_str("uuid")?,
            Scalar::Jsonb => f.write_str("jsonb")?,
            Scalar::Name => f.write_str("name")?,
            Scalar::Oid => f.write_str("oid")?,
            Scalar::Char => f.write_str("\"char\"")?,
            Scalar::Regtype => f.write_str("regtype")?,
            Scalar::Regclass => f.write_str("regclass")?,
            Scalar::Record => f.write_str("record")?,
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn parse_type(sql: &str) -> Result<PgType, Error> {
        let dialect = PostgreSqlDialect {};
        let mut parser = Parser::new(&dialect)
            .try_with_sql(sql)
            .map_err(|e| Error::Syntax(e.to_string()))?;
        let data_type = parser
            .parse_data_type()
            .map_err(|e| Error::Syntax(e.to_string()))?;
        PgType::from_data_type(&data_type)
    }

    #[test]
    fn oids_match_postgres_15() {
        // SELECT typname, oid, typarray FROM pg_type (PostgreSQL 15)
        let expected = [
            ("boolean", 16, 1000),
            ("bytea", 17, 1001),
            ("bigint", 20, 1016),
            ("smallint", 21, 1005),
            ("integer", 23, 1007),
            ("text", 25, 1009),
            ("json", 114, 199),
            ("real", 700, 1021),
            ("double precision", 701, 1022),
            ("bpchar", 1042, 1014),
            ("character varying", 1043, 1015),
            ("date", 1082, 1182),
            ("time without time zone", 1083, 1183),
            ("timestamp without time zone", 1114, 1115),
            ("timestamp with time zone", 1184, 1185),
            ("interval", 1186, 1187),
            ("numeric", 1700, 1231),
            ("uuid", 2950, 2951),
            ("jsonb", 3802, 3807),
            ("name", 19, 1003),
            ("oid", 26, 1028),
            ("\"char\"", 18, 1002),
            ("regtype", 2206, 2211),
            ("regclass", 2205, 2210),
        ];
        for (name, oid, array_oid) in expected {
            let t = PgType::from_name(name).expect(name);
            assert_eq!(t.oid(), oid, "{name}");
            assert_eq!(t.array_of().oid(), array_oid, "{name}[]");
            assert_eq!(PgType::from_oid(oid), Some(t));
            assert_eq!(PgType::from_oid(array_oid), Some(t.array_of()));
            assert_eq!(t.to_string(), name);
        }
    }

    #[test]
    fn parses_sql_types_into_format_type_names() {
        let cases = [
            ("int", "integer"),
            ("INTEGER", "integer"),
            ("int4", "integer"),
            ("bigint", "bigint"),
            ("int8", "bigint"),
            ("smallint", "smallint"),
            ("varchar(20)", "character varying(20)"),
            ("character varying", "character varying"),
            ("char", "character(1)"),
            ("char(5)", "character(5)"),
            ("numeric(10,2)", "numeric(10,2)"),
            ("decimal(5)", "numeric(5,0)"),
            ("numeric", "numeric"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp with time zone", "timestamp with time zone"),
            ("timestamp", "timestamp without time zone"),
            ("time", "time without time zone"),
            ("float8", "double precision"),
            ("double precision", "double precision"),
            ("float", "double precision"),
            ("real", "real"),
            ("bool", "boolean"),
            ("int[]", "integer[]"),
            ("text[]", "text[]"),
            ("uuid", "uuid"),
            ("jsonb", "jsonb"),
            ("json", "json"),
            ("bytea", "bytea"),
            ("interval", "interval"),
            ("date", "date"),
            ("name", "name"),
            ("oid", "oid"),
            ("\"char\"", "\"char\""),
            ("pg_catalog.regtype", "regtype"),
        ];
        for (sql, name) in cases {
            assert_eq!(
                parse_type(sql).map(|t| t.to_string()),
                Ok(name.to_string()),
                "{sql}"
            );
        }
    }

    #[test]
    fn typmods_match_postgres() {
        // SELECT atttypmod for varchar(20), numeric(10,2), char(5) columns
        assert_eq!(parse_type("varchar(20)").map(PgType::typmod), Ok(24));
        assert_eq!(parse_type("numeric(10,2)").map(PgType::typmod), Ok(655366));
        assert_eq!(parse_type("char(5)").map(PgType::typmod), Ok(9));
        assert_eq!(PgType::INT4.typmod(), -1);
    }

    #[test]
    fn rejects_what_it_cannot_store() {
        assert!(matches!(parse_type("point"), Err(Error::Unsupported(_))));
        assert!(matches!(parse_type("int[][]"), Err(Error::Unsupported(_))));
        assert!(matches!(parse_type("timetz"), Err(Error::Unsupported(_))));
        assert!(matches!(
            parse_type("numeric(2,5)"),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn storage_never_gets_numeric_or_integer_affinity_by_accident() {
        for name in [
            "numeric",
            "jsonb",
            "uuid",
            "timestamptz",
            "interval",
            "date",
            "json",
        ] {
            let t = PgType::from_name(name).expect(name);
            assert_eq!(t.storage(), Storage::Text, "{name}");
        }
        assert_eq!(PgType::BOOL.storage(), Storage::Integer);
        assert_eq!(PgType::INT4.array_of().storage(), Storage::Text);
        assert_eq!(
            PgType::NUMERIC.sqlite_declaration(),
            "TEXT COLLATE pg_numeric"
        );
    }

    #[test]
    fn from_name_round_trips_display() {
        for t in [
            PgType::scalar_type(Scalar::Varchar(Some(20))),
            PgType::scalar_type(Scalar::Numeric(Some((10, 2)))),
            PgType::scalar_type(Scalar::Bpchar(Some(3))),
            PgType::TIMESTAMPTZ.array_of(),
            PgType::JSONB.array_of(),
        ] {
            assert_eq!(PgType::from_name(&t.to_string()), Some(t));
        }
        assert_eq!(PgType::from_name("_int4"), Some(PgType::INT4.array_of()));
    }

    #[test]
    fn vectors_are_arrays_with_their_own_oids() {
        // SELECT 'int2vector'::regtype::oid, 'oidvector'::regtype::oid (PostgreSQL 15)
        for (name, oid, element) in [
            ("int2vector", 22, PgType::INT2),
            ("oidvector", 30, PgType::OID),
        ] {
            let t = PgType::from_name(name).expect(name);
            assert_eq!(t.oid(), oid);
            assert_eq!(PgType::from_oid(oid), Some(t));
            assert_eq!(t.to_string(), name);
            assert!(t.is_array() && t.is_vector());
            assert_eq!(t.element(), Some(element));
            assert_eq!(t.lower_bound(), 0);
            assert_ne!(t, element.array_of());
        }
        assert_eq!(PgType::INT2.array_of().lower_bound(), 1);
    }
}
