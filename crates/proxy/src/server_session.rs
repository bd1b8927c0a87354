//! `ServerSession`: one upstream connection checked out of the pool for a client session's request, as a
//! state machine — Startup (the pool connects and runs the handshake), Dependencies (replays the session
//! state a new server needs before the first request: nothing yet, authentication will go here), Query
//! (forwarding), Reset (the connection goes back to the pool, or is discarded if it is out of step).

use std::sync::Arc;
use std::time::Duration;

use docwire_pool::{ClientConnection, ConnectionHandle, ConnectionPool};
use docwire_rpc::{Message, Status, StatusResult};

/// Where a server session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerSessionState {
    /// Checking a connection out of the pool (connect and handshake when it is new).
    Startup,
    /// Replaying session state the upstream needs before the first request.
    Dependencies,
    /// Forwarding requests.
    Query,
    /// Done: back to the pool.
    Reset,
}

/// An upstream connection serving one client request (or a pinned cursor or exhaust stream).
pub struct ServerSession {
    host: String,
    connection: ConnectionHandle<ClientConnection>,
    state: ServerSessionState,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("host", &self.host)
            .field("state", &self.state)
            .finish()
    }
}

impl ServerSession {
    /// Startup: checks a connection to `host` out of `pool` within `timeout`, then runs Dependencies.
    pub async fn checkout(
        pool: &Arc<ConnectionPool<ClientConnection>>,
        host: &str,
        timeout: Duration,
    ) -> StatusResult<ServerSession> {
        let connection = pool.get(host, Some(timeout)).await?;
        ServerSession::resume(host, connection)
    }

    /// A session over a connection that was held (a pinned cursor's): straight to Dependencies.
    pub fn resume(host: &str, connection: ConnectionHandle<ClientConnection>) -> StatusResult<ServerSession> {
        let mut session = ServerSession {
            host: host.to_owned(),
            connection,
            state: ServerSessionState::Startup,
        };
        session.dependencies()?;
        Ok(session)
    }

    fn dependencies(&mut self) -> StatusResult<()> {
        self.state = ServerSessionState::Dependencies;
        // MongoDB keeps logical-session and transaction state on the server, keyed by lsid, so a new
        // connection needs nothing replayed; per-connection authentication will be replayed here.
        self.state = ServerSessionState::Query;
        Ok(())
    }

    /// The upstream host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The current state.
    pub fn state(&self) -> ServerSessionState {
        self.state
    }

    /// The upstream's handshake reply (wire versions and limits).
    pub fn upstream_hello(&mut self) -> Option<bson::Document> {
        self.connection.client().ok().map(|c| c.hello().raw.clone())
    }

    fn mark(&mut self, result: &StatusResult<impl Sized>) {
        match result {
            Ok(_) => self.connection.indicate_success(),
            Err(status) => self.connection.indicate_failure(status.clone()),
        }
    }

    /// Sends `request` (an OP_MSG without a checksum) and returns the reply.
    pub async fn round_trip(&mut self, request: Message) -> StatusResult<Message> {
        let result = async {
            let client = self.connection.client()?;
            let id = client.send_message(request).await?;
            client.receive_message(id).await
        }
        .await;
        self.mark(&result);
        result
    }

    /// Sends a moreToCome request: no reply comes.
    pub async fn send_only(&mut self, request: Message) -> StatusResult<()> {
        let result = async { self.connection.client()?.send_message_no_reply(request).await }.await;
        self.mark(&result);
        result
    }

    /// Sends an exhaustAllowed request; returns the first reply and the id the next one will answer
    /// (if the reply has moreToCome).
    pub async fn start_stream(&mut self, request: Message) -> StatusResult<Message> {
        self.round_trip(request).await
    }

    /// The next reply of an exhaust stream: it answers the previous reply's request id.
    pub async fn next_in_stream(&mut self, previous_reply_id: i32) -> StatusResult<Message> {
        let result = async { self.connection.client()?.receive_message(previous_reply_id).await }.await;
        self.mark(&result);
        result
    }

    /// Reset: hands the connection back (the pool discards it if it is out of step).
    pub fn reset(mut self) {
        self.state = ServerSessionState::Reset;
        drop(self.connection);
    }

    /// Gives up the session but keeps its connection (to pin it to a session-less cursor).
    pub fn into_connection(self) -> ConnectionHandle<ClientConnection> {
        self.connection
    }
}

/// A failure reaching the upstream as the client sees it: HostUnreachable (a code drivers retry on).
pub fn unreachable(host: &str, status: &Status) -> Status {
    Status::new(
        docwire_rpc::ErrorCode::HostUnreachable,
        format!("upstream {host} unreachable: {}", status.reason()),
    )
}
