//! `CommandEntryPoint`: the `ServiceEntryPoint` that parses OP_MSG and legacy OP_QUERY requests, finds
//! the command in a `CommandRegistry`, runs it, and builds the reply, with mongod's rules for errors.

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Document, RawBsonRef};
use docwire_rpc::{
    ErrorCode, Message, OpCode, OpMsg, OpQuery, ReplyBuilder, ReplyProtocol, Status, StatusResult,
};
use docwire_service::{LogicalOp, RecordedCommand};

use crate::auth::{AuthorizationManager, redact};
use crate::command::{CommandRegistry, CommandRequest};
use crate::commands::OpCounters;
use crate::service_entry_point::{DbResponse, RequestContext, ServiceEntryPoint};
use crate::tags;

/// Runs commands from a registry.
#[derive(Clone)]
pub struct CommandEntryPoint {
    registry: Arc<CommandRegistry>,
    op_counters: Option<Arc<OpCounters>>,
    auth: Option<Arc<AuthorizationManager>>,
}

impl CommandEntryPoint {
    /// An entry point over `registry`.
    pub fn new(registry: Arc<CommandRegistry>) -> CommandEntryPoint {
        CommandEntryPoint {
            registry,
            op_counters: None,
            auth: None,
        }
    }

    /// Authenticates and, with `--auth`, authorizes every command through `auth`.
    pub fn with_auth(mut self, auth: Arc<AuthorizationManager>) -> CommandEntryPoint {
        self.auth = Some(auth);
        self
    }

    /// Counts every command run in `counters` (serverStatus.opcounters).
    pub fn with_op_counters(mut self, counters: Arc<OpCounters>) -> CommandEntryPoint {
        self.op_counters = Some(counters);
        self
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<CommandRegistry> {
        &self.registry
    }

    async fn run_command(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let command = self.registry.find(request.name);
        // Over OP_QUERY only the handshake commands exist, as in mongod: anything else is 352, known or not.
        if request.protocol == ReplyProtocol::OpReply && !command.is_some_and(|c| c.allowed_over_op_query()) {
            return Err(unsupported_op_query(request.name));
        }
        let Some(command) = command else {
            return Err(Status::new(
                ErrorCode::CommandNotFound,
                format!("no such command: '{}'", request.name),
            ));
        };
        if let Some(auth) = &self.auth {
            auth.check_command(ctx.client, ctx.session.map(|s| s.as_ref()), request)?;
        }
        // currentOp's `op` and opcounters, as mongod classifies commands.
        let logical_op = LogicalOp::of_command(request.name);
        // A command naming a collection runs on `db.collection`; others on `db.$cmd`.
        let namespace = match request.field(request.name) {
            Some(RawBsonRef::String(collection)) if !collection.is_empty() => {
                format!("{}.{collection}", request.database)
            }
            _ => format!("{}.$cmd", request.database),
        };
        // The body's bytes (shared with the OP_MSG, copied from an OP_QUERY), decoded only if currentOp
        // asks; passwords and SASL payloads are blanked then, so they never reach it.
        let recorded = match request.op_msg {
            Some(msg) => RecordedCommand::new(msg.body_bytes()),
            None => RecordedCommand::from_raw(request.body),
        };
        ctx.op_ctx
            .set_command(logical_op, namespace, recorded.with_redaction(redact));
        if let Some(counters) = &self.op_counters {
            counters.record(logical_op);
        }
        if let Some(max_time) = request.field("maxTimeMS") {
            let ms = match max_time {
                RawBsonRef::Int32(v) => i64::from(v),
                RawBsonRef::Int64(v) => v,
                RawBsonRef::Double(v) if v.fract() == 0.0 => v as i64,
                _ => return Err(Status::new(ErrorCode::BadValue, "maxTimeMS must be a number")),
            };
            ctx.op_ctx.set_max_time_ms(ms)?;
        }
        ctx.op_ctx.check_for_interrupt()?;
        command.run(ctx, request, reply).await?;
        if command.is_handshake()
            && let Some(session) = ctx.session
        {
            session.mutate_tags(|t| (t & !tags::PENDING) | tags::EXTERNAL_CLIENT_KEEP_OPEN);
        }
        Ok(())
    }

    async fn handle_op_msg(
        &self,
        ctx: &mut RequestContext<'_>,
        message: &Message,
    ) -> StatusResult<DbResponse> {
        let msg = match OpMsg::parse(message) {
            Ok(msg) => msg,
            Err(status) if is_connection_fatal(status.code()) => return Err(status),
            Err(status) => {
                // A malformed OP_MSG that is not connection-fatal gets an error reply, unless the
                // request said it wants none.
                if flags_say_more_to_come(message) {
                    return Ok(DbResponse::none());
                }
                return error_reply(ReplyProtocol::OpMsg, &status);
            }
        };
        let more_to_come = msg.flags().more_to_come();
        let mut reply = ReplyBuilder::new(ReplyProtocol::OpMsg);
        let result = match (msg.command_name(), msg.database()) {
            (Ok(name), Ok(database)) => {
                let request = CommandRequest {
                    name,
                    database,
                    body: msg.body(),
                    op_msg: Some(&msg),
                    exhaust_allowed: msg.flags().exhaust_allowed(),
                    more_to_come,
                    protocol: ReplyProtocol::OpMsg,
                    auth: self.auth.as_deref(),
                };
                self.run_command(ctx, &request, &mut reply).await
            }
            (Err(status), _) | (_, Err(status)) => Err(status),
        };
        if let Err(status) = result {
            reply.set_command_status(&status);
        }
        if more_to_come {
            return Ok(DbResponse::none());
        }
        let built = reply.done()?;
        Ok(DbResponse {
            response: Some(built.message),
            next_invocation: built.next_invocation,
        })
    }

    async fn handle_op_query(
        &self,
        ctx: &mut RequestContext<'_>,
        message: &Message,
    ) -> StatusResult<DbResponse> {
        let query = OpQuery::parse(message)?;
        let mut reply = ReplyBuilder::new(ReplyProtocol::OpReply);
        let result = if !query.is_command() {
            Err(Status::new(
                ErrorCode::UnsupportedOpQueryCommand,
                "OP_QUERY is no longer supported. The client driver may require an upgrade.",
            ))
        } else {
            match query.command_name() {
                Ok(name) => {
                    let request = CommandRequest {
                        name,
                        database: query.database(),
                        body: query.command(),
                        op_msg: None,
                        exhaust_allowed: false,
                        more_to_come: false,
                        protocol: ReplyProtocol::OpReply,
                        auth: self.auth.as_deref(),
                    };
                    self.run_command(ctx, &request, &mut reply).await
                }
                Err(status) => Err(status),
            }
        };
        if let Err(status) = result {
            reply.set_command_status(&status);
        }
        Ok(DbResponse::reply(reply.done()?.message))
    }
}

#[async_trait]
impl ServiceEntryPoint for CommandEntryPoint {
    async fn handle_request(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &Message,
    ) -> StatusResult<DbResponse> {
        // Over the unauthenticated-connection limits the connection closes without a reply.
        if let Some(auth) = &self.auth {
            auth.check_connection(ctx.client)?;
        }
        match request.op_code() {
            OpCode::Msg => self.handle_op_msg(ctx, request).await,
            OpCode::Query => self.handle_op_query(ctx, request).await,
            other => Err(Status::new(
                ErrorCode::ProtocolError,
                format!("Operation isn't supported: {} ({})", other, other.code()),
            )),
        }
    }

