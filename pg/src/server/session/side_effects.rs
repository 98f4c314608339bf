//! What statements ask for beside their rows: settings changed by
//! `set_config`, notifications queued by NOTIFY and `pg_notify`, applied
//! when the statement or its transaction ends.

use super::*;

impl Session {
    /// Applies what `set_config` queued while a statement ran, if it
    /// succeeded. A local one outside a block ends with the statement.
    pub(super) fn apply_set_config(&mut self, ok: bool) -> Result<(), PgError> {
        let mut queued = self.settings_outbox.take();
        queued.extend(self.db.take_writer_settings());
        if !ok {
            return Ok(());
        }
        for (name, value, local) in queued {
            if local && self.txn == Txn::Idle {
                continue;
            }
            self.settings.set_by_statement(&name, Some(&value), local)?;
        }
        Ok(())
    }

    /// Takes what `pg_notify` queued while a statement ran: into the
    /// transaction's queue if it succeeded (sent now outside a block).
    pub(super) async fn collect_notifications(&mut self, ok: bool) -> Result<(), PgError> {
        let mut queued = self.outbox.take();
        queued.extend(self.db.take_writer_notifications());
        if !ok || queued.is_empty() {
            return Ok(());
        }
        self.notify.queue(queued);
        if self.txn == Txn::Idle {
            return self.end_notifications().await;
        }
        Ok(())
    }

    /// Commits the notification side of a transaction that holds no
    /// writer (it wrote nothing, or is a statement outside a block): its
    /// LISTEN/UNLISTEN take effect; its notifications are recorded for the
    /// cluster in a transaction of their own and sent.
    pub(super) async fn end_notifications(&mut self) -> Result<(), PgError> {
        if !self.notify.has_queued() {
            self.notify.end(true);
            self.feeds.sync(&self.db, self.notify.channels()).await;
            return Ok(());
        }
        let writer = self.db.writer().await;
        let recorded = self
            .db
            .record_notifications(writer.conn(), self.pid, self.notify.queued());
        self.notify.end(recorded.is_ok());
        self.db.forget_notification_arrivals();
        drop(writer);
        self.feeds.sync(&self.db, self.notify.channels()).await;
        recorded
    }
}
