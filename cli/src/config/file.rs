//! Reads the config file: TOML into [`RawConfig`], then every value parsed
//! into a [`Settings`] layer whose errors name the file and the key
//! (`patina.toml: pg[1].max_connections: must be at least 1, got 0`), or
//! the line and column of a TOML syntax error. Relative paths in the file
//! are relative to the file's folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;
use super::raw::{RawConfig, RawListener};
use super::settings::{
    ListenerSettings, LogFormat, Origin, Setting, Settings, UserSetting, parse_addr, parse_auth,
    parse_durability, parse_max_connections,
};

/// Reads and parses the config file at `path`.
pub fn read(path: &Path) -> Result<Settings, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigError::new(&name, format!("cannot read the config file: {error}"))
    })?;
    let raw = parse_raw(&name, &text)?;
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    FileLayer { name, base }.settings(raw)
}

fn parse_raw(name: &str, text: &str) -> Result<RawConfig, ConfigError> {
    let deserializer = toml::Deserializer::parse(text)
        .map_err(|error| ConfigError::new(name, describe(text, &error)))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let key = error.path().to_string();
        let inner = error.into_inner();
        let what = describe(text, &inner);
        if key == "." || key.is_empty() {
            ConfigError::new(name, what)
        } else {
            ConfigError::new(format!("{name}: {key}"), what)
        }
    })
}

/// A TOML error as `line L, column C: message`.
fn describe(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_owned(),
    }
}

struct FileLayer {
    name: String,
    base: PathBuf,
}

impl FileLayer {
    fn origin(&self, key: impl Into<String>) -> Origin {
        Origin::File {
            file: self.name.clone(),
            key: key.into(),
        }
    }

    fn error(&self, key: &str, message: String) -> ConfigError {
        ConfigError::new(self.origin(key).to_string(), message)
    }

    /// Parses a value with `parse`, naming the key in its error.
    fn parse<T, U>(
        &self,
        key: &str,
        value: Option<T>,
        parse: impl FnOnce(T) -> Result<U, String>,
    ) -> Result<Option<Setting<U>>, ConfigError> {
        value
            .map(|value| {
                parse(value)
                    .map(|parsed| Setting::new(parsed, self.origin(key)))
                    .map_err(|message| self.error(key, message))
            })
            .transpose()
    }

    fn path(
        &self,
        key: &str,
        value: Option<String>,
    ) -> Result<Option<Setting<PathBuf>>, ConfigError> {
        self.parse(key, value, |text| self.resolve(&text))
    }

    fn resolve(&self, text: &str) -> Result<PathBuf, String> {
        if text.is_empty() {
            return Err("must not be empty".to_owned());
        }
        Ok(self.base.join(text))
    }

    fn settings(&self, raw: RawConfig) -> Result<Settings, ConfigError> {
        let data = raw.data.unwrap_or_default();
        let gossip = raw.gossip.unwrap_or_default();
        let peer_tls = gossip.tls.unwrap_or_default();
        let log = raw.log.unwrap_or_default();
        let schema = self.parse("data.schema", data.schema, |paths| {
            paths.iter().map(|path| self.resolve(path)).collect()
        })?;
        let bootstrap = self.parse("gossip.bootstrap", gossip.bootstrap, |addrs| {
            addrs.iter().map(|addr| parse_addr(addr)).collect()
        })?;
        let pg = raw
            .pg
            .into_iter()
            .enumerate()
            .map(|(i, listener)| self.listener(i, listener))
            .collect::<Result<_, _>>()?;
        Ok(Settings {
            data_dir: self.path("data.dir", data.dir)?,
            schema,
            durability: self.parse("data.durability", data.durability, |text| {
                parse_durability(&text)
            })?,
            gossip_addr: self.parse("gossip.addr", gossip.addr, |text| parse_addr(&text))?,
            external_addr: self.parse("gossip.external_addr", gossip.external_addr, |text| {
                parse_addr(&text)
            })?,
            bootstrap,
            peer_ca: self.path("gossip.tls.ca", peer_tls.ca)?,
            peer_cert: self.path("gossip.tls.cert", peer_tls.cert)?,
            peer_key: self.path("gossip.tls.key", peer_tls.key)?,
            peer_insecure: self.parse("gossip.tls.insecure", peer_tls.insecure, Ok)?,
            pg,
            first_pg: ListenerSettings::default(),
            metrics_addr: self.parse(
                "metrics.addr",
                raw.metrics.and_then(|metrics| metrics.addr),
                |text| parse_addr(&text),
            )?,
            log_level: self.parse("log.level", log.level, Ok)?,
            log_format: self.parse("log.format", log.format, |text| LogFormat::parse(&text))?,
        })
    }

    fn listener(&self, i: usize, raw: RawListener) -> Result<ListenerSettings, ConfigError> {
        let key = |name: &str| format!("pg[{i}].{name}");
        let (tls_cert, tls_key) = match raw.tls {
            Some(tls) => (
                self.path(&key("tls.cert"), Some(tls.cert))?,
                self.path(&key("tls.key"), Some(tls.key))?,
            ),
            None => (None, None),
        };
        let users = raw
            .users
            .into_iter()
            .enumerate()
            .map(|(j, user)| UserSetting {
                name: user.name,
                password: Setting::new(
                    user.password,
                    self.origin(key(&format!("users[{j}].password"))),
                ),
            })
            .collect();
        // Only the first listener may leave its address to --pg-addr or
        // the default.
        if i > 0 && raw.addr.is_none() {
            return Err(self.error(&key("addr"), "must be set".to_owned()));
        }
        Ok(ListenerSettings {
            addr: self.parse(&key("addr"), raw.addr, |text| parse_addr(&text))?,
            auth: self.parse(&key("auth"), raw.auth, |text| parse_auth(&text))?,
            users,
            tls_cert,
            tls_key,
            read_only: self.parse(&key("read_only"), raw.read_only, Ok)?,
            max_connections: self.parse(
                &key("max_connections"),
                raw.max_connections,
                parse_max_connections,
            )?,
        })
    }
}

/// Only the address of the first `[[pg]]` listener, for `patina exec` and
/// `patina query`; the rest of the file is not checked.
pub fn first_pg_addr(path: &Path) -> Result<Option<std::net::SocketAddr>, ConfigError> {
    #[derive(Deserialize)]
    struct Partial {
        #[serde(default)]
        pg: Vec<PartialListener>,
    }
    #[derive(Deserialize)]
    struct PartialListener {
        addr: Option<String>,
    }
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigError::new(&name, format!("cannot read the config file: {error}"))
    })?;
    let partial: Partial =
        toml::from_str(&text).map_err(|error| ConfigError::new(&name, describe(&text, &error)))?;
    partial
        .pg
        .into_iter()
        .next()
        .and_then(|listener| listener.addr)
        .map(|addr| {
            parse_addr(&addr)
                .map_err(|message| ConfigError::new(format!("{name}: pg[0].addr"), message))
        })
        .transpose()
}
