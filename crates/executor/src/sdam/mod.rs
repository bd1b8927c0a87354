//! Replica-set targeting: the SDAM model (server and topology descriptions, application errors),
//! server selection by read preference, and the monitor that keeps a topology current.

mod app_error;
mod server_description;
mod topology;

pub use app_error::{ApplicationError, ErrorKind, ErrorPhase, is_state_change_error};
pub use server_description::{ServerDescription, ServerType, TopologyVersion};
pub use topology::{ServerEntry, TopologyDescription, TopologySettings, TopologyType};
