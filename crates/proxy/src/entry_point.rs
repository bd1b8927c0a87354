//! `ProxyEntryPoint`: the client session's request path. Each OP_MSG is read only as far as routing needs
//! ([`RequestInfo`]), sent as-is (no re-encoding) over a [`ServerSession`] to the host the router, a cursor
//! pin or a transaction pin chooses, and the upstream's reply goes back as-is. The handshake and the
//! proxy's own commands (serverStatus, connPoolStats, currentOp, proxyStats...) are answered locally,
//! and so are authentication and user management (against the proxy's own users); with `--auth`, a
//! request is forwarded only if the client's user may run it ([`crate::auth_gate`]).
//!
//! Failover: a transport failure or a not-primary reply is reported to the replica-set monitor; requests
//! that are safe to repeat (retryable reads; writes with lsid + txnNumber outside a transaction) are
//! retried once on a freshly selected host; a transaction on a failed host ends with an error labelled
//! TransientTransactionError; cursors on a failed host are forgotten, so their getMore reaches the new
//! primary, which answers CursorNotFound.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use docwire_executor::sdam::is_state_change_error;
use docwire_pool::{ClientConnection, ConnectionPool};
use docwire_rpc::{
    ErrorCode, Message, OpCode, OpMsg, OpMsgFlags, ReplyBuilder, ReplyProtocol, Status, StatusResult,
    set_more_to_come, set_op_msg_flags, strip_checksum,
};
use docwire_service::{Client, Clock, ClockTime, Decoration, LogicalOp, RecordedCommand};
use docwire_transport::auth::{AuthorizationManager, redact};
use docwire_transport::commands::OpCounters;
use docwire_transport::{CommandEntryPoint, DbResponse, RequestContext, ServiceEntryPoint};

use crate::auth_gate::{Gate, is_upstream_auth_failure, upstream_auth_error};
use crate::client_session::{ClientSession, ClientSessionState, ExhaustStream};
use crate::handshake::UpstreamLimits;
use crate::pins::Pins;
use crate::reply::{ReplySummary, summarize};
use crate::request::RequestInfo;
use crate::request_log::{RequestLog, RequestRecord};
use crate::rewrite::{no_transactions_on_standalone, without_body_fields};
use crate::router::{ProxyMode, Router};
use crate::server_session::{ServerSession, unreachable};
use crate::shadow::compare_replies;
use crate::stats::ProxyStats;

/// The commands the proxy answers itself (over OP_MSG and OP_QUERY alike): the handshake, its own
/// state, and authentication and user management against its own users (never forwarded: upstream
/// connections are pooled and shared, and authenticating one for a client would lend that client's
/// identity to every other). Everything else goes upstream.
pub const LOCAL_COMMANDS: [&str; 23] = [
    "hello",
    "isMaster",
    "ismaster",
    "serverStatus",
    "connPoolStats",
    "dropConnections",
    "currentOp",
    "killOp",
    "proxyStats",
    "whatsmyuri",
    "getCmdLineOpts",
    "listCommands",
    "connectionStatus",
    "saslStart",
    "saslContinue",
    "logout",
    "createUser",
    "updateUser",
    "dropUser",
    "dropAllUsersFromDatabase",
    "grantRolesToUser",
    "revokeRolesFromUser",
    "usersInfo",
];

/// The handshake commands.
pub const HANDSHAKE_COMMANDS: [&str; 3] = ["hello", "isMaster", "ismaster"];

/// Reads whose replies shadow mode compares.
const SHADOWED_READS: [&str; 4] = ["find", "aggregate", "count", "distinct"];

