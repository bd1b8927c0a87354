//! `ClientSession`: the proxy's state for one client connection, kept as a Client decoration so it ends
//! with the connection — Startup until the handshake is done, then Ready between requests and Query while
//! one is being forwarded. It holds an upstream connection only while an exhaust stream is running:
//! a client with nothing in flight holds none.

use crate::server_session::ServerSession;

/// Where a client session is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientSessionState {
    /// Connected; the proxy answers the handshake itself.
    #[default]
    Startup,
    /// Idle between requests: no upstream connection held.
    Ready,
    /// A request is being forwarded.
    Query,
}

/// An exhaust getMore whose replies are streaming from the upstream to this client.
#[derive(Debug)]
pub struct ExhaustStream {
    /// The upstream connection the replies arrive on.
    pub session: ServerSession,
    /// The request id of the last reply: the next one answers it.
    pub last_reply_id: i32,
    /// The cursor being streamed: id and namespace.
    pub cursor: (i64, String),
}

/// One client connection's proxy state.
#[derive(Debug, Default)]
pub struct ClientSession {
    /// The state.
    pub state: ClientSessionState,
    /// The running exhaust stream, if any.
    pub stream: Option<ExhaustStream>,
    /// Requests forwarded for this client.
    pub requests: u64,
}
