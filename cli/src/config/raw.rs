//! The config file as written: TOML read by serde into plain types, every
//! key optional and unknown keys refused. Nothing here is checked beyond
//! the TOML types; [`super::file`] turns it into typed settings.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub data: Option<RawData>,
    pub gossip: Option<RawGossip>,
    #[serde(default)]
    pub pg: Vec<RawListener>,
    pub metrics: Option<RawMetrics>,
    pub log: Option<RawLog>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    pub dir: Option<String>,
    pub schema: Option<Vec<String>>,
    pub durability: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGossip {
    pub addr: Option<String>,
    pub external_addr: Option<String>,
    pub bootstrap: Option<Vec<String>>,
    pub tls: Option<RawPeerTls>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPeerTls {
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub insecure: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListener {
    pub addr: Option<String>,
    pub auth: Option<String>,
    #[serde(default)]
    pub users: Vec<RawUser>,
    pub tls: Option<RawListenerTls>,
    pub read_only: Option<bool>,
    pub max_connections: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    pub name: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListenerTls {
    pub cert: String,
    pub key: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub addr: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
    pub format: Option<String>,
}
