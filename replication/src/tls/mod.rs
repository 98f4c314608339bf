//! Peer TLS: the rustls and quinn configurations a node's QUIC endpoint
//! uses, both as a server (peers connecting to it) and as a client (it
//! connecting to peers).
//!
//! # Modes
//! - [`PeerTls::Mutual`]: every node holds a certificate signed by the
//!   cluster CA. The server requires a client certificate and both sides
//!   verify the other's chain against the CA.
//! - [`PeerTls::Insecure`]: a self-signed certificate made at start, no
//!   client certificate, and a client that accepts any server certificate
//!   (it still checks the handshake signatures, so the connection is
//!   encrypted, but anyone can join or impersonate a peer).
//!
//! # Who is a peer (server-name policy)
//! Peers are addressed by IP, and those addresses move (containers,
//! NAT, `0.0.0.0` binds, nodes re-added on new hosts), so certificates are
//! not tied to addresses. Instead every peer certificate carries the fixed
//! DNS name [`PEER_NAME`] (`patina-peer`), and a peer is whoever presents
//! a certificate that chains to the cluster CA **and** names
//! `patina-peer`. The client connects with `patina-peer` as the server
//! name, so rustls checks the name on the server's certificate; the
//! server checks the same name on client certificates. Requiring the name
//! keeps other certificates a shared CA may have issued (web servers,
//! users) from being taken for peers. Every peer is trusted alike: any
//! node may write any row, so a certificate naming one node's IP would add
//! nothing a cluster member could not already do. [`generate::signed`]
//! always includes the name; certificates from another PKI must carry
//! `DNS:patina-peer` in their subject alternative names.

pub mod generate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn::{AckFrequencyConfig, IdleTimeout, TransportConfig, VarInt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore};

pub use generate::GenerateError;

/// The ALPN protocol peers speak.
pub const ALPN: &[u8] = b"patina/1";

/// The DNS name every peer certificate carries and every peer verifies
/// (see the module doc).
pub const PEER_NAME: &str = "patina-peer";

/// QUIC idle timeout (the effective one is the smaller of both sides').
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alive interval, well below the idle timeout.
pub const KEEP_ALIVE: Duration = Duration::from_secs(3);
/// Unidirectional streams a peer may have open at once: the one its
/// messages travel on (see `transport::peer`), a replacement while a
/// failed one is being reset, and liveness probes. quinn allocates the
/// state of every stream a peer may open when the connection opens (with
/// 1024, about 100 KB per connection), so the limits are what the protocol
/// uses plus headroom; a peer beyond them waits for a stream to end, it is
/// not refused.
pub const MAX_UNI_STREAMS: u32 = 16;
/// Bidirectional streams a peer may have open at once: one per sync
/// session, and a node opens at most one session per peer at a time (one
/// that timed out may still be ending).
pub const MAX_BI_STREAMS: u32 = 8;
/// Bytes a peer may send on one stream ahead of our reading.
pub const STREAM_RECEIVE_WINDOW: u32 = 2 * 1024 * 1024;
/// Bytes a peer may send on one connection ahead of our reading.
pub const CONNECTION_RECEIVE_WINDOW: u32 = 8 * 1024 * 1024;
/// Bytes of unacknowledged data we keep in flight to one peer.
const SEND_WINDOW: u64 = 8 * 1024 * 1024;
/// Received datagrams buffered before the oldest are dropped.
const DATAGRAM_BUFFER: usize = 1024 * 1024;

