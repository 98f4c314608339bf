//! `COPY … FROM STDIN WITH (FREEZE)`: allowed, as in PostgreSQL, only on a
//! table created or truncated in the current subtransaction (pgbench -i
//! truncates or creates its tables, then copies into them with FREEZE in
//! the same transaction). The session tells [`FreshTables`] what it
//! creates and truncates and how its savepoints come and go; `COPY` asks.

use super::errors::PgError;

/// The tables created or truncated in the open transaction, each with the
/// subtransaction that did it.
#[derive(Debug, Default)]
pub(crate) struct FreshTables {
    /// The open savepoints, innermost last: (name, subtransaction id).
    savepoints: Vec<(String, u64)>,
    /// (table, subtransaction id); 0 is the top-level transaction.
    tables: Vec<(String, u64)>,
    /// The last subtransaction id handed out.
    last_id: u64,
}

impl FreshTables {
    fn current(&self) -> u64 {
        self.savepoints.last().map_or(0, |(_, id)| *id)
    }

    /// `table` was created or truncated by the statement that just ran in
    /// the open transaction block.
    pub fn touched(&mut self, table: &str) {
        let id = self.current();
        self.tables.push((table.to_owned(), id));
    }

    /// A `SAVEPOINT`, `RELEASE` or `ROLLBACK TO` (by its command tag) of
    /// the savepoint `name` succeeded.
    pub fn savepoint(&mut self, tag: &str, name: &str) {
        if tag == "SAVEPOINT" {
            self.last_id += 1;
            self.savepoints.push((name.to_owned(), self.last_id));
            return;
        }
        let Some(i) = self.savepoints.iter().rposition(|(n, _)| n == name) else {
            return;
        };
        let ended: Vec<u64> = self.savepoints[i..].iter().map(|(_, id)| *id).collect();
        if tag == "RELEASE" {
            // the released subtransactions' tables become their parent's
            self.savepoints.truncate(i);
            let parent = self.current();
            for (_, id) in &mut self.tables {
                if ended.contains(id) {
                    *id = parent;
                }
            }
        } else {
            // rolled back: their creations and truncations are undone, and
            // the savepoint starts a new subtransaction
            self.tables.retain(|(_, id)| !ended.contains(id));
            self.savepoints.truncate(i + 1);
            self.last_id += 1;
            self.savepoints[i].1 = self.last_id;
        }
    }

    /// The transaction ended (committed or rolled back).
    pub fn end(&mut self) {
        self.savepoints.clear();
        self.tables.clear();
    }

    /// Whether `COPY table FROM … (FREEZE)` may run now: PostgreSQL's
    /// check and error.
    pub fn check_freeze(&self, table: &str) -> Result<(), PgError> {
        let current = self.current();
        if self
            .tables
            .iter()
            .any(|(name, id)| name == table && *id == current)
        {
            return Ok(());
        }
        Err(PgError::new(
            "55000",
            "cannot perform COPY FREEZE because the table was not created or truncated in the \
             current subtransaction",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases checked against PostgreSQL 15 by hand with psql.
    #[test]
    fn follows_subtransactions_like_postgres() {
        let mut fresh = FreshTables::default();
        assert!(fresh.check_freeze("t").is_err());
        fresh.touched("t");
        assert!(fresh.check_freeze("t").is_ok());
        assert!(fresh.check_freeze("u").is_err());
        // BEGIN; TRUNCATE t; SAVEPOINT s; → not in the current one
        fresh.savepoint("SAVEPOINT", "s");
        assert!(fresh.check_freeze("t").is_err());
        // ROLLBACK TO s; RELEASE s; → back in the truncating one
        fresh.savepoint("ROLLBACK", "s");
        assert!(fresh.check_freeze("t").is_err());
        fresh.savepoint("RELEASE", "s");
        assert!(fresh.check_freeze("t").is_ok());
        // SAVEPOINT a; CREATE TABLE u; RELEASE a; → the parent's
        fresh.savepoint("SAVEPOINT", "a");
        fresh.touched("u");
        fresh.savepoint("RELEASE", "a");
        assert!(fresh.check_freeze("u").is_ok());
        // SAVEPOINT b; TRUNCATE v; ROLLBACK TO b; → undone
        fresh.savepoint("SAVEPOINT", "b");
        fresh.touched("v");
        fresh.savepoint("ROLLBACK", "b");
        assert!(fresh.check_freeze("v").is_err());
        fresh.savepoint("RELEASE", "b");
        assert!(fresh.check_freeze("v").is_err());
        fresh.end();
        assert!(fresh.check_freeze("t").is_err());
    }
}
