//! TLS on both sides, with rustls (the ring provider): mongod's `--tlsMode` and certificate flags for
//! ingress ([`IngressTls`]: one port serves TLS and plain clients as the mode allows, the handshake
//! runs in the session's task under a timeout), and [`ClientTls`] for egress connections. Sessions
//! that run over TLS carry no OP_MSG checksums, as in mongod.

mod detect;
mod egress;
mod files;
mod ingress;
mod mode;
mod server_status;

pub use egress::ClientTls;
pub use ingress::{IngressTls, TlsInfo, TlsOptions};
pub use mode::TlsMode;
pub use server_status::{TlsServerStatus, TransportSecurityCounters, register_tls_server_status};

pub(crate) use ingress::Negotiated;

/// mongod's name for a negotiated protocol version (serverStatus.transportSecurity's keys).
pub(crate) fn tls_version(version: Option<rustls::ProtocolVersion>) -> &'static str {
    match version {
        Some(rustls::ProtocolVersion::TLSv1_3) => "1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "1.2",
        _ => "unknown",
    }
}

/// The crypto provider every TLS configuration uses (ring: no C toolchain or assembler needed).
fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
