//! Contextual singletons: `ServiceContext`, `Client`, `OperationContext`, decorations, interruption (kill, deadline, shutdown) and the periodic runner.
//!
//! See docs/ARCHITECTURE.md for what this crate owns and the invariants it keeps.
//!
//! A [`ServiceContext`] is the state of one server process, passed as a handle. It makes Clients
//! ([`ServiceContext::make_client`] returns the owning [`UniqueClient`]; others share `Arc<Client>` and
//! read it under [`Client::lock`]) and each Client makes at most one [`OperationContext`] at a time. Other
//! crates attach their state with [decorations](decoration), declared on the [`ServiceContextBuilder`].
//! All time comes from a [`Clock`]: [`SystemClock`] in servers, [`MockClock`] in tests. Both blocking
//! (Condvar) and async waits are woken by kills and clock alarms, never by polling.

mod alarm;
mod client;
mod client_binding;
mod client_metadata;
mod client_observer;
mod clock;
mod current_op;
pub mod decoration;
mod interrupt;
mod mock_clock;
mod monitor;
mod operation_context;
mod periodic_runner;
mod recorded_command;
mod service_context;
mod system_clock;

pub use alarm::Alarm;
pub use client::{Client, LockedClient, TransportSession, UniqueClient};
pub use client_binding::{AlternativeClientRegion, ClientStrand, ThreadClient, run_with_client};
pub use client_metadata::{ClientMetadata, MAX_APP_NAME_BYTES, MAX_CLIENT_METADATA_BYTES};
pub use client_observer::ClientObserver;
pub use clock::{AlarmCallback, Clock, ClockTime, sleep_until};
pub use current_op::{LogicalOp, MAX_CURRENT_OP_COMMAND_BYTES};
pub use decoration::{Decorable, Decoration, DecorationRegistry, Decorations};
pub use mock_clock::MockClock;
pub use monitor::Monitor;
pub use operation_context::{OperationContext, OperationHandle, OperationId};
pub use periodic_runner::{JobState, JobWork, PeriodicJob, PeriodicJobHandle, PeriodicRunner};
pub use recorded_command::{RecordedCommand, Redaction};
pub use service_context::{ServiceContext, ServiceContextBuilder, WeakServiceContext};
pub use system_clock::SystemClock;
