//! A session's run-time settings (PostgreSQL's GUCs as SET, SHOW and RESET
//! see them): their defaults, what the client asked for at startup, the
//! ones reported with ParameterStatus, and how they follow transactions (a
//! rollback undoes SET, a commit ends SET LOCAL).

use std::collections::BTreeMap;
use std::time::Duration;

use super::errors::PgError;
use super::statement::{self, Characteristics};

pub(crate) const SERVER_VERSION: &str = "15.8";

/// Settings reported to the client at startup and whenever they change
/// (PostgreSQL's GUC_REPORT ones), with their defaults.
const REPORTED: &[(&str, &str)] = &[
    ("server_version", SERVER_VERSION),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("DateStyle", "ISO, MDY"),
    ("IntervalStyle", "postgres"),
    ("TimeZone", "UTC"),
    ("integer_datetimes", "on"),
    ("standard_conforming_strings", "on"),
    ("is_superuser", "on"),
    ("default_transaction_read_only", "off"),
    ("in_hot_standby", "off"),
    ("application_name", ""),
];

/// Other settings SHOW answers.
const OTHERS: &[(&str, &str)] = &[
    ("transaction_isolation", "read committed"),
    ("default_transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("search_path", "\"$user\", public"),
    ("max_identifier_length", "63"),
    ("server_version_num", "150008"),
    ("statement_timeout", "0"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
    ("bytea_output", "hex"),
    ("client_min_messages", "notice"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
    // SQLAlchemy's reflection compares pg_am.amname with it
    ("default_table_access_method", "heap"),
];

/// A transaction's characteristics and the session defaults they start
/// from.
const CHARACTERISTICS: [(&str, &str); 2] = [
    ("transaction_isolation", "default_transaction_isolation"),
    ("transaction_read_only", "default_transaction_read_only"),
];

#[derive(Debug)]
pub(crate) struct Settings {
    /// Current values, by lower-cased name.
    values: BTreeMap<String, String>,
    /// What RESET goes back to: the defaults, and what the client asked
    /// for at startup.
    reset_values: BTreeMap<String, String>,
    /// Reported settings changed since the client was last told.
    changed: Vec<(String, String)>,
    /// The values when the open block began: a rollback restores them,
    /// and a commit restores those that SET LOCAL changed.
    block: Option<BTreeMap<String, String>>,
    /// The settings SET LOCAL changed in the open block.
    local: Vec<String>,
    /// The session came through a read-only listener: every transaction
    /// is read only, whatever is SET (as on a hot standby).
    forced_read_only: bool,
}

impl Settings {
    pub fn new(user: &str) -> Settings {
        let mut values: BTreeMap<String, String> = REPORTED
            .iter()
            .chain(OTHERS)
            .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        values.insert("session_authorization".to_owned(), user.to_owned());
        Settings {
            reset_values: values.clone(),
            values,
            changed: Vec::new(),
            block: None,
            local: Vec::new(),
            forced_read_only: false,
        }
    }

    /// Makes every transaction read only for good; the defaults say so.
    pub fn force_read_only(&mut self) {
        self.forced_read_only = true;
        for name in ["default_transaction_read_only", "transaction_read_only"] {
            self.values.insert(name.to_owned(), "on".to_owned());
            self.reset_values.insert(name.to_owned(), "on".to_owned());
        }
    }

    /// Applies the settings of the startup packet (parameters and `-c`
    /// options); they become what RESET goes back to. A value patina
    /// cannot take (a time zone other than UTC) keeps the default.
    pub fn apply_startup(&mut self, startup: &BTreeMap<String, String>) {
        let options = startup.get("options").map(String::as_str).unwrap_or("");
        let given = startup
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "user" | "database" | "options" | "replication"
                )
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .chain(statement::startup_options(options));
        for (name, value) in given {
            let name = name.to_ascii_lowercase();
            if let Err(error) = self.set(&name, value) {
                tracing::debug!(%name, %error, "startup setting ignored");
            }
        }
        self.changed.clear();
        self.reset_values = self.values.clone();
    }

    /// The settings to report at startup, with their current values.
    pub fn reported(&self) -> Vec<(String, String)> {
        REPORTED
            .iter()
            .map(|(name, _)| *name)
            .chain(["session_authorization"])
            .map(|name| (name.to_owned(), self.get(name)))
            .collect()
    }

    /// Reported settings that changed since the last call.
    pub fn take_changed(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.changed)
    }

    pub fn get(&self, name: &str) -> String {
        self.values
            .get(&name.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// A time setting (`statement_timeout`, …) as a duration: a number of
    /// milliseconds or a number with a unit (`ms`, `s`, `min`, `h`, `d`);
    /// `None` when it is 0 (off) or unreadable.
    pub fn duration(&self, name: &str) -> Option<Duration> {
        let value = self.get(name);
        let value = value.trim();
        let split = value
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(value.len());
        let (number, unit) = value.split_at(split);
        let number: f64 = number.parse().ok()?;
        let millis = match unit.trim() {
            "" | "ms" => 1.0,
            "s" => 1e3,
            "min" => 60e3,
            "h" => 3600e3,
            "d" => 86_400e3,
            _ => return None,
        };
        Some(Duration::from_secs_f64(number * millis / 1e3)).filter(|d| !d.is_zero())
    }

    /// All current values, by lower-cased name.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// What SHOW answers; a transaction characteristic outside a block is
    /// the session default.
    pub fn show(&self, name: &str, in_block: bool) -> Result<String, PgError> {
        let name = canonical_name(name);
        let name = CHARACTERISTICS
            .iter()
            .find(|(current, _)| *current == name && !in_block)
            .map_or(name, |(_, default)| default);
        self.values
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| {
                PgError::new(
                    "42704",
                    format!("unrecognized configuration parameter \"{name}\""),
                )
            })
    }

    /// SET name TO value (`None`: DEFAULT); SET LOCAL only lasts until the
    /// open block ends.
    pub fn set_by_statement(
        &mut self,
        name: &str,
        value: Option<&str>,
        local: bool,
    ) -> Result<(), PgError> {
        let value = value.map_or_else(|| self.reset_value(name), str::to_owned);
        self.set(name, value)?;
        if local {
            self.local.push(name.to_owned());
        }
        Ok(())
    }

    /// RESET name, or RESET ALL.
    pub fn reset(&mut self, name: Option<&str>) -> Result<(), PgError> {
        match name {
            Some(name) => self.set(name, self.reset_value(name)),
            None => {
                for (name, value) in self.reset_values.clone() {
                    self.set(&name, value)?;
                }
                Ok(())
            }
        }
    }

    /// A block begins: remember the values, and start the transaction
    /// characteristics from the session defaults.
    pub fn begin_block(&mut self) {
        self.block = Some(self.values.clone());
        for (current, default) in CHARACTERISTICS {
            let value = self.get(default);
            self.values.insert(current.to_owned(), value);
        }
    }

    /// The block ended: puts back what does not outlive it, all of it
    /// after a rollback, what SET LOCAL changed after a commit.
    pub fn end_block(&mut self, committed: bool) {
        let Some(before) = self.block.take() else {
            return;
        };
        let local = std::mem::take(&mut self.local);
        let names: Vec<String> = if committed {
            local
        } else {
            before.keys().cloned().collect()
        };
        for name in names {
            if let Some(value) = before.get(&name) {
                self.assign(&name, value.clone());
            }
        }
    }

    /// Refuses READ WRITE on a read-only listener (as a hot standby
    /// PostgreSQL refuses it during recovery).
    pub fn check_characteristics(&self, characteristics: &Characteristics) -> Result<(), PgError> {
        if characteristics.read_only == Some(false) && self.forced_read_only {
            return Err(PgError::new(
                "25006",
                "cannot set transaction read-write mode on a read-only listener",
            ));
        }
        Ok(())
    }

    /// BEGIN … / SET TRANSACTION …: the open block's characteristics.
    pub fn apply_characteristics(
        &mut self,
        characteristics: &Characteristics,
    ) -> Result<(), PgError> {
        self.check_characteristics(characteristics)?;
        if let Some(isolation) = &characteristics.isolation {
            self.values
                .insert("transaction_isolation".to_owned(), isolation.clone());
        }
        if let Some(read_only) = characteristics.read_only {
            let value = if read_only || self.forced_read_only {
                "on"
            } else {
                "off"
            };
            self.values
                .insert("transaction_read_only".to_owned(), value.to_owned());
        }
        Ok(())
    }

    /// Whether a write would break READ ONLY: the block's, or the
    /// session default's outside a block.
    pub fn read_only(&self, in_block: bool) -> bool {
        if self.forced_read_only {
            return true;
        }
        let name = if in_block {
            "transaction_read_only"
        } else {
            "default_transaction_read_only"
        };
        is_on(&self.get(name))
    }

    fn reset_value(&self, name: &str) -> String {
        self.reset_values
            .get(&name.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// Sets a value after checking patina can honour it (it speaks UTF-8,
    /// ISO dates and UTC only).
    fn set(&mut self, name: &str, value: String) -> Result<(), PgError> {
        let unsupported =
            |what: &str| PgError::new("0A000", format!("patina sessions only support {what}"));
        let value = match name {
            "timezone" => match value.to_ascii_uppercase().as_str() {
                "UTC" | "GMT" | "ETC/UTC" | "Z" | "UCT" | "ZULU" | "+00" | "0" => "UTC".to_owned(),
                _ => return Err(unsupported("TimeZone UTC")),
            },
            "datestyle" if value.to_ascii_uppercase().starts_with("ISO") => "ISO, MDY".to_owned(),
            "datestyle" => return Err(unsupported("DateStyle ISO")),
            "client_encoding" => match value.to_ascii_uppercase().replace('-', "").as_str() {
                "UTF8" | "UNICODE" => "UTF8".to_owned(),
                _ => return Err(unsupported("client_encoding UTF8")),
            },
            "default_transaction_read_only" | "transaction_read_only"
                if self.forced_read_only && !is_on(&value) =>
            {
                return Err(PgError::new(
                    "25006",
                    "cannot set transaction read-write mode on a read-only listener",
                ));
            }
            _ => value,
        };
        self.assign(name, value);
        Ok(())
    }

    /// Stores a value, noting it for the client if it is a reported one.
    fn assign(&mut self, name: &str, value: String) {
        if let Some((reported, _)) = REPORTED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
            && self.values.get(name) != Some(&value)
        {
            self.changed.push((reported.to_string(), value.clone()));
        }
        self.values.insert(name.to_owned(), value);
    }
}

/// Whether a boolean setting's value is true.
fn is_on(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "on" | "true" | "1" | "yes"
    )
}

/// The name SHOW reports a setting under: its canonical spelling
/// (`DateStyle`), and `transaction_isolation` for `SHOW TRANSACTION
/// ISOLATION LEVEL`.
pub(crate) fn canonical_name(name: &str) -> &str {
    match name {
        "transaction isolation level" => "transaction_isolation",
        other => REPORTED
            .iter()
            .chain(OTHERS)
            .map(|(known, _)| *known)
            .find(|known| known.eq_ignore_ascii_case(other))
            .unwrap_or(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_undoes_set_and_commit_ends_set_local() {
        let mut settings = Settings::new("postgres");
        settings.begin_block();
        settings
            .set_by_statement("application_name", Some("a"), false)
            .unwrap();
        settings.end_block(false);
        assert_eq!(settings.get("application_name"), "");
        settings.begin_block();
        settings
            .set_by_statement("application_name", Some("b"), false)
            .unwrap();
        settings
            .set_by_statement("statement_timeout", Some("5"), true)
            .unwrap();
        settings.end_block(true);
        assert_eq!(settings.get("application_name"), "b");
        assert_eq!(settings.get("statement_timeout"), "0");
        assert_eq!(
            settings.take_changed(),
            [
                ("application_name".to_owned(), "a".to_owned()),
                ("application_name".to_owned(), String::new()),
                ("application_name".to_owned(), "b".to_owned()),
            ]
        );
    }

    #[test]
    fn reads_durations_like_postgres() {
        let mut settings = Settings::new("postgres");
        assert_eq!(settings.duration("statement_timeout"), None);
        for (text, millis) in [
            ("250", 250),
            ("2s", 2000),
            ("1min", 60_000),
            ("1.5 s", 1500),
        ] {
            settings
                .set_by_statement("statement_timeout", Some(text), false)
                .unwrap();
            assert_eq!(
                settings.duration("statement_timeout"),
                Some(Duration::from_millis(millis))
            );
        }
    }

    #[test]
    fn reset_goes_back_to_startup_values() {
        let mut settings = Settings::new("postgres");
        let startup = BTreeMap::from([
            ("application_name".to_owned(), "psql".to_owned()),
            ("TimeZone".to_owned(), "Europe/Paris".to_owned()),
            ("options".to_owned(), "-c search_path=app".to_owned()),
        ]);
        settings.apply_startup(&startup);
        assert_eq!(settings.get("timezone"), "UTC");
        settings
            .set_by_statement("application_name", Some("x"), false)
            .unwrap();
        settings.reset(None).unwrap();
        assert_eq!(settings.get("application_name"), "psql");
        assert_eq!(settings.show("search_path", false).unwrap(), "app");
        assert_eq!(settings.show("nope", false).unwrap_err().code, "42704");
    }
}
