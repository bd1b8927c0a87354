//! Ingress TLS: the listener's settings ([`TlsOptions`], mongod's flags), the loaded server
//! configuration ([`IngressTls`]), and [`IngressTls::negotiate`], which a session runs in its own task
//! before its first message: sniff the first bytes, refuse or keep a plain client as the mode says, or
//! run the TLS handshake, all within the handshake timeout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::detect::{Rewind, looks_like_tls, read_prefix};
use super::mode::TlsMode;
use super::{files, provider, tls_version};

/// How long a new connection may take to send its first bytes and finish the TLS handshake (drivers
/// give up connecting after 20 s by default: connectTimeoutMS).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// mongod's TLS flags for a listener. The default is `--tlsMode disabled`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsOptions {
    /// `--tlsMode`.
    pub mode: TlsMode,
    /// `--tlsCertificateKeyFile`: the server's certificate chain and private key in one PEM file.
    pub certificate_key_file: Option<PathBuf>,
    /// `--tlsCAFile`: when given, clients are asked for a certificate, verified against these CAs.
    pub ca_file: Option<PathBuf>,
    /// `--tlsAllowConnectionsWithoutCertificates`: with a CA file, a client may still present none.
    pub allow_connections_without_certificates: bool,
    /// How long the first bytes and the handshake may take.
    pub handshake_timeout: Duration,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            mode: TlsMode::Disabled,
            certificate_key_file: None,
            ca_file: None,
            allow_connections_without_certificates: false,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

/// What a TLS session negotiated (for logs and serverStatus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// The protocol version as mongod names it in serverStatus.transportSecurity (`1.2`, `1.3`).
    pub version: &'static str,
    /// Whether the client presented a (verified) certificate.
    pub client_certificate: bool,
}

/// A listener's loaded TLS configuration.
pub struct IngressTls {
    mode: TlsMode,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for IngressTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngressTls").field("mode", &self.mode).finish()
    }
}

/// A new connection once TLS was settled.
pub(crate) enum Negotiated<S> {
    /// A plain client; `prefix` holds the bytes read to tell, which come first.
    Plain {
        /// The connection.
        stream: S,
        /// Bytes already read from it.
        prefix: Vec<u8>,
    },
    /// A client that finished the TLS handshake.
    Tls {
        /// The encrypted stream.
        stream: Box<TlsStream<Rewind<S>>>,
        /// What was negotiated.
        info: TlsInfo,
    },
}

fn invalid(what: &str) -> Status {
    Status::new(ErrorCode::InvalidSSLConfiguration, what.to_owned())
}

impl IngressTls {
    /// Loads the certificate, key and CA files; `None` when the mode is disabled. mongod refuses to
    /// start with TLS on and no certificate, and so does this (InvalidSSLConfiguration).
    pub fn load(options: &TlsOptions) -> StatusResult<Option<Arc<IngressTls>>> {
        if options.mode == TlsMode::Disabled {
            return Ok(None);
        }
        let Some(cert_path) = &options.certificate_key_file else {
            return Err(invalid("need tlsCertificateKeyFile when TLS is enabled"));
        };
        let (chain, key) = files::certificate_key_file(cert_path)?;
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&format!("TLS setup: {e}")))?;
        let builder = match &options.ca_file {
            Some(ca) => {
                let roots = Arc::new(files::ca_file(ca)?);
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
                let verifier = if options.allow_connections_without_certificates {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| invalid(&format!("bad tlsCAFile {}: {e}", ca.display())))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(|e| invalid(&format!("bad tlsCertificateKeyFile {}: {e}", cert_path.display())))?;
        Ok(Some(Arc::new(IngressTls {
            mode: options.mode,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            handshake_timeout: options.handshake_timeout,
        })))
    }

    /// The mode.
    pub fn mode(&self) -> TlsMode {
        self.mode
    }

    /// Settles a new connection: a TLS client is handshaken; a plain one is kept unless the mode is
    /// requireTLS (SSLHandshakeFailed, mongod's message). Bounded by the handshake timeout
    /// (NetworkTimeout), so a silent client costs its own task only.
    pub(crate) async fn negotiate<S>(&self, mut stream: S) -> StatusResult<Negotiated<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let work = async {
            let mut prefix = Vec::new();
            read_prefix(&mut stream, &mut prefix)
                .await
                .map_err(|e| Status::new(ErrorCode::HostUnreachable, format!("Connection error: {e}")))?;
            if !looks_like_tls(&prefix) {
                if self.mode.accepts_plain() {
                    return Ok(Negotiated::Plain { stream, prefix });
                }
                return Err(Status::new(
                    ErrorCode::SSLHandshakeFailed,
                    "The server is configured to only allow SSL connections",
                ));
            }
            let tls = self
                .acceptor
                .accept(Rewind::new(prefix, stream))
                .await
                .map_err(|e| handshake_failed(&e))?;
            let (_, connection) = tls.get_ref();
            let info = TlsInfo {
                version: tls_version(connection.protocol_version()),
                client_certificate: connection.peer_certificates().is_some_and(|c| !c.is_empty()),
            };
            Ok(Negotiated::Tls {
                stream: Box::new(tls),
                info,
            })
        };
        match tokio::time::timeout(self.handshake_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(Status::new(
                ErrorCode::NetworkTimeout,
                format!(
                    "no TLS handshake or first message within {:?}",
                    self.handshake_timeout
                ),
            )),
        }
    }
}