/// Everything a proxy's request path shares.
pub struct ProxyParts {
    /// The upstream connection pool.
    pub pool: Arc<ConnectionPool<ClientConnection>>,
    /// Host selection.
    pub router: Router,
    /// Cursor and transaction pins.
    pub pins: Arc<Pins>,
    /// Answers the handshake and the proxy's own commands.
    pub local: CommandEntryPoint,
    /// The upstream's limits, for the handshake.
    pub limits: Arc<UpstreamLimits>,
    /// Per-command statistics.
    pub stats: Arc<ProxyStats>,
    /// The request log.
    pub log: RequestLog,
    /// The shadow upstream (shadow mode).
    pub shadow: Option<String>,
    /// The proxy's clock.
    pub clock: Arc<dyn Clock>,
    /// Each client connection's session.
    pub client_sessions: Decoration<Client, Mutex<ClientSession>>,
    /// opcounters for serverStatus.
    pub op_counters: Arc<OpCounters>,
    /// How long a request waits for an upstream connection.
    pub checkout_timeout: Duration,
    /// The clients' authentication on the proxy, and (with `--auth`) the gate before forwarding.
    pub auth: Arc<AuthorizationManager>,
}

/// The proxy's ServiceEntryPoint.
pub struct ProxyEntryPoint {
    parts: Arc<ProxyParts>,
}

/// What forwarding produced, for the reply, the log and the stats.
struct Forwarded {
    response: DbResponse,
    host: Option<String>,
    summary: ReplySummary,
    bytes_out: usize,
    retried: bool,
}

impl Forwarded {
    fn failed(status: &Status, host: Option<String>) -> StatusResult<Forwarded> {
        Forwarded::error_reply(status, host, None)
    }

    fn error_reply(status: &Status, host: Option<String>, label: Option<&str>) -> StatusResult<Forwarded> {
        let mut reply = ReplyBuilder::new(ReplyProtocol::OpMsg);
        reply.set_command_status(status);
        if let Some(label) = label {
            reply
                .body_mut()
                .insert("errorLabels", vec![Bson::String(label.to_owned())]);
        }
        let message = reply.done()?.message;
        Ok(Forwarded {
            bytes_out: message.len(),
            response: DbResponse::reply(message),
            host,
            summary: ReplySummary {
                ok: false,
                code: status.code().code(),
                code_name: Some(status.code().code_name()),
                ..ReplySummary::default()
            },
            retried: false,
        })
    }
}

/// The outgoing copy of a client's OP_MSG: the same bytes, without a checksum (the ids change).
fn outgoing(request: &Message) -> Message {
    let mut message = request.clone();
    strip_checksum(&mut message);
    message
}

fn has_more_to_come(reply: &Message) -> bool {
    reply.op_code() == OpCode::Msg
        && reply
            .data()
            .first_chunk::<4>()
            .is_some_and(|flags| docwire_rpc::OpMsgFlags(u32::from_le_bytes(*flags)).more_to_come())
}

impl ProxyEntryPoint {
    /// An entry point over `parts`.
    pub fn new(parts: ProxyParts) -> ProxyEntryPoint {
        ProxyEntryPoint {
            parts: Arc::new(parts),
        }
    }

    /// The shared parts (pool, router, pins, stats).
    pub fn parts(&self) -> &Arc<ProxyParts> {
        &self.parts
    }

    fn now(&self) -> ClockTime {
        self.parts.clock.now()
    }

