//! Throwaway certificate authorities and node certificates for the mutual
//! TLS between peers (`--peer-ca`, `--peer-cert`, `--peer-key`), made with
//! the node's own generator (`patina_replication::tls::generate`), so every
//! certificate carries the name peers verify (`patina-peer`).

use std::path::{Path, PathBuf};

use patina_replication::tls::generate;

/// A certificate authority of one test: its certificate and key (PEM).
#[derive(Clone)]
pub struct TestCa {
    cert_pem: String,
    key_pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// The three files one node is given: `--peer-ca`, `--peer-cert`,
/// `--peer-key`.
#[derive(Debug, Clone)]
pub struct PeerTlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl PeerTlsFiles {
    /// The agent's arguments naming these files.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--peer-ca".to_owned(),
            self.ca.display().to_string(),
            "--peer-cert".to_owned(),
            self.cert.display().to_string(),
            "--peer-key".to_owned(),
            self.key.display().to_string(),
        ]
    }
}

impl Default for TestCa {
    fn default() -> TestCa {
        TestCa::new()
    }
}

impl TestCa {
    /// A new self-signed CA (every one is named "patina cluster CA": two
    /// of them differ only by their keys).
    pub fn new() -> TestCa {
        let (cert_pem, key_pem) = generate::ca().expect("a CA certificate");
        TestCa { cert_pem, key_pem }
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA key, PEM.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A peer certificate for `names` (DNS names or IP addresses, besides
    /// `patina-peer`) signed by this CA: `(cert_pem, key_pem)`.
    pub fn issue(&self, names: &[String]) -> (String, String) {
        generate::signed(&self.cert_pem, &self.key_pem, names)
            .unwrap_or_else(|e| panic!("a peer certificate for {names:?}: {e}"))
    }

    /// Writes the CA certificate and a new node certificate for `names`
    /// into `dir` as `<stem>-ca.pem`, `<stem>-cert.pem`, `<stem>-key.pem`.
    pub fn write_node_files(&self, dir: &Path, stem: &str, names: &[String]) -> PeerTlsFiles {
        let (cert, key) = self.issue(names);
        let files = PeerTlsFiles {
            ca: dir.join(format!("{stem}-ca.pem")),
            cert: dir.join(format!("{stem}-cert.pem")),
            key: dir.join(format!("{stem}-key.pem")),
        };
        for (path, text) in [
            (&files.ca, self.cert_pem.as_str()),
            (&files.cert, cert.as_str()),
            (&files.key, key.as_str()),
        ] {
            std::fs::write(path, text)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
        files
    }
}
