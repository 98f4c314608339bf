//! The errors of translation and of the run-time functions, each with the
//! SQLSTATE PostgreSQL sends for it.

/// Why a statement could not be translated or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The SQL does not parse (42601).
    #[error("syntax error: {0}")]
    Syntax(String),
    /// Valid PostgreSQL that patina cannot run faithfully on SQLite (0A000).
    #[error("{0} is not supported")]
    Unsupported(String),
    /// A table the catalog does not know (42P01).
    #[error("relation \"{0}\" does not exist")]
    UndefinedTable(String),
    /// A qualifier that names no relation in scope (42P01).
    #[error("missing FROM-clause entry for table \"{0}\"")]
    MissingFromEntry(String),
    /// A column no table in scope has (42703).
    #[error("column \"{0}\" does not exist")]
    UndefinedColumn(String),
    /// A column named where it must exist: `context` is PostgreSQL's
    /// `of relation "t"`, `named in key`, … (42703).
    #[error("column \"{column}\" {context} does not exist")]
    UndefinedColumnIn { column: String, context: String },
    /// A column name more than one table in scope has (42702).
    #[error("column reference \"{0}\" is ambiguous")]
    AmbiguousColumn(String),
    /// A function name or argument list patina does not know (42883).
    #[error("function {0} does not exist")]
    UndefinedFunction(String),
    /// An operator patina does not know for these operand types (42883).
    #[error("operator does not exist: {0}")]
    UndefinedOperator(String),
    /// Operand or assignment types that do not fit (42804).
    #[error("{0}")]
    DatatypeMismatch(String),
    /// A `$n` whose type cannot be determined (42P18).
    #[error("could not determine data type of parameter ${0}")]
    IndeterminateParameter(usize),
    /// A type modifier or other parameter out of range (22023).
    #[error("invalid {0}")]
    InvalidParameter(String),
    /// A value that does not parse as its type (22P02).
    #[error("invalid input syntax for type {ty}: \"{value}\"")]
    InvalidText {
        /// The type name, as PostgreSQL prints it.
        ty: String,
        /// The rejected input.
        value: String,
    },
    /// A date/time value that does not parse (22007).
    #[error("invalid input syntax for type {ty}: \"{value}\"")]
    InvalidDatetime {
        /// The type name, as PostgreSQL prints it.
        ty: String,
        /// The rejected input.
        value: String,
    },
    /// Input that does not fit a `to_date`/`to_timestamp` template field
    /// (22007).
    #[error("invalid value \"{value}\" for \"{pattern}\"")]
    InvalidTemplateValue {
        /// The template pattern, as `MM`.
        pattern: String,
        /// The input where the field was read.
        value: String,
    },
    /// A date/time field outside its range, as February 30 (22008).
    #[error("date/time field value out of range: \"{0}\"")]
    DatetimeFieldOverflow(String),
    /// A value outside its type's range (22003).
    #[error("{0} out of range")]
    OutOfRange(String),
    /// Input text whose value is outside its type's range (22003).
    #[error("\"{value}\" is out of range for type {ty}")]
    InputOutOfRange {
        /// The type name, as PostgreSQL prints it.
        ty: String,
        /// The rejected input.
        value: String,
    },
    /// A string longer than its column allows (22001).
    #[error("value too long for type {0}")]
    StringTooLong(String),
    /// Division or modulo by zero (22012).
    #[error("division by zero")]
    DivisionByZero,
    /// A scalar subquery that returned more than one row (21000).
    #[error("{0}")]
    CardinalityViolation(String),
    /// An argument outside a function's domain, as `sqrt(-1)` (2201F).
    #[error("{0}")]
    InvalidArgument(String),
    /// An invalid regular expression (2201B).
    #[error("invalid regular expression: {0}")]
    InvalidRegex(String),
    /// A PostgreSQL feature PostgreSQL itself does not implement in this
    /// form, with its own words, as `FOR UPDATE` with `GROUP BY` (0A000).
    #[error("{0}")]
    NotImplemented(String),
    /// A `NULL` given for a column that must not be NULL (23502).
    #[error(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )]
    NullValue {
        /// The column.
        column: String,
        /// The table.
        table: String,
    },
    /// An unknown setting for `current_setting` (42704).
    #[error("unrecognized configuration parameter \"{0}\"")]
    UnknownSetting(String),
    /// A schema the replicated store refuses, with the store's reason
    /// (0A000), as a NOT NULL column without a DEFAULT.
    #[error("{0}")]
    Unreplicable(String),
    /// A negative `LIMIT` (2201W) or `OFFSET` (2201X).
    #[error("{} must not be negative", if *is_limit { "LIMIT" } else { "OFFSET" })]
    NegativeRowCount {
        /// Whether it is the `LIMIT` (else the `OFFSET`).
        is_limit: bool,
    },
    /// A type name that names no type (42704).
    #[error("type \"{0}\" does not exist")]
    UndefinedType(String),
    /// A collation that does not exist (42704).
    #[error("collation \"{0}\" does not exist")]
    UndefinedCollation(String),
    /// A column outside `GROUP BY` and aggregates in a grouped query
    /// (42803).
    #[error(
        "column \"{0}\" must appear in the GROUP BY clause or be used in an aggregate function"
    )]
    Grouping(String),
    /// A function used as the wrong kind, as `OVER` on a plain function
    /// (42809).
    #[error("{0}")]
    WrongObjectType(String),
    /// A clause that names columns inconsistently, as `DISTINCT ON` keys
    /// that do not lead the `ORDER BY` (42P10).
    #[error("{0}")]
    InvalidColumnReference(String),
    /// A table definition PostgreSQL refuses, as a second primary key
    /// (42P16).
    #[error("{0}")]
    InvalidTableDefinition(String),
    /// An option's value PostgreSQL refuses, in its words, as `COPY format
    /// "xml" not recognized` (22023).
    #[error("{0}")]
    InvalidParameterValue(String),
}