/// How this node authenticates its peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerTls {
    /// No authentication: a fresh self-signed certificate, accepted by
    /// anyone; peers accept any certificate. For trusted networks and tests.
    Insecure,
    /// Mutual TLS against a cluster CA (PEM files).
    Mutual {
        /// The CA certificate(s) peers' certificates must chain to.
        ca: PathBuf,
        /// This node's certificate, optionally followed by intermediates.
        cert: PathBuf,
        /// This node's private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a valid PEM file: {reason}", path.display())]
    BadPem { path: PathBuf, reason: String },
    #[error("{}: no certificate in PEM", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: no private key in PEM", path.display())]
    NoKey { path: PathBuf },
    #[error("{}: not a usable CA certificate: {reason}", path.display())]
    BadCa { path: PathBuf, reason: String },
    #[error("{}: bad private key for {}: {reason}", path.display(), cert.display())]
    BadKey {
        path: PathBuf,
        cert: PathBuf,
        reason: String,
    },
    #[error(
        "{}: not a valid peer certificate under the CA {}: {reason} \
         (it must chain to the CA and name {PEER_NAME})",
        cert.display(),
        ca.display()
    )]
    NotTrusted {
        cert: PathBuf,
        ca: PathBuf,
        reason: String,
    },
    #[error("generating the insecure mode's self-signed certificate: {0}")]
    Generate(#[from] GenerateError),
    #[error("building the TLS configuration: {0}")]
    Config(String),
}

/// The endpoint configurations for one [`PeerTls`].
pub struct QuicConfigs {
    /// For connections peers open to us.
    pub server: quinn::ServerConfig,
    /// For connections we open to peers (server name [`PEER_NAME`]).
    pub client: quinn::ClientConfig,
    /// Whether peers are authenticated (false in insecure mode).
    pub authenticated: bool,
}

impl fmt::Debug for QuicConfigs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuicConfigs")
            .field("authenticated", &self.authenticated)
            .finish_non_exhaustive()
    }
}

impl PeerTls {
    /// Reads the PEM files (or makes the self-signed certificate) and
    /// builds both configurations with the *ring* provider (no global
    /// provider is needed or installed).
    pub fn quic_configs(&self) -> Result<QuicConfigs, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (server, client, authenticated) = match self {
            PeerTls::Insecure => {
                let (server, client) = insecure(&provider)?;
                (server, client, false)
            }
            PeerTls::Mutual { ca, cert, key } => {
                let (server, client) = mutual(&provider, ca, cert, key)?;
                (server, client, true)
            }
        };
        let transport = Arc::new(transport_config());

        let server = QuicServerConfig::try_from(server).map_err(config_error)?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(server));
        server.transport_config(transport.clone());

        let client = QuicClientConfig::try_from(client).map_err(config_error)?;
        let mut client = quinn::ClientConfig::new(Arc::new(client));
        client.transport_config(transport);

        Ok(QuicConfigs {
            server,
            client,
            authenticated,
        })
    }
}

/// The QUIC transport parameters both sides use.
pub fn transport_config() -> TransportConfig {
    let mut config = TransportConfig::default();
    config
        .max_idle_timeout(Some(IdleTimeout::from(VarInt::from_u32(
            IDLE_TIMEOUT.as_millis() as u32,
        ))))
        .keep_alive_interval(Some(KEEP_ALIVE))
        .max_concurrent_uni_streams(VarInt::from_u32(MAX_UNI_STREAMS))
        .max_concurrent_bidi_streams(VarInt::from_u32(MAX_BI_STREAMS))
        .stream_receive_window(VarInt::from_u32(STREAM_RECEIVE_WINDOW))
        .receive_window(VarInt::from_u32(CONNECTION_RECEIVE_WINDOW))
        .send_window(SEND_WINDOW)
        .datagram_receive_buffer_size(Some(DATAGRAM_BUFFER))
        .datagram_send_buffer_size(DATAGRAM_BUFFER);
    // Ask peers to acknowledge every packet at once instead of after up
    // to 25 ms (QUIC's default for a lone packet): a broadcast is one
    // packet per member, rarely followed by another on the same connection
    // within 25 ms, so its ACK goes alone either way; at once, it leaves in
    // the same wake-up that took the packet in, not in a timer wake-up of
    // its own (30 idle nodes on 2 cores: 0.5–0.7% of a core per node
    // instead of 0.9–1.0%). Both sides speak the ack-frequency extension
    // (quinn).
    let mut acks = AckFrequencyConfig::default();
    acks.ack_eliciting_threshold(VarInt::from_u32(0));
    config.ack_frequency_config(Some(acks));
    config
}

