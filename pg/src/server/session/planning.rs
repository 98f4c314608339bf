//! Planning a statement: what kind it is (SQL to translate, a transaction
//! command, LISTEN/NOTIFY, a utility, a procedure, a subscription…), and
//! SQL-level PREPARE / EXECUTE.

use super::*;

impl Session {
    /// Turns one statement's text into a plan, translating SQL against the
    /// tables as this session sees them now.
    pub fn plan(&self, sql: &str, given: &[Option<PgType>]) -> Result<Plan, PgError> {
        if sql.trim().is_empty() {
            return Ok(Plan::Empty);
        }
        if let Some(notify) = notify::parse(sql) {
            let (command, notices) = notify?;
            row_feed::check(&self.reader, &*self.db.tables(), &command)?;
            return Ok(Plan::Notify(command, notices));
        }
        if let Some(command) = statement::command(sql) {
            return Ok(Plan::Command(command));
        }
        if let Some(prepare) = prepare::prepare(sql) {
            return Ok(Plan::Prepare(prepare?));
        }
        if let Some(execute) = prepare::execute(sql) {
            return self.plan_execute(execute?);
        }
        let tables = match (&self.writer, self.ddl_in_txn) {
            (Some(writer), true) => Arc::new(Tables::load(writer.conn())?),
            _ => self.db.tables(),
        };
        let user = self.settings.get("session_authorization");
        let catalog = SessionCatalog {
            tables: &tables,
            user: &user,
            pid: self.pid,
            settings: self.settings.values(),
        };
        if let Some(call) = procedures::parse(sql) {
            return Ok(Plan::Call(call?));
        }
        if let Some(call) = subscriptions::parse(sql) {
            let planned = subscriptions::plan_call(call?, &catalog, &self.reader, given)?;
            return Ok(Plan::Subscription(Box::new(planned)));
        }
        if let Some(utility) = utility::plan(sql, &catalog) {
            return Ok(Plan::Utility(Box::new(utility?)));
        }
        let mut translated =
            translate_typed(sql, &catalog, given).map_err(|e| PgError::from(e).located_in(sql))?;
        match translated.len() {
            1 => Ok(Plan::Sql(Box::new(translated.remove(0)))),
            0 => Ok(Plan::Empty),
            _ => Err(PgError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            )),
        }
    }

    /// Plans `EXECUTE name (arguments)`: the prepared statement, and a query
    /// that computes the arguments as its parameter types.
    pub(super) fn plan_execute(&self, execute: prepare::Execute) -> Result<Plan, PgError> {
        let missing = || {
            PgError::new(
                "26000",
                format!("prepared statement \"{}\" does not exist", execute.name),
            )
        };
        let prepared = self.statements.get(&execute.name).ok_or_else(missing)?;
        let Plan::Sql(statement) = &prepared.plan else {
            return Err(PgError::new(
                "0A000",
                "EXECUTE of a prepared session command is not supported",
            ));
        };
        if execute.arguments.len() != prepared.params.len() {
            return Err(PgError::new(
                "42601",
                format!(
                    "wrong number of parameters for prepared statement \"{}\"",
                    execute.name
                ),
            ));
        }
        let arguments = if execute.arguments.is_empty() {
            None
        } else {
            let casts: Vec<String> = execute
                .arguments
                .iter()
                .zip(&prepared.params)
                .map(|(argument, ty)| format!("({argument})::{ty}"))
                .collect();
            match self.plan(&format!("SELECT {}", casts.join(", ")), &[])? {
                Plan::Sql(arguments) => Some(arguments),
                _ => return Err(PgError::new("42601", "invalid EXECUTE arguments")),
            }
        };
        Ok(Plan::Execute {
            statement: statement.clone(),
            arguments,
        })
    }

    /// Runs PREPARE: plans the statement with the declared parameter types.
    pub(super) fn prepare(&mut self, prepare: &Prepare) -> Result<Outcome, PgError> {
        if self.statements.contains_key(&prepare.name) {
            return Err(PgError::new(
                "42P05",
                format!("prepared statement \"{}\" already exists", prepare.name),
            ));
        }
        let given = prepare
            .types
            .iter()
            .map(|name| {
                PgType::from_name(name)
                    .map(Some)
                    .ok_or_else(|| PgError::new("42704", format!("type \"{name}\" does not exist")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let plan = self.plan(&prepare.body, &given)?;
        let mut params = plan.params();
        for ty in given.iter().skip(params.len()) {
            params.extend(*ty);
        }
        self.statements
            .insert(prepare.name.clone(), Prepared { plan, params });
        Ok(Outcome {
            rows: Vec::new(),
            tag: "PREPARE".to_owned(),
        })
    }
}
