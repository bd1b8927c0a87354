//! Application errors (from commands and connections, not from monitoring) and what they do to the
//! topology: mark the server Unknown, clear its pool, or nothing when stale (the SDAM error rules).

use bson::Document;
use docwire_rpc::ErrorCode;

use super::server_description::{ServerDescription, TopologyVersion};
use super::topology::TopologyDescription;

/// When the error happened relative to the connection's handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorPhase {
    /// While connecting or during the handshake.
    BeforeHandshake,
    /// On an established connection.
    AfterHandshake,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum ErrorKind {
    /// The connection failed.
    Network,
    /// The connection timed out.
    Timeout,
    /// The server replied with this error document.
    Command(Document),
}

/// One error seen by the application on a connection to `address`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplicationError {
    /// The server.
    pub address: String,
    /// The pool generation of the connection (`None`: the current one).
    pub generation: Option<u64>,
    /// Before or after the handshake.
    pub phase: ErrorPhase,
    /// The server's maxWireVersion as that connection saw it.
    pub max_wire_version: i32,
    /// The error.
    pub kind: ErrorKind,
}

const NODE_IS_RECOVERING: [ErrorCode; 5] = [
    ErrorCode::InterruptedAtShutdown,
    ErrorCode::InterruptedDueToReplStateChange,
    ErrorCode::NotPrimaryOrSecondary,
    ErrorCode::PrimarySteppedDown,
    ErrorCode::ShutdownInProgress,
];

/// LegacyNotPrimary (10058) has no name in this build.
const NOT_PRIMARY: [i32; 3] = [10107, 13435, 10058];

/// Whether a command error means the server changed state (not primary, or recovering).
pub fn is_state_change_error(reply: &Document) -> bool {
    let code = reply.get_i32("code").ok();
    match code {
        Some(code) => NODE_IS_RECOVERING.contains(&ErrorCode::from_code(code)) || NOT_PRIMARY.contains(&code),
        // Without a code, fall back to the old message checks.
        None => {
            let message = reply.get_str("errmsg").unwrap_or("");
            message.contains("not master") || message.contains("node is recovering")
        }
    }
}

fn is_shutdown(reply: &Document) -> bool {
    reply
        .get_i32("code")
        .is_ok_and(|code| ErrorCode::from_code(code).is_shutdown_error())
}

impl TopologyDescription {
    /// Applies an application error.
    pub fn handle_application_error(&mut self, error: &ApplicationError) {
        let Some(entry) = self.servers.get(&error.address) else {
            return;
        };
        // An error on a connection from before the pool was last cleared is old news.
        if error
            .generation
            .is_some_and(|generation| generation < entry.pool_generation)
        {
            return;
        }
        let current_tv = entry.description.topology_version;
        match &error.kind {
            ErrorKind::Network => {
                self.update(ServerDescription::with_error(
                    &error.address,
                    "network error",
                    None,
                ));
                self.clear_pool(&error.address);
            }
            // A timeout says the server was slow, not that it changed: the specification's tests expect
            // it ignored before and after the handshake (the monitor's own check decides).
            ErrorKind::Timeout => {}
            ErrorKind::Command(reply) => {
                if !is_state_change_error(reply) {
                    return;
                }
                let tv = reply
                    .get_document("topologyVersion")
                    .ok()
                    .and_then(TopologyVersion::from_document);
                // Stale if not newer than what the server already told us.
                if let (Some(tv), Some(current)) = (&tv, &current_tv)
                    && tv.process_id == current.process_id
                    && tv.counter <= current.counter
                {
                    return;
                }
                let message = reply.get_str("errmsg").unwrap_or("state change error");
                self.update(ServerDescription::with_error(&error.address, message, tv));
                if is_shutdown(reply) || error.max_wire_version <= 7 {
                    self.clear_pool(&error.address);
                }
            }
        }
    }
}