impl Error {
    /// The SQLSTATE code PostgreSQL uses for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Syntax(_) => "42601",
            Error::Unsupported(_) | Error::Unreplicable(_) | Error::NotImplemented(_) => "0A000",
            Error::NullValue { .. } => "23502",
            Error::UnknownSetting(_) => "42704",
            Error::UndefinedTable(_) | Error::MissingFromEntry(_) => "42P01",
            Error::UndefinedColumn(_) | Error::UndefinedColumnIn { .. } => "42703",
            Error::AmbiguousColumn(_) => "42702",
            Error::UndefinedFunction(_) | Error::UndefinedOperator(_) => "42883",
            Error::DatatypeMismatch(_) => "42804",
            Error::IndeterminateParameter(_) => "42P18",
            Error::InvalidParameter(_) => "22023",
            Error::InvalidText { .. } => "22P02",
            Error::InvalidDatetime { .. } | Error::InvalidTemplateValue { .. } => "22007",
            Error::DatetimeFieldOverflow(_) => "22008",
            Error::OutOfRange(_) | Error::InputOutOfRange { .. } => "22003",
            Error::StringTooLong(_) => "22001",
            Error::DivisionByZero => "22012",
            Error::InvalidRegex(_) => "2201B",
            Error::InvalidArgument(_) => "2201F",
            Error::CardinalityViolation(_) => "21000",
            Error::UndefinedType(_) | Error::UndefinedCollation(_) => "42704",
            Error::NegativeRowCount { is_limit: true } => "2201W",
            Error::NegativeRowCount { is_limit: false } => "2201X",
            Error::Grouping(_) => "42803",
            Error::WrongObjectType(_) => "42809",
            Error::InvalidColumnReference(_) => "42P10",
            Error::InvalidTableDefinition(_) => "42P16",
            Error::InvalidParameterValue(_) => "22023",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_postgres_codes() {
        assert_eq!(Error::Syntax("x".into()).sqlstate(), "42601");
        assert_eq!(Error::Unsupported("LATERAL".into()).sqlstate(), "0A000");
        assert_eq!(Error::DivisionByZero.sqlstate(), "22012");
        assert_eq!(
            Error::UndefinedTable("t".into()).to_string(),
            "relation \"t\" does not exist"
        );
    }
}