fn config_error(error: impl fmt::Display) -> TlsError {
    TlsError::Config(error.to_string())
}

type RustlsConfigs = (rustls::ServerConfig, rustls::ClientConfig);

fn insecure(provider: &Arc<CryptoProvider>) -> Result<RustlsConfigs, TlsError> {
    let (cert, key) = generate::self_signed()?;
    let cert = CertificateDer::from(cert);
    let key = PrivateKeyDer::try_from(key).map_err(config_error)?;

    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(config_error)?;
    server.alpn_protocols = vec![ALPN.to_vec()];

    let verifier = AnyServerCert {
        algorithms: provider.signature_verification_algorithms,
    };
    let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(config_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    client.alpn_protocols = vec![ALPN.to_vec()];
    Ok((server, client))
}

fn mutual(
    provider: &Arc<CryptoProvider>,
    ca_path: &Path,
    cert_path: &Path,
    key_path: &Path,
) -> Result<RustlsConfigs, TlsError> {
    let roots = Arc::new(read_roots(ca_path)?);
    let chain = read_certs(cert_path)?;
    let key = read_key(key_path)?;
    let bad_key = |error: rustls::Error| TlsError::BadKey {
        path: key_path.to_path_buf(),
        cert: cert_path.to_path_buf(),
        reason: error.to_string(),
    };
    // Checks the key is usable and belongs to the certificate.
    CertifiedKey::from_der(chain.clone(), key.clone_key(), provider).map_err(bad_key)?;

    let server_verifier =
        WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|error| TlsError::BadCa {
                path: ca_path.to_path_buf(),
                reason: error.to_string(),
            })?;
    // Our own certificate must pass what peers will check, or the cluster
    // would refuse us with a far less helpful error.
    if let Some((end_entity, intermediates)) = chain.split_first() {
        server_verifier
            .verify_server_cert(
                end_entity,
                intermediates,
                &peer_name(),
                &[],
                UnixTime::now(),
            )
            .map_err(|error| TlsError::NotTrusted {
                cert: cert_path.to_path_buf(),
                ca: ca_path.to_path_buf(),
                reason: error.to_string(),
            })?;
    }

    let client_verifier = WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|error| TlsError::BadCa {
            path: ca_path.to_path_buf(),
            reason: error.to_string(),
        })?;
    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(config_error)?
        .with_client_cert_verifier(Arc::new(PeerClientVerifier {
            inner: client_verifier,
        }))
        .with_single_cert(chain.clone(), key.clone_key())
        .map_err(bad_key)?;
    server.alpn_protocols = vec![ALPN.to_vec()];

    let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(config_error)?
        .with_webpki_verifier(server_verifier)
        .with_client_auth_cert(chain, key)
        .map_err(bad_key)?;
    client.alpn_protocols = vec![ALPN.to_vec()];
    Ok((server, client))
}

