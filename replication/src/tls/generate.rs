//! Certificates for a cluster, made with rcgen: a CA, and peer
//! certificates signed by it. Used by the tests and by `patina tls`.
//!
//! Every peer certificate carries the DNS name [`PEER_NAME`] (the name
//! peers verify, see [`crate::tls`]) besides the names asked for, and is
//! usable for both server and client authentication, since every node
//! both accepts and opens connections.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};

use rustls::pki_types::DnsName;

use super::PEER_NAME;

/// How many years a generated CA stays valid.
pub const CA_YEARS: i32 = 10;
/// How many years a generated peer certificate stays valid.
pub const PEER_YEARS: i32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the CA certificate is not a PEM certificate rcgen can read: {0}")]
    BadCaCertificate(#[source] rcgen::Error),
    #[error("the CA key is not a PEM private key rcgen can read: {0}")]
    BadCaKey(#[source] rcgen::Error),
    #[error("{name:?} is neither an IP address nor a valid DNS name")]
    BadName { name: String },
    #[error("generating a certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// A new cluster CA: `(certificate PEM, private key PEM)`.
pub fn ca() -> Result<(String, String), GenerateError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.remove(DnType::CommonName);
    // A name of its own, so two clusters' CAs are told apart in errors.
    let id: String = key
        .public_key_raw()
        .iter()
        .skip(1)
        .take(4)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    params
        .distinguished_name
        .push(DnType::CommonName, format!("patina cluster CA {id}"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, CA_YEARS);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A new peer certificate signed by the CA, valid for `names` (IP
/// addresses or DNS names) and for [`PEER_NAME`]: `(certificate PEM,
/// private key PEM)`.
pub fn signed(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    names: &[String],
) -> Result<(String, String), GenerateError> {
    let ca_key = KeyPair::from_pem(ca_key_pem).map_err(GenerateError::BadCaKey)?;
    let issuer =
        Issuer::from_ca_cert_pem(ca_cert_pem, ca_key).map_err(GenerateError::BadCaCertificate)?;

    let mut all_names = Vec::with_capacity(names.len() + 1);
    all_names.push(PEER_NAME.to_string());
    for name in names {
        let is_ip = name.parse::<IpAddr>().is_ok();
        if !is_ip && DnsName::try_from(name.as_str()).is_err() {
            return Err(GenerateError::BadName { name: name.clone() });
        }
        if !all_names.contains(name) {
            all_names.push(name.clone());
        }
    }
    let mut params = CertificateParams::new(all_names)?;
    params.distinguished_name.remove(DnType::CommonName);
    let common_name = names.first().map_or(PEER_NAME, String::as_str);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, PEER_YEARS);

    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A new client certificate signed by the CA, for a client (a PostgreSQL
/// user, a tool) that authenticates with a certificate: its common name is
/// `name`, it is usable for client authentication only, and it carries no
/// [`PEER_NAME`], so it cannot pass for a peer: `(certificate PEM, private
/// key PEM)`.
pub fn client(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    name: &str,
) -> Result<(String, String), GenerateError> {
    let ca_key = KeyPair::from_pem(ca_key_pem).map_err(GenerateError::BadCaKey)?;
    let issuer =
        Issuer::from_ca_cert_pem(ca_cert_pem, ca_key).map_err(GenerateError::BadCaCertificate)?;
    if name.is_empty() {
        return Err(GenerateError::BadName {
            name: name.to_owned(),
        });
    }
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.remove(DnType::CommonName);
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, PEER_YEARS);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A self-signed certificate for [`PEER_NAME`], made fresh at every start
/// in insecure mode: `(certificate DER, private key DER)`.
pub(crate) fn self_signed() -> Result<(Vec<u8>, Vec<u8>), GenerateError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![PEER_NAME.to_string()])?;
    set_validity(&mut params, 1);
    let cert = params.self_signed(&key)?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

/// Valid from the start of last year (so a clock slightly behind, or the
/// first hours of a new year, do not make a fresh certificate "not yet
/// valid") until `years` after this year.
fn set_validity(params: &mut CertificateParams, years: i32) {
    let year = current_year();
    params.not_before = date_time_ymd(year - 1, 1, 1);
    params.not_after = date_time_ymd(year + years, 1, 1);
}

fn current_year() -> i32 {
    const SECONDS_PER_YEAR: u64 = 31_556_952; // 365.2425 days
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    1970 + i32::try_from(seconds / SECONDS_PER_YEAR).unwrap_or(0)
}
