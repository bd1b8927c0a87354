//! Egress TLS: [`ClientTls`], how an outgoing connection (the pool's, the proxy's, a monitor's)
//! verifies its server and, optionally, presents a client certificate.

use std::path::Path;
use std::sync::Arc;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::{files, provider};

/// TLS for egress connections: a rustls client configuration and, optionally, the name to verify in
/// the server's certificate (by default the host part of the address connected to).
#[derive(Clone, Debug)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    server_name: Option<String>,
}

impl ClientTls {
    /// TLS with a ready rustls configuration.
    pub fn new(config: Arc<ClientConfig>) -> ClientTls {
        ClientTls {
            config,
            server_name: None,
        }
    }

    /// TLS as drivers configure it: servers verified against the CAs in `ca_file` (the Mozilla roots
    /// when `None`, as a driver falls back to the system's), and the certificate chain and key in
    /// `certificate_key_file` presented to servers that ask for one.
    pub fn from_files(
        ca_file: Option<&Path>,
        certificate_key_file: Option<&Path>,
    ) -> StatusResult<ClientTls> {
        let roots = match ca_file {
            Some(path) => files::ca_file(path)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Status::new(ErrorCode::InvalidSSLConfiguration, format!("TLS setup: {e}")))?
            .with_root_certificates(roots);
        let config = match certificate_key_file {
            Some(path) => {
                let (chain, key) = files::certificate_key_file(path)?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    Status::new(
                        ErrorCode::InvalidSSLConfiguration,
                        format!("bad certificate key file {}: {e}", path.display()),
                    )
                })?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(ClientTls::new(Arc::new(config)))
    }

    /// Verifies `name` in server certificates instead of the host connected to.
    pub fn with_server_name(mut self, name: impl Into<String>) -> ClientTls {
        self.server_name = Some(name.into());
        self
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// Runs the client handshake over `stream`, connected to `addr` (`host:port`); SSLHandshakeFailed
    /// (141) when it fails, e.g. on a certificate that does not verify.
    pub(crate) async fn handshake<S>(&self, addr: &str, stream: S) -> StatusResult<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = self
            .server_name
            .clone()
            .unwrap_or_else(|| host_of(addr).to_owned());
        let server_name = ServerName::try_from(name.clone()).map_err(|e| {
            Status::new(
                ErrorCode::SSLHandshakeFailed,
                format!("'{name}' is not a valid TLS server name: {e}"),
            )
        })?;
        TlsConnector::from(Arc::clone(&self.config))
            .connect(server_name, stream)
            .await
            .map_err(|e| {
                Status::new(
                    ErrorCode::SSLHandshakeFailed,
                    format!("SSL handshake with {addr} failed: {e}"),
                )
            })
    }
}

/// The host part of `host:port` (an IPv6 literal without its brackets).
fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(host, _)| host);
    }
    addr.rsplit_once(':').map_or(addr, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_server_name_is_the_host_part() {
        assert_eq!(host_of("localhost:27017"), "localhost");
        assert_eq!(host_of("127.0.0.1:1"), "127.0.0.1");
        assert_eq!(host_of("[::1]:27017"), "::1");
        assert_eq!(host_of("db.example.com"), "db.example.com");
    }
}