    fn client_session<'c>(&self, client: &'c Client) -> Option<&'c Mutex<ClientSession>> {
        client.decoration(self.parts.client_sessions)
    }

    fn set_state(&self, client: &Client, state: ClientSessionState) {
        if let Some(session) = self.client_session(client) {
            let mut session = session.lock().unwrap_or_else(PoisonError::into_inner);
            session.state = state;
            if state == ClientSessionState::Query {
                session.requests += 1;
            }
        }
    }

    fn take_stream(&self, client: &Client) -> Option<ExhaustStream> {
        self.client_session(client)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stream
            .take()
    }

    fn put_stream(&self, client: &Client, stream: ExhaustStream) {
        if let Some(session) = self.client_session(client) {
            session.lock().unwrap_or_else(PoisonError::into_inner).stream = Some(stream);
        }
    }

    /// The host a request goes to first, and the held connection of a session-less cursor.
    async fn target(
        &self,
        info: &RequestInfo,
        now: ClockTime,
    ) -> StatusResult<(String, Option<docwire_pool::ConnectionHandle<ClientConnection>>)> {
        let parts = &self.parts;
        match info.command.as_str() {
            "getMore" => {
                if let Some(&id) = info.cursor_ids.first()
                    && let Some(pin) = parts.pins.take_cursor(id, &info.namespace(), now)
                {
                    return Ok((pin.host, pin.connection));
                }
                // Unknown here (expired, or its host failed): the primary answers CursorNotFound.
                Ok((parts.router.select_primary().await?, None))
            }
            "killCursors" => {
                // The first pinned cursor decides the host (and, outside a session, the connection that
                // owns it); the others are unpinned once the reply is in.
                let pinned = info
                    .cursor_ids
                    .iter()
                    .find_map(|&id| parts.pins.take_cursor(id, &info.namespace(), now));
                match pinned {
                    Some(pin) => Ok((pin.host, pin.connection)),
                    None => Ok((parts.router.select_primary().await?, None)),
                }
            }
            _ if info.in_transaction() => {
                let lsid = info.lsid.as_ref();
                if !info.start_transaction
                    && let Some(host) = lsid.and_then(|l| parts.pins.transaction_host(l, now))
                {
                    return Ok((host, None));
                }
                let host = parts.router.select_primary().await?;
                if let Some(lsid) = lsid {
                    parts.pins.pin_transaction(lsid, &host, now);
                }
                Ok((host, None))
            }
            _ => Ok((parts.router.select(info).await?, None)),
        }
    }

    /// Forwards one request, retrying once where that is safe.
    async fn forward(
        &self,
        client: &Client,
        msg: &OpMsg,
        request: &Message,
        info: &RequestInfo,
    ) -> StatusResult<Forwarded> {
        let parts = &self.parts;
        let flags = msg.flags();
        // The state machine's synthesized continuation of an exhaust getMore.
        if flags.exhaust_allowed()
            && info.command == "getMore"
            && let Some(stream) = self.take_stream(client)
        {
            return self.continue_stream(client, info, stream).await;
        }
        let now = self.now();
        let (mut host, mut held) = match self.target(info, now).await {
            Ok(target) => target,
            Err(status) => return Forwarded::failed(&status, None),
        };
        // A standalone refuses txnNumber: drop it from retryable writes, refuse transactions as it does.
        let standalone = info.txn_number.is_some() && parts.router.is_standalone(&host);
        if standalone && info.autocommit.is_some() {
            if let Some(lsid) = &info.lsid {
                parts.pins.unpin_transaction(lsid);
            }
            return Forwarded::failed(&no_transactions_on_standalone(), Some(host));
        }
        let message = if standalone {
            without_body_fields(msg, &["txnNumber"])?
        } else {
            outgoing(request)
        };
        let retryable = info.is_retryable() && !standalone;
        let mut retried = false;
        loop {
            let session = match held.take() {
                Some(connection) => ServerSession::resume(&host, connection),
                None => ServerSession::checkout(&parts.pool, &host, parts.checkout_timeout).await,
            };
            let mut session = match session {
                Ok(session) => session,
                Err(status) if is_upstream_auth_failure(&status) => {
                    // The host is up and refused the proxy's credentials: nothing to fail over from.
                    tracing::warn!(upstream = %host, %status,
                        "the proxy cannot authenticate to its upstream");
                    return Forwarded::failed(&upstream_auth_error(&status), Some(host));
                }
                Err(status) => match self
                    .after_failure(info, &host, &status, retryable && !retried)
                    .await
                {
                    Some(next) => {
                        host = next;
                        retried = true;
                        continue;
                    }
                    None => return self.failure_reply(info, &host, &status, retried),
                },
            };
            if !parts.limits.is_known()
                && let Some(hello) = session.upstream_hello()
            {
                parts.limits.learn(&hello);
            }
            if flags.more_to_come() {
                // Sent as a request that gets a reply, which the client never sees: the write is applied
                // before this client's next request is read, so a w:0 write and the read after it stay in
                // order even though they may go over different upstream connections (as on one mongod
                // connection). The client still waits for nothing.
                let mut acknowledged = message;
                set_op_msg_flags(&mut acknowledged, flags.without(OpMsgFlags::MORE_TO_COME));
                let outcome = session.round_trip(acknowledged).await;
                session.reset();
                let summary = match &outcome {
                    Ok(reply) => summarize(reply)?,
                    Err(status) => {
                        parts.router.report(&host, &Err(status.clone()));
                        tracing::debug!(upstream = %host, %status, "a moreToCome request was not forwarded");
                        ReplySummary {
                            code: status.code().code(),
                            code_name: Some(status.code().code_name()),
                            ..ReplySummary::default()
                        }
                    }
                };
                return Ok(Forwarded {
                    response: DbResponse::none(),
                    host: Some(host),
                    summary,
                    bytes_out: 0,
                    retried,
                });
            }
            let reply = match session.round_trip(message.clone()).await {
                Ok(reply) => reply,
                Err(status) => {
                    session.reset();
                    match self
                        .after_failure(info, &host, &status, retryable && !retried)
                        .await
                    {
                        Some(next) => {
                            host = next;
                            retried = true;
                            continue;
                        }
                        None => return self.failure_reply(info, &host, &status, retried),
                    }
                }
            };
            let summary = summarize(&reply)?;
            if let Some(error) = summary.error.as_ref().filter(|e| is_state_change_error(e)) {
                parts.router.report(&host, &Ok(error.clone()));
                if retryable
                    && !retried
                    && let Ok(next) = parts.router.select(info).await
                {
                    session.reset();
                    parts.stats.record_retry(&info.command);
                    host = next;
                    retried = true;
                    continue;
                }
            }
            return Ok(self.finish(
                client,
                info,
                session,
                host,
                reply,
                summary,
                flags.exhaust_allowed(),
                retried,
            ));
        }
    }

    /// After a transport failure on `host`: reports it, forgets its cursors and transaction pins, and
    /// returns the host to retry on, if a retry is allowed and one can be selected.
    async fn after_failure(
        &self,
        info: &RequestInfo,
        host: &str,
        status: &Status,
        may_retry: bool,
    ) -> Option<String> {
        let parts = &self.parts;
        parts.router.report(host, &Err(status.clone()));
        let lost = parts.pins.drop_host(host);
        parts.pool.drop_connections_to(host);
        tracing::warn!(upstream = %host, %status, cursors_lost = lost, command = %info.command,
            "upstream failed");
        if !may_retry {
            return None;
        }
        parts.stats.record_retry(&info.command);
        parts.router.select(info).await.ok()
    }

    fn failure_reply(
        &self,
        info: &RequestInfo,
        host: &str,
        status: &Status,
        retried: bool,
    ) -> StatusResult<Forwarded> {
        let status = unreachable(host, status);
        let label = if info.in_transaction() {
            if let Some(lsid) = &info.lsid {
                self.parts.pins.unpin_transaction(lsid);
            }
            // The transaction died with its host: the driver may run it again from the start.
            Some("TransientTransactionError")
        } else {
            None
        };
        let mut forwarded = Forwarded::error_reply(&status, Some(host.to_owned()), label)?;
        forwarded.retried = retried;
        Ok(forwarded)
    }

    /// Pins what the reply opened, returns the connection, and shapes the response.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        client: &Client,
        info: &RequestInfo,
        session: ServerSession,
        host: String,
        mut reply: Message,
        summary: ReplySummary,
        exhaust_allowed: bool,
        retried: bool,
    ) -> Forwarded {
        let parts = &self.parts;
        let now = self.now();
        if info.ends_transaction()
            && let Some(lsid) = &info.lsid
        {
            parts.pins.unpin_transaction(lsid);
        }
        if info.command == "killCursors" {
            for &id in &info.cursor_ids {
                parts.pins.unpin_cursor(id, &info.namespace());
            }
        }
        let mut next_invocation = None;
        match summary.cursor.clone() {
            Some((id, ns)) if id != 0 && exhaust_allowed && has_more_to_come(&reply) => {
                // The upstream streams the rest: keep its connection with this client until the end.
                let collection = ns.split_once('.').map_or(ns.as_str(), |(_, c)| c).to_owned();
                next_invocation = Some(doc! {"getMore": id, "collection": collection, "$db": &info.db});
                let last_reply_id = reply.request_id();
                self.put_stream(
                    client,
                    ExhaustStream {
                        session,
                        last_reply_id,
                        cursor: (id, ns),
                    },
                );
            }
            Some((id, ns)) if id != 0 => {
                let ns = if ns.is_empty() { info.namespace() } else { ns };
                // A cursor outside a logical session belongs to its upstream connection.
                if info.lsid.is_none() {
                    drop(
                        parts
                            .pins
                            .pin_cursor(id, &ns, &host, Some(session.into_connection()), now),
                    );
                } else {
                    parts.pins.pin_cursor(id, &ns, &host, None, now);
                    session.reset();
                }
            }
            _ => session.reset(),
        }
        set_more_to_come(&mut reply, false);
        let bytes_out = reply.len();
        Forwarded {
            response: DbResponse {
                response: Some(reply),
                next_invocation,
            },
            host: Some(host),
            summary,
            bytes_out,
            retried,
        }
    }

    /// The next reply of a running exhaust stream.
    async fn continue_stream(
        &self,
        client: &Client,
        info: &RequestInfo,
        mut stream: ExhaustStream,
    ) -> StatusResult<Forwarded> {
        let host = stream.session.host().to_owned();
        let reply = match stream.session.next_in_stream(stream.last_reply_id).await {
            Ok(reply) => reply,
            Err(status) => {
                self.parts.router.report(&host, &Err(status.clone()));
                return self.failure_reply(info, &host, &status, false);
            }
        };
        let summary = summarize(&reply)?;
        if has_more_to_come(&reply) {
            stream.last_reply_id = reply.request_id();
            let (id, ns) = stream.cursor.clone();
            let collection = ns.split_once('.').map_or(ns.as_str(), |(_, c)| c).to_owned();
            self.put_stream(client, stream);
            let mut reply = reply;
            set_more_to_come(&mut reply, false);
            let bytes_out = reply.len();
            return Ok(Forwarded {
                response: DbResponse {
                    response: Some(reply),
                    next_invocation: Some(doc! {"getMore": id, "collection": collection, "$db": &info.db}),
                },
                host: Some(host),
                summary,
                bytes_out,
                retried: false,
            });
        }
        // The last batch: the stream is over and the connection is in step again.
        Ok(self.finish(client, info, stream.session, host, reply, summary, false, false))
    }

    /// Shadow mode: sends the read to the shadow upstream too and logs how its reply differs.
    fn shadow(&self, request: &Message, info: &RequestInfo, primary: &Message) {
        let parts = &self.parts;
        let Some(shadow) = parts.shadow.clone() else {
            return;
        };
        if parts.router.mode() != ProxyMode::Shadow || !SHADOWED_READS.contains(&info.command.as_str()) {
            return;
        }
        let (message, primary, pool) = (outgoing(request), primary.clone(), Arc::clone(&parts.pool));
        let (command, ns, timeout) = (info.command.clone(), info.namespace(), parts.checkout_timeout);
        tokio::spawn(async move {
            let result = async {
                let mut session = ServerSession::checkout(&pool, &shadow, timeout).await?;
                let reply = session.round_trip(message).await?;
                let decode = |m: &Message| -> StatusResult<Document> {
                    Document::try_from(OpMsg::parse(m)?.body())
                        .map_err(|e| Status::new(ErrorCode::InvalidBSON, e.to_string()))
                };
                let (ours, theirs) = (decode(&primary)?, decode(&reply)?);
                // The shadow's cursor stays open otherwise.
                if let Some((id, cursor_ns)) = summarize(&reply)?.cursor.filter(|(id, _)| *id != 0) {
                    let (db, coll) = cursor_ns.split_once('.').unwrap_or((cursor_ns.as_str(), ""));
                    let kill = docwire_rpc::OpMsgBuilder::new(docwire_rpc::OpMsgFlags::NONE)
                        .finish_with_body(&doc! {"killCursors": coll, "cursors": [id], "$db": db})?;
                    let _ = session.round_trip(kill).await;
                }
                session.reset();
                Ok::<_, Status>(compare_replies(&ours, &theirs))
            }
            .await;
            match result {
                Ok(differences) if differences.is_empty() => {
                    tracing::debug!(target: "docwire::proxy::shadow", %command, %ns, "shadow reply matches");
                }
                Ok(differences) => {
                    let shown: Vec<String> = differences
                        .iter()
                        .map(|d| format!("{}: {:?} != {:?}", d.path, d.primary, d.shadow))
                        .collect();
                    tracing::warn!(target: "docwire::proxy::shadow", %command, %ns, upstream = %shadow,
                        differences = differences.len(), detail = %shown.join("; "),
                        "shadow reply differs");
                }
                Err(status) => {
                    tracing::warn!(target: "docwire::proxy::shadow", %command, %ns, upstream = %shadow,
                        %status, "shadow request failed");
                }
            }
        });
    }
}

