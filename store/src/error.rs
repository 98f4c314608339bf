//! One error type per boundary of the store. Each variant says what happened
//! to the database's state.

use thiserror::Error;

/// Opening a database failed; nothing was left half-initialised (the
/// bookkeeping is created in one transaction).
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("cannot open the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database's patina bookkeeping is damaged: {0}")]
    Corrupt(String),
}

/// A schema change was refused or failed. In every case the whole change
/// was rolled back: no table, column, index, trigger or clock changed.
#[derive(Debug, Error, PartialEq)]
pub enum SchemaError {
    #[error("table {table}: a replicated table needs a PRIMARY KEY")]
    NoPrimaryKey { table: String },
    #[error("table {table}: primary key column {column} may hold NULL; declare it NOT NULL")]
    NullablePrimaryKey { table: String, column: String },
    #[error(
        "table {table}: column {column} is NOT NULL without a DEFAULT; a replica that \
         learns of a row one column at a time could not insert it"
    )]
    NotNullWithoutDefault { table: String, column: String },
    #[error(
        "table {table}: UNIQUE index {index} on non-key columns cannot hold across \
         replicas (two nodes may each accept a value the other has)"
    )]
    UniqueIndex { table: String, index: String },
    #[error(
        "table {table}: FOREIGN KEY constraints cannot hold across replicas (a row and \
         the row it references may arrive in either order)"
    )]
    ForeignKey { table: String },
    #[error("table {table}: dropping a replicated table is not supported")]
    DropTable { table: String },
    #[error("table {table}: dropping column {column} of a replicated table is not supported")]
    DropColumn { table: String, column: String },
    #[error("table {table}: changing the primary key of a replicated table is not supported")]
    PrimaryKeyChanged { table: String },
    #[error(
        "table {table}: changing the definition (type, NOT NULL or DEFAULT) of column \
         {column} is not supported"
    )]
    ColumnChanged { table: String, column: String },
    #[error("{name}: names starting with __patina or sqlite_, and empty names, are reserved")]
    ReservedName { name: String },
    #[error("table {table} does not exist")]
    NoSuchTable { table: String },
    #[error("multiple primary keys for table \"{table}\" are not allowed")]
    PrimaryKeyExists { table: String },
    #[error("column \"{column}\" of relation \"{table}\" contains null values")]
    NullInKey { table: String, column: String },
    /// `key` is PostgreSQL's `(a, b)=(1, 2)` of one duplicated key.
    #[error("could not create unique index \"{table}_pkey\": key {key} is duplicated")]
    DuplicateKey { table: String, key: String },
    #[error("table {table}: its definition cannot be rebuilt with a primary key")]
    CannotRebuild { table: String },
    #[error("the schema change failed in SQLite: {0}")]
    Sqlite(String),
}

impl From<rusqlite::Error> for SchemaError {
    fn from(error: rusqlite::Error) -> Self {
        SchemaError::Sqlite(error.to_string())
    }
}

/// Merging a batch failed: the whole batch was rolled back, no row, clock or
/// bookkeeping changed, and the same batch can be retried.
#[derive(Debug, Error)]
pub enum MergeError {
    #[error("change for unknown table {table}")]
    UnknownTable { table: String },
    #[error("change for unknown column {column} of table {table}")]
    UnknownColumn { table: String, column: String },
    #[error("malformed change for table {table}: {reason}")]
    Malformed { table: String, reason: String },
    #[error("applying the cluster's schema failed: {reason}")]
    Schema { reason: String },
    /// The version was written under another primary key of the table
    /// than this node's; it applies once both agree (see `keys`).
    #[error(
        "change for table {table} written under primary key ({theirs}), but this node's key \
         is ({ours}); it waits until the nodes agree on the table's key"
    )]
    KeyMismatch {
        table: String,
        theirs: String,
        ours: String,
    },
    #[error("a merge cannot run inside an open transaction")]
    InTransaction,
    #[error("SQLite failed during the merge: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Reading changes or bookkeeping failed; nothing was written.
#[derive(Debug, Error)]
#[error("reading from the store failed: {0}")]
pub struct ReadError(#[from] pub rusqlite::Error);

/// Compacting the version log failed: the call's removals were rolled back.
#[derive(Debug, Error)]
pub enum CompactError {
    #[error("compaction cannot run inside an open transaction")]
    InTransaction,
    #[error("SQLite failed during compaction: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
