//! The network interface: how the executor runs remote commands. [`real::RealNetwork`] runs them over
//! the egress connection pool and the async client; [`mock::MockNetwork`] is the virtual-clock mock.

mod counters;
mod exhaust;
pub mod mock;
mod mock_state;
mod on_drop;
pub mod real;
mod real_exhaust;
mod work_signal;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use docwire_rpc::StatusResult;
use docwire_service::{Clock, ClockTime};
use docwire_transport::client::{RemoteCommandOnAnyResponse, RemoteCommandRequestOnAny};

pub use counters::{Counters, NetworkCounters};
pub use exhaust::ExhaustReplies;
pub use on_drop::OnDrop;
pub use work_signal::WorkSignal;

/// The future of one remote command. It is registered with the network when made, not when first
/// polled; dropping it before it completes cancels the network operation.
pub type CommandFuture = Pin<Box<dyn Future<Output = RemoteCommandOnAnyResponse> + Send>>;

/// What the executor needs from the network (mongod's NetworkInterface).
///
/// Cancellation is by dropping: dropping a [`CommandFuture`] or [`ExhaustReplies`] cancels the command,
/// counts it as canceled, and the connection it used goes back clean or is dropped, never reused
/// mid-reply. A request's `timeout` is enforced here, on the interface's clock, with
/// NetworkInterfaceExceededTimeLimit.
pub trait NetworkInterface: Send + Sync + fmt::Debug {
    /// Starts the interface (the real one needs it before commands; the mock accepts commands any time).
    fn startup(&self) -> StatusResult<()>;

    /// Stops the interface: commands in flight finish with ShutdownInProgress, new ones fail at once.
    fn shutdown(&self);

    /// The clock timeouts are measured on.
    fn clock(&self) -> &Arc<dyn Clock>;

    /// Starts one command on the first of `request.targets` that can be reached.
    fn start_command(&self, request: RemoteCommandRequestOnAny) -> CommandFuture;

    /// Starts an exhaust command: one reply, then more while they carry moreToCome.
    fn start_exhaust_command(&self, request: RemoteCommandRequestOnAny) -> ExhaustReplies;

    /// The outcome counters so far.
    fn counters(&self) -> Counters;

    /// The signal idle executor workers wait on.
    fn work_signal(&self) -> &WorkSignal;

    /// Blocks (asynchronously) until [`signal_work_available`](Self::signal_work_available) is called.
    fn wait_for_work(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.work_signal().wait())
    }

    /// As [`wait_for_work`](Self::wait_for_work), but returns at `at` (on the interface's clock) at the latest.
    fn wait_for_work_until(&self, at: ClockTime) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.work_signal().wait_until(self.clock().as_ref(), at))
    }

    /// Wakes one waiting worker (or the next one to wait).
    fn signal_work_available(&self) {
        self.work_signal().signal();
    }
}
