//! patina's procedures, run with `CALL` like PostgreSQL's so any client
//! (and the `patina` CLI) can ask the node for them over the pg wire:
//!
//! - `CALL patina_reload()`: applies the node's schema files again (see
//!   `schema_files`), one NOTICE per change, or one saying nothing changed;
//! - `CALL patina_rejoin()`: announces the node to its bootstrap peers
//!   again.
//!
//! Neither can run inside a transaction block (25001), as neither can be
//! rolled back with it.

use sqlparser::ast::{FunctionArguments, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::database::Database;
use super::errors::PgError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Procedure {
    Reload,
    Rejoin,
}

impl Procedure {
    fn name(self) -> &'static str {
        match self {
            Procedure::Reload => "patina_reload()",
            Procedure::Rejoin => "patina_rejoin()",
        }
    }
}

/// `None` unless `sql` is a CALL; then the procedure, or 42883 for one
/// patina does not have.
pub(crate) fn parse(sql: &str) -> Option<Result<Procedure, PgError>> {
    let first = sql.split_whitespace().next()?;
    if !first.eq_ignore_ascii_case("call") {
        return None;
    }
    let statements = match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(statements) => statements,
        Err(error) => return Some(Err(PgError::new("42601", error.to_string()))),
    };
    let [Statement::Call(function)] = statements.as_slice() else {
        return Some(Err(PgError::new("42601", "syntax error in CALL")));
    };
    let name = function.name.to_string().to_lowercase();
    let no_arguments = match &function.args {
        FunctionArguments::None => true,
        FunctionArguments::List(list) => list.args.is_empty(),
        FunctionArguments::Subquery(_) => false,
    };
    let procedure = match name.as_str() {
        "patina_reload" | "patina.reload" if no_arguments => Procedure::Reload,
        "patina_rejoin" | "patina.rejoin" if no_arguments => Procedure::Rejoin,
        _ => {
            return Some(Err(PgError::new(
                "42883",
                format!("procedure {} does not exist", function),
            )));
        }
    };
    Some(Ok(procedure))
}

/// Runs `procedure` for a session outside any transaction block; returns
/// the notices to send.
pub(crate) async fn call(
    db: &Database,
    procedure: Procedure,
    in_block: bool,
) -> Result<Vec<PgError>, PgError> {
    if in_block {
        return Err(PgError::new(
            "25001",
            format!(
                "CALL {} cannot run inside a transaction block",
                procedure.name()
            ),
        ));
    }
    match procedure {
        Procedure::Reload => reload(db).await,
        Procedure::Rejoin => {
            let rejoin = db.node().rejoin().ok_or_else(|| {
                PgError::new(
                    "55000",
                    "this node is not part of a cluster it could rejoin",
                )
            })?;
            rejoin().map_err(|reason| PgError::new("58000", reason))?;
            Ok(vec![notice(
                "rejoining the cluster through its bootstrap peers",
            )])
        }
    }
}

async fn reload(db: &Database) -> Result<Vec<PgError>, PgError> {
    let paths = db.node().schema_paths();
    if paths.is_empty() {
        return Ok(vec![notice(
            "this node was started without schema files: nothing to reload",
        )]);
    }
    let report = db
        .apply_schema_files(&paths)
        .await
        .map_err(|error| PgError::new(error.sqlstate(), error.to_string()))?;
    if report.steps.is_empty() {
        return Ok(vec![notice(format!(
            "schema unchanged: {} file(s) match the database",
            report.files.len()
        ))]);
    }
    Ok(report
        .steps
        .iter()
        .map(|step| notice(format!("{}: {}", step.file, step.summary)))
        .collect())
}

/// A NOTICE (SQLSTATE 00000) reporting what a procedure did.
fn notice(message: impl Into<String>) -> PgError {
    PgError::new("00000", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_patina_procedures_only() {
        assert_eq!(parse("SELECT 1").map(|r| r.ok()), None);
        assert_eq!(
            parse("call patina_reload()").unwrap().unwrap(),
            Procedure::Reload
        );
        assert_eq!(
            parse("CALL PATINA_REJOIN ( )").unwrap().unwrap(),
            Procedure::Rejoin
        );
        let unknown = parse("CALL nope(1)").unwrap().unwrap_err();
        assert_eq!(unknown.code, "42883");
        assert!(unknown.message.contains("nope(1)"), "{}", unknown.message);
        let with_arguments = parse("CALL patina_reload(1)").unwrap().unwrap_err();
        assert_eq!(with_arguments.code, "42883");
    }
}