fn peer_name() -> ServerName<'static> {
    ServerName::DnsName(
        rustls::pki_types::DnsName::try_from(PEER_NAME)
            .unwrap_or_else(|_| unreachable!("{PEER_NAME} is a valid DNS name")),
    )
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_file(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::BadPem {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

fn read_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(path)? {
        roots.add(cert).map_err(|error| TlsError::BadCa {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
    }
    Ok(roots)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_file(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| match error {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey {
            path: path.to_path_buf(),
        },
        error => TlsError::BadPem {
            path: path.to_path_buf(),
            reason: error.to_string(),
        },
    })
}

/// Client certificates must chain to the CA (the webpki verifier) and name
/// [`PEER_NAME`], as server certificates must.
#[derive(Debug)]
struct PeerClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for PeerClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let parsed = ParsedCertificate::try_from(end_entity)?;
        verify_server_name(&parsed, &peer_name())
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::NotValidForName))?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Insecure mode's client verifier: any server certificate is accepted,
/// but the handshake signatures are still checked against it, so the
/// session keys belong to whoever holds that certificate's key.
#[derive(Debug)]
struct AnyServerCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("writes");
        path
    }

    fn mutual_in(dir: &Path, ca: &str, cert: &str, key: &str) -> PeerTls {
        PeerTls::Mutual {
            ca: write(dir, "ca.pem", ca),
            cert: write(dir, "cert.pem", cert),
            key: write(dir, "key.pem", key),
        }
    }

    /// See `transport_config`: peers acknowledge every packet at once.
    #[test]
    fn peers_are_asked_to_acknowledge_at_once() {
        let config = format!("{:?}", transport_config());
        assert!(config.contains("ack_eliciting_threshold: 0,"), "{config}");
    }

    #[test]
    fn insecure_builds() {
        let configs = PeerTls::Insecure.quic_configs().expect("builds");
        assert!(!configs.authenticated);
    }

    #[test]
    fn generated_certificates_build_a_mutual_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca, ca_key) = generate::ca().expect("ca");
        let (cert, key) =
            generate::signed(&ca, &ca_key, &["127.0.0.1".into(), "db1.example".into()])
                .expect("signed");
        let configs = mutual_in(dir.path(), &ca, &cert, &key)
            .quic_configs()
            .expect("builds");
        assert!(configs.authenticated);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca, ca_key) = generate::ca().expect("ca");
        let (cert, key) = generate::signed(&ca, &ca_key, &[]).expect("signed");

        let missing = PeerTls::Mutual {
            ca: dir.path().join("nope.pem"),
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        };
        let error = missing.quic_configs().expect_err("missing file");
        assert!(matches!(error, TlsError::Read { .. }), "{error}");
        assert!(error.to_string().contains("nope.pem"), "{error}");

        let error = mutual_in(dir.path(), &ca, "", &key)
            .quic_configs()
            .expect_err("no certificate");
        assert!(matches!(error, TlsError::NoCertificate { .. }), "{error}");
        assert!(error.to_string().contains("cert.pem"), "{error}");

        let error = mutual_in(dir.path(), &ca, &cert, &cert)
            .quic_configs()
            .expect_err("no key");
        assert!(matches!(error, TlsError::NoKey { .. }), "{error}");
        assert!(error.to_string().contains("key.pem"), "{error}");

        let (_, other_key) = generate::signed(&ca, &ca_key, &[]).expect("signed");
        let error = mutual_in(dir.path(), &ca, &cert, &other_key)
            .quic_configs()
            .expect_err("key of another certificate");
        assert!(matches!(error, TlsError::BadKey { .. }), "{error}");
        assert!(error.to_string().contains("key.pem"), "{error}");

        let (other_ca, _) = generate::ca().expect("ca");
        let error = mutual_in(dir.path(), &other_ca, &cert, &key)
            .quic_configs()
            .expect_err("certificate of another CA");
        assert!(matches!(error, TlsError::NotTrusted { .. }), "{error}");
    }

    #[test]
    fn signed_rejects_bad_names_and_bad_ca() {
        let (ca, ca_key) = generate::ca().expect("ca");
        let error = generate::signed(&ca, &ca_key, &["not a name!".into()]).expect_err("bad name");
        assert!(matches!(error, GenerateError::BadName { .. }), "{error}");
        let error = generate::signed("garbage", &ca_key, &[]).expect_err("bad ca");
        assert!(
            matches!(error, GenerateError::BadCaCertificate(_)),
            "{error}"
        );
        let error = generate::signed(&ca, "garbage", &[]).expect_err("bad key");
        assert!(matches!(error, GenerateError::BadCaKey(_)), "{error}");
    }
}
