//! The pooling, routing and failover proxy: client sessions and server sessions in front of upstream servers.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
//!
//! A [`ProxyEntryPoint`] serves each client connection (a [`ClientSession`](client_session::ClientSession)
//! decoration) through the transport layer: it answers the handshake itself (as a mongos mirroring the
//! upstream's limits), reads each request only as far as routing needs ([`RequestInfo`]), and forwards
//! the message as-is over a [`ServerSession`](server_session::ServerSession) checked out of the upstream
//! pool for just that request. [`start_proxy`] composes it all from a [`ProxyConfig`].

pub mod auth_gate;
pub mod client_session;
pub mod commands;
mod entry_point;
pub mod handshake;
pub mod pins;
pub mod reply;
pub mod request;
pub mod request_log;
pub mod rewrite;
pub mod router;
mod running;
pub mod server_session;
pub mod shadow;
pub mod stats;
pub mod upstream;

pub use entry_point::{HANDSHAKE_COMMANDS, LOCAL_COMMANDS, ProxyEntryPoint, ProxyParts};
pub use request::RequestInfo;
pub use router::ProxyMode;
pub use running::{ProxyConfig, RunningProxy, start_proxy};
pub use upstream::UpstreamSpec;
