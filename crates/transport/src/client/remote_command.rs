//! Remote-command requests and responses as plain types, shared by the egress client, the pool and the
//! task executor (mongod's RemoteCommandRequest / RemoteCommandResponse and their OnAny forms).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bson::Document;
use docwire_rpc::Status;

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// A unique id for a remote-command request.
pub fn next_request_id() -> u64 {
    NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed)
}

/// A command to run on one host.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCommandRequest {
    /// Unique per request, for cancellation and logs.
    pub id: u64,
    /// The database (`$db`).
    pub db: String,
    /// The command document.
    pub command: Document,
    /// Extra metadata fields appended to the command (e.g. `$readPreference`).
    pub metadata: Document,
    /// How long the whole request may take; `None` is no limit (mongod's -1).
    pub timeout: Option<Duration>,
    /// `host:port` (or a Unix socket path).
    pub target: String,
    /// Send with moreToCome and expect no reply (the response is a synthetic `{ok: 1}`).
    pub fire_and_forget: bool,
}

impl RemoteCommandRequest {
    /// A request with a fresh id, no metadata, no timeout.
    pub fn new(target: impl Into<String>, db: impl Into<String>, command: Document) -> RemoteCommandRequest {
        RemoteCommandRequest {
            id: next_request_id(),
            db: db.into(),
            command,
            metadata: Document::new(),
            timeout: None,
            target: target.into(),
            fire_and_forget: false,
        }
    }
}

/// A command to run on whichever of several hosts answers first (the executor picks one).
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCommandRequestOnAny {
    /// Unique per request.
    pub id: u64,
    /// The database (`$db`).
    pub db: String,
    /// The command document.
    pub command: Document,
    /// Extra metadata fields.
    pub metadata: Document,
    /// How long the whole request may take.
    pub timeout: Option<Duration>,
    /// Candidate hosts, in preference order.
    pub targets: Vec<String>,
    /// Send with moreToCome and expect no reply.
    pub fire_and_forget: bool,
}

/// The outcome of a remote command: the transport's `status` is separate from the command's own `ok`.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCommandResponse {
    /// The reply document (empty when the transport failed).
    pub data: Document,
    /// How long the request took.
    pub elapsed: Duration,
    /// Whether the request reached the host and got a reply; a command error is still `Ok` here.
    pub status: Result<(), Status>,
    /// Whether more replies follow (exhaust).
    pub more_to_come: bool,
}

impl RemoteCommandResponse {
    /// A transport failure.
    pub fn failed(status: Status, elapsed: Duration) -> RemoteCommandResponse {
        RemoteCommandResponse {
            data: Document::new(),
            elapsed,
            status: Err(status),
            more_to_come: false,
        }
    }
}

/// A response to a [`RemoteCommandRequestOnAny`], naming the host that answered.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCommandOnAnyResponse {
    /// The response.
    pub response: RemoteCommandResponse,
    /// The host that answered (`None` if none was reached).
    pub target: Option<String>,
}
