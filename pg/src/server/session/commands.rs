//! Transaction control and session commands: BEGIN, COMMIT, ROLLBACK,
//! savepoints, SET, SHOW, DISCARD and the like.

use super::*;

impl Session {
    pub(super) async fn command(&mut self, command: &Command) -> Result<Outcome, PgError> {
        let tag = |t: &str| {
            Ok(Outcome {
                rows: Vec::new(),
                tag: t.to_owned(),
            })
        };
        match command {
            Command::Begin(characteristics, begin) => {
                if self.txn == Txn::Idle {
                    // Refused before a block opens, as PostgreSQL does.
                    self.settings.check_characteristics(characteristics)?;
                }
                match (self.txn, self.implicit.take()) {
                    (Txn::Idle, _) => self.open_block(),
                    // BEGIN turns an implicit block into an explicit one.
                    (_, Some(_)) => {}
                    (_, None) => self.warn("25001", "there is already a transaction in progress"),
                }
                self.settings.apply_characteristics(characteristics)?;
                tag(begin)
            }
            Command::SetTransaction(characteristics) => {
                if self.txn == Txn::Idle {
                    self.warn(
                        "25P01",
                        "SET TRANSACTION can only be used in transaction blocks",
                    );
                } else if characteristics.isolation.is_some() && self.block_ran_query {
                    return Err(PgError::new(
                        "25001",
                        "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                    ));
                } else {
                    self.settings.apply_characteristics(characteristics)?;
                }
                tag("SET")
            }
            Command::Commit => {
                if self.txn == Txn::Idle {
                    self.warn("25P01", "there is no transaction in progress");
                }
                let failed = self.txn == Txn::Failed;
                self.finish(if failed { "ROLLBACK" } else { "COMMIT" })
                    .await?;
                tag(if failed { "ROLLBACK" } else { "COMMIT" })
            }
            Command::Rollback => {
                if self.txn == Txn::Idle {
                    self.warn("25P01", "there is no transaction in progress");
                }
                self.finish("ROLLBACK").await?;
                tag("ROLLBACK")
            }
            Command::Savepoint {
                sql,
                tag: name,
                rolls_back,
            } => {
                if self.txn == Txn::Idle || self.implicit.is_some() {
                    return Err(PgError::new(
                        "25P01",
                        format!("{name} can only be used in transaction blocks"),
                    ));
                }
                if self.writer.is_none() {
                    let writer = self.db.writer().await;
                    writer
                        .clock()
                        .start_transaction(self.clock.transaction_start());
                    writer.control("BEGIN IMMEDIATE")?;
                    self.writer = Some(writer);
                }
                let ddl = self.ddl_in_txn;
                if let Some(writer) = &mut self.writer {
                    writer
                        .conn()
                        .execute_batch(sql)
                        .map_err(|e| savepoint_error(e, sql))?;
                    // Rolling back to a savepoint can undo DDL.
                    if *rolls_back && ddl {
                        writer.store().reload_schema()?;
                    }
                }
                if *rolls_back {
                    self.txn = Txn::Block;
                }
                self.notify.savepoint(name, &notify::savepoint_name(sql));
                self.fresh.savepoint(name, &notify::savepoint_name(sql));
                tag(name)
            }
            Command::Set { name, value, local } => {
                if *local && self.txn == Txn::Idle {
                    self.warn("25P01", "SET LOCAL can only be used in transaction blocks");
                } else {
                    self.settings
                        .set_by_statement(name, value.as_deref(), *local)?;
                }
                tag("SET")
            }
            Command::Show(name) => Ok(Outcome {
                rows: vec![vec![Value::Text(
                    self.settings.show(name, self.txn != Txn::Idle)?,
                )]],
                tag: "SHOW".to_owned(),
            }),
            Command::Reset(name) => {
                self.settings.reset(name.as_deref())?;
                tag("RESET")
            }
            Command::DiscardAll => {
                if self.txn != Txn::Idle && self.implicit != Some(Implicit::Extended) {
                    return Err(PgError::new(
                        "25001",
                        "DISCARD ALL cannot run inside a transaction block",
                    ));
                }
                self.statements.clear();
                self.portals.clear();
                self.settings.reset(None)?;
                tag("DISCARD ALL")
            }
            Command::Deallocate(name) => {
                match name {
                    None => self.statements.clear(),
                    Some(name) => {
                        if self.statements.remove(name).is_none() {
                            return Err(PgError::new(
                                "26000",
                                format!("prepared statement \"{name}\" does not exist"),
                            ));
                        }
                    }
                }
                tag(if name.is_none() {
                    "DEALLOCATE ALL"
                } else {
                    "DEALLOCATE"
                })
            }
            Command::CloseAll => {
                self.portals.clear();
                tag("CLOSE CURSOR ALL")
            }
            Command::NoOp(name) => tag(name),
            Command::AdvisoryUnlockAll => Ok(Outcome {
                rows: vec![vec![Value::Text(String::new())]],
                tag: "SELECT 1".to_owned(),
            }),
        }
    }
}
