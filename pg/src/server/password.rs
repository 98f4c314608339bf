//! Stored password verifiers, in the text form PostgreSQL keeps in
//! `pg_authid.rolpassword`, and the SCRAM-SHA-256 and MD5 computations
//! over them (RFC 5802 and 7677; PostgreSQL's `md5` + md5(password ||
//! user)).

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::{digest, hmac, pbkdf2};

/// Iterations of a new SCRAM verifier (PostgreSQL's `scram_iterations`
/// default).
const SCRAM_ITERATIONS: u32 = 4096;
/// Bytes of a new SCRAM salt (PostgreSQL's `SCRAM_DEFAULT_SALT_LEN`).
const SCRAM_SALT_LEN: usize = 16;
const KEY_LEN: usize = digest::SHA256_OUTPUT_LEN;

/// A stored password verifier as PostgreSQL keeps it in
/// `pg_authid.rolpassword`:
/// `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>`
/// or `md5<32 hex>`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(Verifier);

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Verifier {
    Scram(ScramSecret),
    /// The 32 hex digits of md5(password || user).
    Md5(String),
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ScramSecret {
    pub iterations: NonZeroU32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; KEY_LEN],
    pub server_key: [u8; KEY_LEN],
}

/// What is wrong with a stored verifier's text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordHashError {
    #[error("a password verifier starts with \"SCRAM-SHA-256$\" or \"md5\"")]
    UnknownKind,
    #[error("an md5 verifier is \"md5\" and 32 hexadecimal digits")]
    BadMd5,
    #[error("a SCRAM verifier is \"SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>\"")]
    BadScramShape,
    #[error("the SCRAM iteration count must be a positive number")]
    BadIterations,
    #[error("the SCRAM {0} is not valid base64")]
    BadBase64(&'static str),
    #[error("the SCRAM {0} must be 32 bytes")]
    BadKeyLength(&'static str),
}

impl PasswordHash {
    /// A SCRAM-SHA-256 verifier of `password`, with a random salt and 4096
    /// iterations (what PostgreSQL stores with
    /// `password_encryption = scram-sha-256`).
    pub fn scram(password: &str) -> PasswordHash {
        let mut salt = vec![0; SCRAM_SALT_LEN];
        fill_random(&mut salt);
        let iterations = default_iterations();
        let salted = salted_password(password, &salt, iterations);
        PasswordHash(Verifier::Scram(ScramSecret {
            iterations,
            stored_key: digest_of(&hmac_of(&salted, b"Client Key")),
            server_key: hmac_of(&salted, b"Server Key"),
            salt,
        }))
    }

    /// An MD5 verifier of `password` for `user` (what PostgreSQL stores
    /// with `password_encryption = md5`).
    pub fn md5(user: &str, password: &str) -> PasswordHash {
        let mut input = password.as_bytes().to_vec();
        input.extend_from_slice(user.as_bytes());
        PasswordHash(Verifier::Md5(format!("{:x}", md5::compute(input))))
    }

    pub(crate) fn verifier(&self) -> &Verifier {
        &self.0
    }
}

impl FromStr for PasswordHash {
    type Err = PasswordHashError;

    fn from_str(text: &str) -> Result<PasswordHash, PasswordHashError> {
        if let Some(hex) = text.strip_prefix("md5") {
            if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(PasswordHashError::BadMd5);
            }
            return Ok(PasswordHash(Verifier::Md5(hex.to_ascii_lowercase())));
        }
        let rest = text
            .strip_prefix("SCRAM-SHA-256$")
            .ok_or(PasswordHashError::UnknownKind)?;
        let (params, keys) = rest
            .split_once('$')
            .ok_or(PasswordHashError::BadScramShape)?;
        let (iterations, salt) = params
            .split_once(':')
            .ok_or(PasswordHashError::BadScramShape)?;
        let (stored_key, server_key) = keys
            .split_once(':')
            .ok_or(PasswordHashError::BadScramShape)?;
        let iterations = iterations
            .parse::<NonZeroU32>()
            .map_err(|_| PasswordHashError::BadIterations)?;
        let salt = BASE64
            .decode(salt)
            .map_err(|_| PasswordHashError::BadBase64("salt"))?;
        Ok(PasswordHash(Verifier::Scram(ScramSecret {
            iterations,
            salt,
            stored_key: key(stored_key, "StoredKey")?,
            server_key: key(server_key, "ServerKey")?,
        })))
    }
}

