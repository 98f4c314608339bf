//! Transaction control: `BEGIN`/`START TRANSACTION` (PostgreSQL's modes
//! are accepted: SQLite's one writer gives serializable isolation, at
//! least as strong as any level asked for), `COMMIT`/`END`, `ROLLBACK`,
//! `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`.

use sqlparser::ast::Statement;

use super::StatementKind;
use crate::error::Error;

/// Translates a transaction-control statement; anything else is 0A000.
pub(crate) fn translate(statement: &Statement) -> Result<(StatementKind, String), Error> {
    match statement {
        Statement::StartTransaction {
            statements,
            exception: None,
            modifier: None,
            ..
        } if statements.is_empty() => Ok((StatementKind::Begin, "BEGIN".into())),
        Statement::Commit {
            chain: false,
            modifier: None,
            ..
        } => Ok((StatementKind::Commit, "COMMIT".into())),
        Statement::Rollback {
            chain: false,
            savepoint,
        } => Ok(match savepoint {
            Some(name) => (
                StatementKind::RollbackToSavepoint,
                format!("ROLLBACK TO SAVEPOINT {name}"),
            ),
            None => (StatementKind::Rollback, "ROLLBACK".into()),
        }),
        Statement::Savepoint { name } => {
            Ok((StatementKind::Savepoint, format!("SAVEPOINT {name}")))
        }
        Statement::ReleaseSavepoint { name } => {
            Ok((StatementKind::Release, format!("RELEASE SAVEPOINT {name}")))
        }
        other => {
            let text = other.to_string();
            let head: String = text
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            Err(Error::Unsupported(format!("statement {head}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn one(sql: &str) -> Result<(StatementKind, String), Error> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .map_err(|e| Error::Syntax(e.to_string()))?;
        translate(&statements[0])
    }

    #[test]
    fn transaction_statements_map_to_sqlite() {
        assert_eq!(one("BEGIN"), Ok((StatementKind::Begin, "BEGIN".into())));
        assert_eq!(
            one("START TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
            Ok((StatementKind::Begin, "BEGIN".into()))
        );
        assert_eq!(one("END"), Ok((StatementKind::Commit, "COMMIT".into())));
        assert_eq!(
            one("ROLLBACK"),
            Ok((StatementKind::Rollback, "ROLLBACK".into()))
        );
        assert_eq!(
            one("SAVEPOINT s1"),
            Ok((StatementKind::Savepoint, "SAVEPOINT s1".into()))
        );
        assert_eq!(
            one("RELEASE SAVEPOINT s1"),
            Ok((StatementKind::Release, "RELEASE SAVEPOINT s1".into()))
        );
        assert_eq!(
            one("ROLLBACK TO SAVEPOINT s1"),
            Ok((
                StatementKind::RollbackToSavepoint,
                "ROLLBACK TO SAVEPOINT s1".into()
            ))
        );
        assert!(matches!(
            one("VACUUM"),
            Err(Error::Unsupported(_)) | Err(Error::Syntax(_))
        ));
        assert!(matches!(
            one("CREATE VIEW v AS SELECT 1"),
            Err(Error::Unsupported(_))
        ));
    }
}
