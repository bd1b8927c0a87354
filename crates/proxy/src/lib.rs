//! The pooling, routing and failover proxy: client sessions and server sessions in front of upstream servers.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
//!
//! This first slice forwards every OP_MSG command to one upstream host through a pool of
//! [`ClientConnection`](docwire_pool::ClientConnection)s ([`ProxyEntryPoint`]), answers the handshake
//! itself, and serves clients with the transport layer ([`start_proxy`]).

mod entry_point;
pub mod request_log;
mod running;
pub mod shadow;
pub mod stats;

pub use entry_point::{HANDSHAKE_COMMANDS, ProxyEntryPoint};
pub use running::{RunningProxy, start_proxy};