fn key(text: &str, what: &'static str) -> Result<[u8; KEY_LEN], PasswordHashError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| PasswordHashError::BadBase64(what))?;
    bytes
        .try_into()
        .map_err(|_| PasswordHashError::BadKeyLength(what))
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Verifier::Md5(hex) => write!(f, "md5{hex}"),
            Verifier::Scram(secret) => write!(
                f,
                "SCRAM-SHA-256${}:{}${}:{}",
                secret.iterations,
                BASE64.encode(&secret.salt),
                BASE64.encode(secret.stored_key),
                BASE64.encode(secret.server_key)
            ),
        }
    }
}

/// Shows the kind of verifier only: even a verifier is not for logs.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0 {
            Verifier::Md5(_) => "md5",
            Verifier::Scram(_) => "SCRAM-SHA-256",
        };
        write!(f, "PasswordHash({kind})")
    }
}

/// SaltedPassword := Hi(Normalize(password), salt, i). A password that
/// SASLprep rejects is used as it is, as PostgreSQL does.
fn salted_password(password: &str, salt: &[u8], iterations: NonZeroU32) -> [u8; KEY_LEN] {
    let prepared = stringprep::saslprep(password);
    let password = prepared.as_deref().unwrap_or(password);
    let mut out = [0; KEY_LEN];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        &mut out,
    );
    out
}

/// The iteration count of new SCRAM verifiers.
pub(crate) fn default_iterations() -> NonZeroU32 {
    NonZeroU32::new(SCRAM_ITERATIONS).unwrap_or(NonZeroU32::MIN)
}

pub(crate) fn hmac_of(key: &[u8], data: &[u8]) -> [u8; KEY_LEN] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut out = [0; KEY_LEN];
    out.copy_from_slice(hmac::sign(&key, data).as_ref());
    out
}

pub(crate) fn digest_of(data: &[u8]) -> [u8; KEY_LEN] {
    let mut out = [0; KEY_LEN];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

/// Fills `out` from the operating system's random number generator.
pub(crate) fn fill_random(out: &mut [u8]) {
    use ring::rand::SecureRandom;
    ring::rand::SystemRandom::new()
        .fill(out)
        .expect("the operating system's random number generator failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_postgres() {
        // SELECT 'md5' || md5('secret' || 'alice');
        assert_eq!(
            PasswordHash::md5("alice", "secret").to_string(),
            "md54a0a68b43b6cd5cf266fa02f196e2371"
        );
    }

    #[test]
    fn scram_verifier_round_trips_and_checks_the_password() {
        let hash = PasswordHash::scram("pencil");
        let text = hash.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"), "{text}");
        let parsed: PasswordHash = text.parse().unwrap();
        assert_eq!(parsed, hash);
        let Verifier::Scram(secret) = parsed.verifier() else {
            panic!("not scram")
        };
        let salted = salted_password("pencil", &secret.salt, secret.iterations);
        assert_eq!(
            digest_of(&hmac_of(&salted, b"Client Key")),
            secret.stored_key
        );
    }

    #[test]
    fn verifier_made_by_postgres_parses() {
        // SET password_encryption = 'scram-sha-256'; CREATE ROLE r PASSWORD
        // 'pencil' in PostgreSQL 15, then
        // SELECT rolpassword FROM pg_authid WHERE rolname = 'r';
        let text = "SCRAM-SHA-256$4096:jumuVWL91w9AKZBmOxdAiQ==$/mYJrETY/ehnePYdazpm++bc2DLZySuCNadsTKep84o=:Xm50uwfUUiZr2ydFSQtOkiMpV61Mxjc7yOCJRXvIqKQ=";
        let hash: PasswordHash = text.parse().unwrap();
        assert_eq!(hash.to_string(), text);
        let Verifier::Scram(secret) = hash.verifier() else {
            panic!("not scram")
        };
        let salted = salted_password("pencil", &secret.salt, secret.iterations);
        assert_eq!(
            digest_of(&hmac_of(&salted, b"Client Key")),
            secret.stored_key
        );
    }

    #[test]
    fn bad_verifiers_say_what_is_wrong() {
        let err = |text: &str| text.parse::<PasswordHash>().unwrap_err();
        assert_eq!(err("plain"), PasswordHashError::UnknownKind);
        assert_eq!(err("md5abc"), PasswordHashError::BadMd5);
        assert_eq!(err("SCRAM-SHA-256$4096"), PasswordHashError::BadScramShape);
        assert_eq!(
            err("SCRAM-SHA-256$0:AAAA$AAAA:AAAA"),
            PasswordHashError::BadIterations
        );
        assert_eq!(
            err("SCRAM-SHA-256$4096:!!$AAAA:AAAA"),
            PasswordHashError::BadBase64("salt")
        );
        assert_eq!(
            err("SCRAM-SHA-256$4096:AAAA$AAAA:AAAA"),
            PasswordHashError::BadKeyLength("StoredKey")
        );
    }
}
