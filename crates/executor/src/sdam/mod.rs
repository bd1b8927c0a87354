//! Replica-set targeting: the SDAM model (server and topology descriptions, application errors),
//! server selection by read preference, and the monitor that keeps a topology current.

mod app_error;
mod monitor;
mod selection;
mod server_description;
mod topology;

pub use app_error::{ApplicationError, ErrorKind, ErrorPhase, is_state_change_error};
pub use monitor::{MonitorOptions, ReplicaSetMonitor};
pub use selection::{
    DEFAULT_LOCAL_THRESHOLD, Operation, ReadPreference, ReadPreferenceMode, SelectionRng, average_rtt,
    choose, in_latency_window, suitable_servers,
};
pub use server_description::{ServerDescription, ServerType, TopologyVersion};
pub use topology::{ServerEntry, TopologyDescription, TopologySettings, TopologyType};
