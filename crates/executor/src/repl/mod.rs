//! Replica-set role simulation: a docwire server started with `--replSet` and `--replSetMembers` acts
//! as one member of a set. Members heartbeat each other (hello through the task executor and the real
//! network interface), elect a primary, step up and down on command, report the set in hello, and
//! refuse writes (and reads without a secondary-ok read preference) while secondary.
//!
//! There is NO data replication: each member keeps its own data, and a write acknowledged by one
//! primary is not on the others. The simulation exists so that targeting and failover (drivers, this
//! crate's monitor) can be tested against real processes.

mod commands;
mod config;
mod coordinator;
mod gate;
mod server_status;
mod state;

pub use commands::{ReplSetGetStatus, ReplSetStepDown, ReplSetStepUp, register_repl_commands};
pub use config::{ReplSetConfig, election_id, term_of};
pub use coordinator::ReplicationCoordinator;
pub use gate::{Gate, Gated, READ_COMMANDS, WRITE_COMMANDS, gate_commands};
pub use server_status::{ReplServerStatus, register_repl_server_status};
pub use state::{Health, Heartbeat, Peer, ReplState, Role};