#[async_trait]
impl ServiceEntryPoint for ProxyEntryPoint {
    async fn handle_request(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &Message,
    ) -> StatusResult<DbResponse> {
        let parts = &self.parts;
        if request.op_code() != OpCode::Msg {
            return parts.local.handle_request(ctx, request).await;
        }
        // Malformed requests and a missing command or $db get the local entry point's mongod-shaped
        // answers.
        let Ok(msg) = OpMsg::parse(request) else {
            return parts.local.handle_request(ctx, request).await;
        };
        let (Ok(name), Ok(database)) = (msg.command_name(), msg.database()) else {
            return parts.local.handle_request(ctx, request).await;
        };
        if LOCAL_COMMANDS.contains(&name) {
            return parts.local.handle_request(ctx, request).await;
        }
        if let Gate::Refused(response) = crate::auth_gate::check(&parts.auth, ctx, &msg, name, database)? {
            return Ok(response);
        }
        let info = match RequestInfo::parse(&msg) {
            Ok(info) => info,
            Err(status) => {
                let mut reply = ReplyBuilder::new(ReplyProtocol::OpMsg);
                reply.set_command_status(&status);
                return Ok(DbResponse::reply(reply.done()?.message));
            }
        };
        let op = LogicalOp::of_command(&info.command);
        // The real body, shared with the message: decoded, with its secrets blanked, only if currentOp asks.
        let shown = RecordedCommand::new(msg.body_bytes()).with_redaction(redact);
        ctx.op_ctx.set_command(op, info.namespace(), shown);
        parts.op_counters.record(op);

        let client = Arc::clone(ctx.client.client());
        let started = self.now();
        self.set_state(&client, ClientSessionState::Query);
        let forwarded = self.forward(&client, &msg, request, &info).await;
        self.set_state(&client, ClientSessionState::Ready);
        let forwarded = forwarded?;
        let latency = self.now().saturating_duration_since(started);

        parts.stats.record(&info.command, latency, forwarded.summary.ok);
        parts.log.record_with(latency, || RequestRecord {
            client_id: client.connection_id(),
            command: info.command.clone(),
            db: info.db.clone(),
            collection: info.collection.clone(),
            upstream: forwarded.host.clone(),
            bytes_in: request.len(),
            bytes_out: forwarded.bytes_out,
            latency,
            code: forwarded.summary.code,
            code_name: forwarded.summary.code_name.clone(),
            retried: forwarded.retried,
        });
        if parts.shadow.is_some()
            && let Some(reply) = &forwarded.response.response
        {
            self.shadow(request, &info, reply);
        }
        Ok(forwarded.response)
    }

    async fn kill_exhaust_cursor(&self, ctx: &mut RequestContext<'_>, _command: &Document) {
        // Dropping the stream discards its connection (it is mid-reply), and the upstream kills the
        // cursor of a connection that closes.
        drop(self.take_stream(ctx.client.client()));
    }
}
