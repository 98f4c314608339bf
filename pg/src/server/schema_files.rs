//! Schema files on disk applied to the live database: read (a file, or
//! every `.sql` file of a directory in name order), planned against the
//! live schema ([`crate::translate::plan_schema`]) and run as one
//! transaction through an in-process session, so their DDL takes the same
//! path as a client's (column types recorded, the schema replicated to the
//! cluster). A refusal or a failing statement changes nothing.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use patina_store::Store;

use super::database::Database;
use super::errors::PgError;
use super::session::Session;
use crate::translate::{SchemaFile, SchemaRefusal, SchemaStep, plan_schema};

/// What applying the files did.
#[derive(Debug, Clone, Default)]
pub struct SchemaReport {
    /// The files read, in the order applied.
    pub files: Vec<String>,
    /// The statements run; empty when the live schema already matched.
    pub steps: Vec<SchemaStep>,
}

/// Why the files were not applied; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum SchemaFilesError {
    #[error("{path}: {source}")]
    Read { path: String, source: io::Error },
    #[error(transparent)]
    Refused(#[from] SchemaRefusal),
    #[error("{file}: {statement}: {message} (SQLSTATE {code})")]
    Failed {
        file: String,
        statement: String,
        code: String,
        message: String,
    },
}

impl SchemaFilesError {
    /// The SQLSTATE a client is told.
    pub fn sqlstate(&self) -> &str {
        match self {
            SchemaFilesError::Read { .. } => "58030",
            SchemaFilesError::Refused(_) => "0A000",
            SchemaFilesError::Failed { code, .. } => code,
        }
    }
}

/// The files `paths` name: a file as itself, a directory as its `.sql`
/// files (not recursive) in name order.
pub fn read(paths: &[PathBuf]) -> Result<Vec<SchemaFile>, SchemaFilesError> {
    let failed = |path: &Path| {
        let path = path.display().to_string();
        move |source| SchemaFilesError::Read { path, source }
    };
    let mut files = Vec::new();
    for path in paths {
        let mut members = Vec::new();
        if path.is_dir() {
            for entry in std::fs::read_dir(path).map_err(failed(path))? {
                let member = entry.map_err(failed(path))?.path();
                if member.is_file() && member.extension().is_some_and(|e| e == "sql") {
                    members.push(member);
                }
            }
            members.sort();
        } else {
            members.push(path.clone());
        }
        for member in members {
            let sql = std::fs::read_to_string(&member).map_err(failed(&member))?;
            files.push(SchemaFile {
                path: member.display().to_string(),
                sql,
            });
        }
    }
    Ok(files)
}

/// Plans (and runs) of one reload at most, when the schema changes
/// under it.
const PLAN_ATTEMPTS: usize = 3;

impl Database {
    /// Reads the schema files at `paths` and brings the live schema up to
    /// them in one transaction.
    pub async fn apply_schema_files(
        &self,
        paths: &[PathBuf],
    ) -> Result<SchemaReport, SchemaFilesError> {
        let files = read(paths)?;
        let mut attempt = 1;
        let steps = loop {
            let indexes = self.index_names().map_err(|e| SchemaFilesError::Read {
                path: self.path().display().to_string(),
                source: io::Error::other(e),
            })?;
            let steps = plan_schema(&files, &*self.tables(), &indexes)?;
            if steps.is_empty() {
                break steps;
            }
            match self.run_steps(&steps).await {
                Ok(()) => break steps,
                // The same change arrived from another node between the
                // plan and its run (the schema is replicated): plan again.
                Err(SchemaFilesError::Failed { code, .. })
                    if attempt < PLAN_ATTEMPTS && ["42701", "42P07"].contains(&code.as_str()) =>
                {
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        };
        for step in &steps {
            tracing::info!(file = %step.file, change = %step.summary, "schema file applied");
        }
        Ok(SchemaReport {
            files: files.into_iter().map(|f| f.path).collect(),
            steps,
        })
    }

    async fn run_steps(&self, steps: &[SchemaStep]) -> Result<(), SchemaFilesError> {
        let failed = |step: Option<&SchemaStep>, error: PgError| SchemaFilesError::Failed {
            file: step.map(|s| s.file.clone()).unwrap_or_default(),
            statement: step.map(|s| s.statement.clone()).unwrap_or_default(),
            code: error.code,
            message: error.message,
        };
        let mut session = Session::new(self.clone(), "patina").map_err(|e| failed(None, e))?;
        let ran = async {
            run(&mut session, "BEGIN")
                .await
                .map_err(|e| failed(None, e))?;
            for step in steps {
                run(&mut session, &step.sql)
                    .await
                    .map_err(|e| failed(Some(step), e))?;
            }
            run(&mut session, "COMMIT")
                .await
                .map_err(|e| failed(None, e))
        }
        .await;
        if ran.is_err() {
            let _ = run(&mut session, "ROLLBACK").await;
        }
        session.close().await;
        ran
    }

    /// The names of the indexes patina's users made (lower-cased).
    fn index_names(&self) -> Result<BTreeSet<String>, patina_store::OpenError> {
        let conn = Store::open_reader_at(self.path())?;
        let mut stmt = conn
            .prepare(
                "SELECT lower(name) FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL",
            )
            .map_err(patina_store::OpenError::from)?;
        let names = stmt
            .query_map([], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(patina_store::OpenError::from)?;
        Ok(names)
    }
}

async fn run(session: &mut Session, sql: &str) -> Result<(), PgError> {
    let plan = session.plan(sql, &[])?;
    session.run(&plan, &[]).await.map(drop)
}
