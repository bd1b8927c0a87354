//! `ClientConnection`: the pool's [`ConnectionInterface`] over the transport's [`AsyncDbClient`].
//!
//! Setup is `AsyncDbClient::connect` (connect + hello handshake), then, when the factory has
//! [`Credentials`], SCRAM authentication (so a connection arrives authenticated); refresh is
//! `{ping: 1}` on admin, and health is the client's own (no command abandoned mid-reply, peer not known
//! to have hung up). A holder runs commands on a checked-out connection with
//! [`ClientConnection::run_command`], or with [`ConnectionHandle::run_and_mark`], which also marks the
//! handle with the outcome.

use std::fmt;
use std::time::Duration;

use bson::{Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::ClockTime;
use docwire_transport::client::{AsyncDbClient, ClientOptions, Credentials, authenticate};

use crate::connection::{ConnectionFactory, ConnectionInterface};
use crate::handle::ConnectionHandle;

/// One pooled egress connection: an [`AsyncDbClient`] once set up.
pub struct ClientConnection {
    host: String,
    generation: u64,
    last_used: ClockTime,
    options: ClientOptions,
    credentials: Option<Credentials>,
    client: Option<AsyncDbClient>,
    /// Set while a command runs. A holder that drops the command's future midway leaves it set, and the
    /// connection is then out of step with its peer, so it reports itself unhealthy.
    in_flight: bool,
}

impl ClientConnection {
    /// The handshaken client, or HostUnreachable if setup has not completed.
    pub fn client(&mut self) -> StatusResult<&mut AsyncDbClient> {
        let host = &self.host;
        self.client
            .as_mut()
            .ok_or_else(|| Status::new(ErrorCode::HostUnreachable, format!("not connected to {host}")))
    }

    /// Runs `command` on `db` and returns its reply whatever its `ok`; `Err` only for transport failures.
    pub async fn run_command(&mut self, db: &str, command: Document) -> StatusResult<Document> {
        self.in_flight = true;
        let reply = self.client()?.run_command(db, command).await;
        // Only reached when the future ran to completion: the stream is in step again.
        self.in_flight = false;
        reply
    }
}

impl fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConnection")
            .field("host", &self.host)
            .field("generation", &self.generation)
            .field("connected", &self.client.is_some())
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

impl ConnectionInterface for ClientConnection {
    fn host(&self) -> &str {
        &self.host
    }

    fn generation(&self) -> u64 {
        self.generation
    }

    fn last_used(&self) -> ClockTime {
        self.last_used
    }

    fn indicate_used(&mut self, now: ClockTime) {
        self.last_used = now;
    }

    fn is_healthy(&self) -> bool {
        !self.in_flight && self.client.as_ref().is_some_and(AsyncDbClient::is_healthy)
    }

    async fn setup(&mut self, timeout: Duration) -> StatusResult<()> {
        let mut client = AsyncDbClient::connect(&self.host, timeout, &self.options).await?;
        if let Some(credentials) = &self.credentials {
            // The pool bounds setup by dropping this future; the client is then dropped unused.
            authenticate(&mut client, credentials)
                .await
                .map_err(|status| authentication_error(&self.host, credentials, &status))?;
        }
        self.client = Some(client);
        Ok(())
    }

    async fn refresh(&mut self, _timeout: Duration) -> StatusResult<()> {
        // The pool bounds the refresh by dropping this future, which leaves `in_flight` set.
        let reply = self.run_command("admin", doc! {"ping": 1}).await?;
        match Status::from_reply_document(&reply) {
            None => Ok(()),
            Some(status) => Err(status),
        }
    }
}

/// A failed authentication as the connection's users see it: the server's code (AuthenticationFailed
/// 18 for a wrong password or an unknown user), saying which host refused which user.
fn authentication_error(host: &str, credentials: &Credentials, status: &Status) -> Status {
    Status::new(
        status.code(),
        format!(
            "cannot authenticate to {host} as {}@{} with {}: {}",
            credentials.user,
            credentials.source,
            credentials.mechanism.name(),
            status.reason()
        ),
    )
}

/// Makes [`ClientConnection`]s that connect with `options` (and authenticate with `credentials`).
#[derive(Clone, Debug, Default)]
pub struct ClientConnectionFactory {
    /// How every connection connects and talks (app name, compressors, checksums).
    pub options: ClientOptions,
    /// Who every connection authenticates as right after its handshake; `None`: nobody.
    pub credentials: Option<Credentials>,
}

impl ClientConnectionFactory {
    /// A factory whose connections use `options` and do not authenticate.
    pub fn new(options: ClientOptions) -> ClientConnectionFactory {
        ClientConnectionFactory {
            options,
            credentials: None,
        }
    }

    /// The same factory, whose connections authenticate as `credentials`.
    pub fn with_credentials(mut self, credentials: Option<Credentials>) -> ClientConnectionFactory {
        self.credentials = credentials;
        self
    }
}

impl ConnectionFactory for ClientConnectionFactory {
    type Connection = ClientConnection;

    fn make_connection(&self, host: &str, generation: u64, now: ClockTime) -> ClientConnection {
        ClientConnection {
            host: host.to_owned(),
            generation,
            last_used: now,
            options: self.options.clone(),
            credentials: self.credentials.clone(),
            client: None,
            in_flight: false,
        }
    }
}

impl ConnectionHandle<ClientConnection> {
    /// Runs `command` on `db` and marks the handle: success when the transport delivered a reply
    /// (whatever its `ok`), failure otherwise, so a broken connection is not handed out again.
    pub async fn run_and_mark(&mut self, db: &str, command: Document) -> StatusResult<Document> {
        let result = self.run_command(db, command).await;
        match &result {
            Ok(_) => self.indicate_success(),
            Err(status) => self.indicate_failure(status.clone()),
        }
        result
    }
}
