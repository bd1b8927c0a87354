//! `ProxyEntryPoint`: forwards each OP_MSG command to one upstream through the egress pool and answers
//! the handshake (and anything that is not an OP_MSG) with a local `CommandEntryPoint`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bson::Document;
use docwire_pool::{ClientConnection, ConnectionPool};
use docwire_rpc::{ErrorCode, Message, OpCode, OpMsg, ReplyBuilder, ReplyProtocol, Status, StatusResult};
use docwire_transport::{CommandEntryPoint, DbResponse, RequestContext, ServiceEntryPoint};

/// The commands the proxy answers itself so drivers can connect (over OP_MSG and OP_QUERY alike).
pub const HANDSHAKE_COMMANDS: [&str; 3] = ["hello", "isMaster", "ismaster"];

/// Forwards commands to a single upstream host; the handshake is answered locally.
pub struct ProxyEntryPoint {
    upstream: String,
    pool: Arc<ConnectionPool<ClientConnection>>,
    local: CommandEntryPoint,
    checkout_timeout: Duration,
}

impl ProxyEntryPoint {
    /// An entry point forwarding to `upstream` (host:port) over `pool`, answering handshakes with `local`.
    pub fn new(
        upstream: impl Into<String>,
        pool: Arc<ConnectionPool<ClientConnection>>,
        local: CommandEntryPoint,
    ) -> ProxyEntryPoint {
        ProxyEntryPoint {
            upstream: upstream.into(),
            pool,
            local,
            checkout_timeout: Duration::from_secs(10),
        }
    }

    /// Bounds how long a request waits for an upstream connection (default 10 s).
    pub fn with_checkout_timeout(mut self, timeout: Duration) -> ProxyEntryPoint {
        self.checkout_timeout = timeout;
        self
    }

    /// The upstream host:port.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Runs `command` on `db` upstream; with `more_to_come` it is only sent (the result is `{ok: 1}`).
    /// Every failure is a HostUnreachable status naming the upstream.
    async fn forward(&self, db: &str, command: Document, more_to_come: bool) -> StatusResult<Document> {
        let mut conn = self
            .pool
            .get(&self.upstream, Some(self.checkout_timeout))
            .await
            .map_err(|s| self.unreachable(&s))?;
        let result = if more_to_come {
            let sent = match conn.client() {
                Ok(client) => client.run_fire_and_forget(db, command).await,
                Err(status) => Err(status),
            };
            match &sent {
                Ok(_) => conn.indicate_success(),
                Err(status) => conn.indicate_failure(status.clone()),
            }
            sent
        } else {
            conn.run_and_mark(db, command).await
        };
        result.map_err(|s| self.unreachable(&s))
    }

    fn unreachable(&self, status: &Status) -> Status {
        Status::new(
            ErrorCode::HostUnreachable,
            format!("upstream {} unreachable: {}", self.upstream, status.reason()),
        )
    }
}

#[async_trait]
impl ServiceEntryPoint for ProxyEntryPoint {
    async fn handle_request(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &Message,
    ) -> StatusResult<DbResponse> {
        if request.op_code() != OpCode::Msg {
            return self.local.handle_request(ctx, request).await;
        }
        // Malformed requests, handshakes and a missing $db get the local entry point's mongod-shaped
        // answers.
        let Ok(msg) = OpMsg::parse(request) else {
            return self.local.handle_request(ctx, request).await;
        };
        let (Ok(name), Ok(db)) = (msg.command_name(), msg.database()) else {
            return self.local.handle_request(ctx, request).await;
        };
        if HANDSHAKE_COMMANDS.contains(&name) {
            return self.local.handle_request(ctx, request).await;
        }
        let more_to_come = msg.flags().more_to_come();
        let db = db.to_owned();
        let result = match msg.merged() {
            Ok(mut command) => {
                command.remove("$db");
                self.forward(&db, command, more_to_come).await
            }
            Err(status) => Err(status),
        };
        if more_to_come {
            if let Err(status) = result {
                tracing::debug!(upstream = %self.upstream, %status, "fire-and-forget request not forwarded");
            }
            return Ok(DbResponse::none());
        }
        let mut reply = ReplyBuilder::new(ReplyProtocol::OpMsg);
        reply.set_command_result(result);
        Ok(DbResponse::reply(reply.done()?.message))
    }
}
