//! `LimitController`: the default controller, keeping each host between minConnections and maxConnections.

use std::time::Duration;

use crate::controller::{ConnectionControls, ControllerInterface, HostState, HostUpdate};
use crate::options::Options;

/// mongod's `LimitController`: target = clamp(requests + active, min, max), at most maxConnecting pending.
///
/// It keeps no per-host state (the target is a function of the reported state), so it takes no lock.
#[derive(Clone, Debug)]
pub struct LimitController {
    min_connections: usize,
    max_connections: usize,
    max_connecting: usize,
    host_timeout: Duration,
    pending_timeout: Duration,
    refresh_requirement: Duration,
}

impl LimitController {
    /// A controller applying `options`' limits and timeouts.
    pub fn new(options: &Options) -> LimitController {
        LimitController {
            min_connections: options.min_connections,
            // A max below the min would make clamp meaningless; the min wins, as in mongod.
            max_connections: options.max_connections.max(options.min_connections),
            // Zero would stall every request forever.
            max_connecting: options.max_connecting.max(1),
            host_timeout: options.host_timeout,
            pending_timeout: options.refresh_timeout,
            refresh_requirement: options.refresh_requirement,
        }
    }
}

impl ControllerInterface for LimitController {
    fn add_host(&self, _host: &str) {}

    fn update_host(&self, _host: &str, state: &HostState) -> HostUpdate {
        let wanted = state
            .requests
            .saturating_add(state.active)
            .saturating_add(state.leased);
        HostUpdate {
            controls: ConnectionControls {
                max_pending: self.max_connecting,
                target: wanted.clamp(self.min_connections, self.max_connections),
            },
            can_shutdown: true,
        }
    }

    fn remove_host(&self, _host: &str) {}

    fn host_timeout(&self) -> Duration {
        self.host_timeout
    }

    fn pending_timeout(&self) -> Duration {
        self.pending_timeout
    }

    fn refresh_requirement(&self) -> Duration {
        self.refresh_requirement
    }

    fn name(&self) -> &str {
        "LimitController"
    }
}
