//! Listeners and sessions (TCP, Unix socket), the ingress `ServiceStateMachine`, `ServiceEntryPoint`,
//! service executors, the command layer, TLS on both sides, and the egress connection.
//!
//! A [`TransportLayer`] accepts connections; the [`SessionManager`] admits them under `maxConns`; each
//! runs a [`ServiceStateMachine`] on a [`ServiceExecutor`], which hands every request to a
//! [`ServiceEntryPoint`]. The [`CommandEntryPoint`] is the entry point that runs commands from a
//! [`CommandRegistry`]; the db and proxy crates register theirs on top of the handshake and admin
//! commands in [`commands`].

pub mod auth;
pub mod client;
mod command;
pub mod commands;
mod egress;
mod entry_point;
mod service_entry_point;
mod service_executor;
mod session;
mod session_manager;
mod state_machine;
pub mod tags;
pub mod tls;
mod transport_layer;

pub use command::{Command, CommandRegistry, CommandRequest};
pub use egress::{connect, connect_tls};
pub use entry_point::CommandEntryPoint;
pub use service_entry_point::{DbResponse, RequestContext, ServiceEntryPoint};
pub use service_executor::{ServiceExecutor, ServiceExecutorKind};
pub use session::{NetworkCounters, Received, Session, SessionInfo, SessionStream};
pub use session_manager::{
    ConnectionStats, DEFAULT_MAX_CONNS, MONGOD_FD_SHARE, PROXY_FD_SHARE, SessionGuard, SessionManager,
};
pub use state_machine::{
    HTTP_ANSWER, ServiceStateMachine, State, StateMachineConfig, TransitionObserver, next_message_id,
};
pub use transport_layer::{TransportConfig, TransportHandle, TransportLayer};
