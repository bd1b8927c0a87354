//! `ConnectionInterface` and `ConnectionFactory`: what the pool needs from a connection, and how it gets one.
//!
//! The pool never does I/O itself. It asks the factory for an unconnected connection, drives its
//! [`setup`](ConnectionInterface::setup) (connect + handshake + auth) and, when it has sat idle for
//! `refreshRequirement`, its [`refresh`](ConnectionInterface::refresh) (a ping). The pool enforces both
//! timeouts itself on its clock, by dropping the future, so an implementation need not (it gets the
//! timeout only to pass on, e.g. to a socket connect). The async client's connection implements this
//! with `connect` + `hello` in `setup` and `run_command("admin", {ping: 1})` in `refresh`.

use std::future::Future;
use std::time::Duration;

use docwire_rpc::StatusResult;
use docwire_service::ClockTime;

/// One pooled connection to one host, as the pool sees it.
pub trait ConnectionInterface: Send + 'static {
    /// The `host:port` this connection talks to.
    fn host(&self) -> &str;

    /// The pool generation this connection was made in (given to [`ConnectionFactory::make_connection`]);
    /// a connection older than its pool is dropped instead of reused.
    fn generation(&self) -> u64;

    /// When the connection was last used (set by [`indicate_used`](Self::indicate_used)).
    fn last_used(&self) -> ClockTime;

    /// Records a use at `now`; the pool calls it after a successful setup or refresh and when a holder
    /// reports success, so idle time is measured from here.
    fn indicate_used(&mut self, now: ClockTime);

    /// A cheap check without I/O (for example, whether the peer hung up); an unhealthy ready connection is
    /// dropped instead of handed out.
    fn is_healthy(&self) -> bool;

    /// Connects and completes the handshake; `timeout` is the pool's limit (it also enforces it).
    fn setup(&mut self, timeout: Duration) -> impl Future<Output = StatusResult<()>> + Send;

    /// Checks an idle connection is still usable (a ping); `timeout` is the pool's limit.
    fn refresh(&mut self, timeout: Duration) -> impl Future<Output = StatusResult<()>> + Send;
}

/// Makes connections for a pool.
pub trait ConnectionFactory: Send + Sync + 'static {
    /// The kind of connection made.
    type Connection: ConnectionInterface;

    /// A new, not yet set up connection to `host`, belonging to pool generation `generation`, last used
    /// at `now` (its creation).
    fn make_connection(&self, host: &str, generation: u64, now: ClockTime) -> Self::Connection;
}
