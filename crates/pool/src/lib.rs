//! Egress connection pooling: per-host specific pools, the controller, generations and tag closers.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
//!
//! A [`ConnectionPool`] (mongod's `executor::ConnectionPool`) keeps one specific pool per host, made
//! lazily by [`ConnectionPool::get`] and expired after `hostTimeout` without requests or checked-out
//! connections. The pool is generic over a [`ConnectionInterface`] (setup, refresh, health, generation,
//! last use) made by a [`ConnectionFactory`]; tests use fake connections, servers the async client.
//! How many connections a host gets is decided by a [`ControllerInterface`] ([`LimitController`] by
//! default). A checked-out [`ConnectionHandle`] goes back to its pool when dropped; what the holder
//! marked on it (success, failure, nothing) decides whether it is kept, refreshed or dropped.
//!
//! [`ClientConnection`] is the real connection (the transport's async client), and the server's
//! `connPoolStats` and `dropConnections` commands ([`register_pool_commands`]) reach every pool through
//! the process's [`EgressTagCloserManager`].
//!
//! Every timer (request expiry, idle refresh, host expiry, setup and refresh timeouts) is an alarm on
//! the service crate's [`Clock`](docwire_service::Clock), so tests drive the pool with a `MockClock`.
//! Each specific pool keeps its state behind one synchronous mutex that is never held across an
//! `.await`; waiting callers hold a oneshot receiver that is completed after the lock is released.

mod client_connection;
mod commands;
mod common;
mod connection;
mod controller;
mod future;
mod handle;
mod limit_controller;
mod options;
mod pool;
mod specific_pool;
mod specific_state;
mod stats;
mod tag_closer;

pub use client_connection::{ClientConnection, ClientConnectionFactory};
pub use commands::{ConnPoolStats, DropConnections, register_pool_commands};
pub use connection::{ConnectionFactory, ConnectionInterface};
pub use controller::{ConnectionControls, ControllerInterface, HostState, HostUpdate};
pub use future::ConnectionFuture;
pub use handle::ConnectionHandle;
pub use limit_controller::LimitController;
pub use options::Options;
pub use pool::ConnectionPool;
pub use stats::{ConnectionPoolStats, HostConnectionStats, WaitTimeHistogram};
pub use tag_closer::{EgressTagCloser, EgressTagCloserManager};