/// SSLHandshakeFailed with mongod's wording for a client that presented no certificate.
fn handshake_failed(e: &std::io::Error) -> Status {
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let reason = match rustls_error {
        Some(rustls::Error::NoCertificatesPresented) => {
            "no SSL certificate provided by peer; connection rejected".to_owned()
        }
        Some(other) => format!("SSL peer certificate or handshake validation failed: {other}"),
        None => format!("SSL handshake failed: {e}"),
    };
    Status::new(ErrorCode::SSLHandshakeFailed, reason)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::tls::ClientTls;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    /// A self-signed certificate for localhost, with its key, in `dir`/server.pem.
    fn certificate(dir: &std::path::Path) -> PathBuf {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let path = dir.join("server.pem");
        std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
        path
    }

    fn options(mode: TlsMode, cert: &std::path::Path) -> TlsOptions {
        TlsOptions {
            mode,
            certificate_key_file: Some(cert.to_owned()),
            ..TlsOptions::default()
        }
    }

    #[test]
    fn loading_follows_mongod_rules() {
        let dir = tempfile::tempdir().unwrap();
        let cert = certificate(dir.path());
        assert!(IngressTls::load(&TlsOptions::default()).unwrap().is_none());
        let no_cert = TlsOptions {
            mode: TlsMode::RequireTls,
            ..TlsOptions::default()
        };
        assert_eq!(
            IngressTls::load(&no_cert).unwrap_err().code(),
            ErrorCode::InvalidSSLConfiguration
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let bad_ca = TlsOptions {
            ca_file: Some(empty.clone()),
            ..options(TlsMode::RequireTls, &cert)
        };
        let err = IngressTls::load(&bad_ca).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidSSLConfiguration);
        assert!(err.reason().contains("empty.pem"), "{err}");
        assert!(IngressTls::load(&options(TlsMode::RequireTls, &empty)).is_err());
        let tls = IngressTls::load(&options(TlsMode::PreferTls, &cert))
            .unwrap()
            .unwrap();
        assert_eq!(tls.mode(), TlsMode::PreferTls);
    }

    #[tokio::test]
    async fn plain_bytes_are_kept_or_refused_by_mode() {
        let dir = tempfile::tempdir().unwrap();
        let cert = certificate(dir.path());
        let header = [0x16u8, 0x01, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0];
        for mode in [TlsMode::AllowTls, TlsMode::RequireTls] {
            let tls = IngressTls::load(&options(mode, &cert)).unwrap().unwrap();
            let (mut client, server) = duplex(1024);
            client.write_all(&header).await.unwrap();
            match (mode, tls.negotiate(server).await) {
                (TlsMode::AllowTls, Ok(Negotiated::Plain { prefix, .. })) => {
                    assert_eq!(prefix, header[..prefix.len()]);
                }
                (TlsMode::RequireTls, Err(status)) => {
                    assert_eq!(status.code(), ErrorCode::SSLHandshakeFailed);
                    assert_eq!(
                        status.reason(),
                        "The server is configured to only allow SSL connections"
                    );
                }
                (mode, _) => panic!("unexpected outcome under {mode}"),
            }
        }
    }

    #[tokio::test]
    async fn a_tls_client_is_handshaken_and_its_bytes_decrypted() {
        let dir = tempfile::tempdir().unwrap();
        let cert = certificate(dir.path());
        let tls = IngressTls::load(&options(TlsMode::AllowTls, &cert))
            .unwrap()
            .unwrap();
        // The self-signed certificate is its own CA.
        let client_tls = ClientTls::from_files(Some(&cert), None).unwrap();
        let (client, server) = duplex(64 * 1024);
        let client_side = async {
            let mut stream = client_tls.handshake("localhost:27017", client).await.unwrap();
            stream.write_all(b"hello over tls").await.unwrap();
            stream.flush().await.unwrap();
            stream
        };
        let (negotiated, _client) = tokio::join!(tls.negotiate(server), client_side);
        let Ok(Negotiated::Tls { mut stream, info }) = negotiated else {
            panic!("not a TLS session");
        };
        assert_eq!(
            info,
            TlsInfo {
                version: "1.3",
                client_certificate: false
            }
        );
        let mut buf = [0u8; 14];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello over tls");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let cert = certificate(dir.path());
        let tls = IngressTls::load(&options(TlsMode::RequireTls, &cert))
            .unwrap()
            .unwrap();
        let (_client, server) = duplex(1024);
        let status = match tls.negotiate(server).await {
            Err(status) => status,
            Ok(_) => panic!("a silent client was accepted"),
        };
        assert_eq!(status.code(), ErrorCode::NetworkTimeout);
    }
}
