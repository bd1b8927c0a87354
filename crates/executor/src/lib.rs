//! The task executor (events, callbacks, cancellable handles, timed work, remote commands), the network interface (real and virtual-clock mock) and replica-set targeting.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
//!
//! A [`TaskExecutor`] runs callbacks on a few worker tasks: immediately ([`TaskExecutor::schedule_work`]),
//! at a time ([`TaskExecutor::schedule_work_at`]), when an event is signalled
//! ([`TaskExecutor::on_event`]) or when a remote command answers
//! ([`TaskExecutor::schedule_remote_command`]). Every callback runs exactly once; cancelled or shut-down
//! ones run with CallbackCanceled. The futures underneath (`sleep_until`, `wait_for_event`,
//! `run_remote_command`) are public too. Remote commands go through a [`NetworkInterface`]:
//! [`network::real::RealNetwork`] over the connection pool and the async client, or
//! [`network::mock::MockNetwork`] on a virtual clock for tests. [`sdam`] holds replica-set targeting: the SDAM model,
//! server selection and the [`sdam::ReplicaSetMonitor`]. [`repl`] is the replica-set role simulation
//! a docwire server runs with `--replSet` (no data replication).

mod baton;
mod callback;
mod event;
mod executor;
mod exhaust;
mod job;
pub mod network;
mod remote;
pub mod repl;
pub mod sdam;
mod work;

pub use baton::Baton;
pub use callback::{
    CallbackArgs, CallbackHandle, RemoteCommandCallbackArgs, callback_canceled, shutdown_in_progress,
};
pub use event::{EventHandle, EventWait};
pub use executor::{ExecutorOptions, TaskExecutor};
pub use network::{CommandFuture, Counters, NetworkInterface};
pub use remote::{RemoteOptions, on_any};