    async fn kill_exhaust_cursor(&self, ctx: &mut RequestContext<'_>, command: &Document) {
        let (Ok(cursor_id), Ok(collection), Ok(db)) = (
            command.get_i64("getMore"),
            command.get_str("collection"),
            command.get_str("$db"),
        ) else {
            return;
        };
        let kill = bson::doc! {"killCursors": collection, "cursors": [cursor_id], "$db": db};
        let Ok(message) = docwire_rpc::OpMsgBuilder::default().finish_with_body(&kill) else {
            return;
        };
        let _ = self.handle_op_msg(ctx, &message).await;
    }
}

/// Parse errors after which mongod closes the connection instead of replying.
fn is_connection_fatal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::IllegalOpMsgFlag | ErrorCode::TooManyDocumentSequences | ErrorCode::ChecksumMismatch
    )
}

fn flags_say_more_to_come(message: &Message) -> bool {
    let d = message.data();
    d.len() >= 4
        && u32::from_le_bytes([d[0], d[1], d[2], d[3]]) & docwire_rpc::OpMsgFlags::MORE_TO_COME.0 != 0
}

fn error_reply(protocol: ReplyProtocol, status: &Status) -> StatusResult<DbResponse> {
    let mut reply = ReplyBuilder::new(protocol);
    reply.set_command_status(status);
    Ok(DbResponse::reply(reply.done()?.message))
}

fn unsupported_op_query(name: &str) -> Status {
    Status::new(
        ErrorCode::UnsupportedOpQueryCommand,
        format!(
            "Unsupported OP_QUERY command: {name}. The client driver may require an upgrade. For more details see \
             https://dochub.mongodb.org/core/legacy-opcode-removal"
        ),
    )
}
