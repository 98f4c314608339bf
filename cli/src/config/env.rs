//! The environment's layer of settings: one `PATINA_*` variable per key.
//! The `PATINA_PG_*` variables set the first pg listener (creating it if
//! the file has none). An empty variable counts as unset.

use std::path::PathBuf;

use super::ConfigError;
use super::settings::{
    LogFormat, Origin, Setting, Settings, parse_addr, parse_auth, parse_bool, parse_durability,
    parse_max_connections,
};

/// Every variable read, with the config key it overrides (for `--help`
/// and the README).
pub const VARIABLES: &[(&str, &str)] = &[
    ("PATINA_CONFIG", "--config"),
    ("PATINA_DATA_DIR", "data.dir"),
    ("PATINA_SCHEMA", "data.schema (comma-separated)"),
    ("PATINA_DURABILITY", "data.durability"),
    ("PATINA_GOSSIP_ADDR", "gossip.addr"),
    ("PATINA_EXTERNAL_ADDR", "gossip.external_addr"),
    ("PATINA_BOOTSTRAP", "gossip.bootstrap (comma-separated)"),
    ("PATINA_PEER_CA", "gossip.tls.ca"),
    ("PATINA_PEER_CERT", "gossip.tls.cert"),
    ("PATINA_PEER_KEY", "gossip.tls.key"),
    ("PATINA_PEER_INSECURE", "gossip.tls.insecure"),
    ("PATINA_PG_ADDR", "pg[0].addr"),
    ("PATINA_PG_AUTH", "pg[0].auth"),
    ("PATINA_PG_TLS_CERT", "pg[0].tls.cert"),
    ("PATINA_PG_TLS_KEY", "pg[0].tls.key"),
    ("PATINA_PG_READ_ONLY", "pg[0].read_only"),
    ("PATINA_PG_MAX_CONNECTIONS", "pg[0].max_connections"),
    ("PATINA_METRICS_ADDR", "metrics.addr"),
    ("PATINA_LOG_LEVEL", "log.level"),
    ("RUST_LOG", "log.level, when PATINA_LOG_LEVEL is unset"),
    ("PATINA_LOG_FORMAT", "log.format"),
];

/// The settings the environment sets, read through `lookup` (the process
/// environment in the binary).
pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
    let env = Env { lookup };
    let mut settings = Settings {
        data_dir: env.get("PATINA_DATA_DIR", |text| Ok(PathBuf::from(text)))?,
        schema: env.get("PATINA_SCHEMA", |text| {
            Ok(list(text).map(PathBuf::from).collect())
        })?,
        durability: env.get("PATINA_DURABILITY", parse_durability)?,
        gossip_addr: env.get("PATINA_GOSSIP_ADDR", parse_addr)?,
        external_addr: env.get("PATINA_EXTERNAL_ADDR", parse_addr)?,
        bootstrap: env.get("PATINA_BOOTSTRAP", |text| {
            list(text).map(parse_addr).collect()
        })?,
        peer_ca: env.get("PATINA_PEER_CA", |text| Ok(PathBuf::from(text)))?,
        peer_cert: env.get("PATINA_PEER_CERT", |text| Ok(PathBuf::from(text)))?,
        peer_key: env.get("PATINA_PEER_KEY", |text| Ok(PathBuf::from(text)))?,
        peer_insecure: env.get("PATINA_PEER_INSECURE", parse_bool)?,
        metrics_addr: env.get("PATINA_METRICS_ADDR", parse_addr)?,
        log_level: match env.get("PATINA_LOG_LEVEL", |text| Ok(text.to_owned()))? {
            Some(level) => Some(level),
            None => env.get("RUST_LOG", |text| Ok(text.to_owned()))?,
        },
        log_format: env.get("PATINA_LOG_FORMAT", LogFormat::parse)?,
        ..Settings::default()
    };
    let first = &mut settings.first_pg;
    first.addr = env.get("PATINA_PG_ADDR", parse_addr)?;
    first.auth = env.get("PATINA_PG_AUTH", parse_auth)?;
    first.tls_cert = env.get("PATINA_PG_TLS_CERT", |text| Ok(PathBuf::from(text)))?;
    first.tls_key = env.get("PATINA_PG_TLS_KEY", |text| Ok(PathBuf::from(text)))?;
    first.read_only = env.get("PATINA_PG_READ_ONLY", parse_bool)?;
    first.max_connections = env.get("PATINA_PG_MAX_CONNECTIONS", |text| {
        let number = text
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("must be a whole number, got {text:?}"))?;
        parse_max_connections(number)
    })?;
    Ok(settings)
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get<T>(
        &self,
        var: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<Setting<T>>, ConfigError> {
        debug_assert!(VARIABLES.iter().any(|(name, _)| *name == var));
        match (self.lookup)(var) {
            Some(text) if !text.is_empty() => parse(&text)
                .map(|value| Some(Setting::new(value, Origin::Env(var))))
                .map_err(|message| ConfigError::new(Origin::Env(var).to_string(), message)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_from(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        read(|name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn lists_are_comma_separated() {
        let settings =
            read_from(&[("PATINA_BOOTSTRAP", "10.0.0.1:7878, 10.0.0.2:7878,")]).expect("parses");
        let bootstrap = settings.bootstrap.expect("set").value;
        assert_eq!(bootstrap.len(), 2);
        assert_eq!(bootstrap[1].to_string(), "10.0.0.2:7878");
    }

    #[test]
    fn errors_name_the_variable() {
        let error = read_from(&[("PATINA_PG_MAX_CONNECTIONS", "0")]).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "environment variable PATINA_PG_MAX_CONNECTIONS: must be at least 1, got 0"
        );
        let error = read_from(&[("PATINA_GOSSIP_ADDR", "nowhere")]).expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("environment variable PATINA_GOSSIP_ADDR: ")
        );
    }

    #[test]
    fn empty_variables_are_unset() {
        let settings = read_from(&[("PATINA_PG_ADDR", "")]).expect("parses");
        assert!(settings.first_pg.addr.is_none());
    }
}
