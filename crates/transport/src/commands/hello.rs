//! `hello` (and its legacy aliases `isMaster` / `ismaster`): the handshake. Records the client metadata,
//! negotiates compression, reports the limits and wire versions, and implements the awaitable hello
//! (wait on the topology version) that drivers' monitors stream with exhaust.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bson::{Bson, DateTime, Document, oid::ObjectId};
use docwire_rpc::limits::{MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES, MAX_WRITE_BATCH_SIZE};
use docwire_rpc::{Compressor, ErrorCode, ReplyBuilder, Status, StatusResult, negotiate};
use docwire_service::ClientMetadata;

use crate::auth::AuthorizationManager;
use crate::command::{Command, CommandRequest};
use crate::commands::sasl;
use crate::commands::topology::{TopologyState, topology_version_document};
use crate::commands::util::as_i64;
use crate::service_entry_point::RequestContext;

/// The oldest wire version served.
pub const MIN_WIRE_VERSION: i32 = 0;
/// The newest wire version served (MongoDB 8.0).
pub const MAX_WIRE_VERSION: i32 = 25;
/// The compressors hello offers, as mongod's default `net.compression.compressors`.
pub const SUPPORTED_COMPRESSORS: [Compressor; 3] = [Compressor::Snappy, Compressor::Zstd, Compressor::Zlib];

/// mongod's default logicalSessionTimeoutMinutes.
const LOGICAL_SESSION_TIMEOUT_MINUTES: i32 = 30;

/// The hello command.
pub struct Hello {
    topology: Arc<TopologyState>,
    replica_set: Option<Arc<dyn ReplicaSetView>>,
}

/// What a replica-set member reports in hello, taken at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaSetHello {
    /// Whether the member accepts writes (hello's `isWritablePrimary`, the legacy `ismaster`).
    pub is_writable_primary: bool,
    /// The member's other fields (setName, setVersion, hosts, me, primary, secondary, electionId).
    pub fields: Document,
}

/// The hook through which a replica-set member (the executor crate's replication coordinator) shapes
/// hello. A server without one answers as a standalone: always a writable primary, no set fields. The
/// member bumps the [`TopologyState`] after every change it makes to what this returns.
pub trait ReplicaSetView: Send + Sync + 'static {
    /// The member's hello fields now.
    fn hello(&self) -> ReplicaSetHello;
}

impl Hello {
    /// hello reporting (and waiting on) `topology`, as a standalone.
    pub fn new(topology: Arc<TopologyState>) -> Hello {
        Hello {
            topology,
            replica_set: None,
        }
    }

    /// hello for a replica-set member: the role and set fields come from `view`.
    pub fn with_replica_set(topology: Arc<TopologyState>, view: Arc<dyn ReplicaSetView>) -> Hello {
        Hello {
            topology,
            replica_set: Some(view),
        }
    }
}

/// The client's `topologyVersion`.
struct ClientTopologyVersion {
    process_id: ObjectId,
    counter: i64,
}

#[async_trait]
impl Command for Hello {
    fn names(&self) -> &'static [&'static str] {
        &["hello", "isMaster", "ismaster"]
    }

    fn help(&self) -> &'static str {
        "Check if this server is primary for a replica set\n{ hello : 1 }"
    }

    fn allowed_over_op_query(&self) -> bool {
        true
    }

    fn is_handshake(&self) -> bool {
        true
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let cmd = request.merged()?;
        if let Some(client) = cmd.get("client") {
            let Bson::Document(client) = client else {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "The 'client' field is the wrong type in the client metadata document",
                ));
            };
            // The metadata is set once per connection, by the first hello; mongod refuses it later.
            ctx.client.set_metadata(ClientMetadata::parse(client.clone())?)?;
        }
        let client_tv = parse_topology_version(&cmd)?;
        let max_await =
            match cmd.get("maxAwaitTimeMS") {
                None => None,
                Some(v) => Some(as_i64(v).ok_or_else(|| {
                    Status::new(ErrorCode::TypeMismatch, "maxAwaitTimeMS must be an integer")
                })?),
            };
        match (&client_tv, max_await) {
            (Some(tv), Some(ms)) => {
                if tv.counter < 0 {
                    return Err(Status::new(
                        31372,
                        "topologyVersion must have a non-negative counter",
                    ));
                }
                if ms < 0 {
                    return Err(Status::new(
                        31373,
                        "maxAwaitTimeMS must be a non-negative integer",
                    ));
                }
            }
            (Some(_), None) => {
                return Err(Status::new(
                    31368,
                    "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'",
                ));
            }
            (None, Some(_)) => {
                return Err(Status::new(
                    31368,
                    "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'",
                ));
            }
            (None, None) => {}
        }
        if request.exhaust_allowed && max_await.is_none() {
            return Err(Status::new(
                51756,
                "An isMaster or hello request with exhaust must specify 'maxAwaitTimeMS'",
            ));
        }
        if let (Some(tv), Some(ms)) = (&client_tv, max_await) {
            self.await_topology_change(ctx, tv, ms).await?;
        }

        let counter = self.topology.counter();
        let topology_version = topology_version_document(self.topology.process_id(), counter);
        let mut body = self.reply_body(ctx, request, &cmd, topology_version.clone())?;
        if let Some(auth) = request.auth {
            add_auth_fields(auth, ctx, &cmd, &mut body).await?;
        }
        reply.set_command_reply(body);
        if request.exhaust_allowed {
            reply.set_next_invocation(next_invocation(&cmd, topology_version));
        }
        Ok(())
    }
}

impl Hello {
    /// The awaitable hello's wait: while the client already has the current topology version, wait up
    /// to `max_await_ms` (on the ServiceContext's clock, interruptible) for it to change.
    async fn await_topology_change(
        &self,
        ctx: &mut RequestContext<'_>,
        tv: &ClientTopologyVersion,
        max_await_ms: i64,
    ) -> StatusResult<()> {
        // A different processId means the client saw another incarnation: answer at once.
        if tv.process_id != self.topology.process_id() {
            return Ok(());
        }
        let current = self.topology.counter();
        if tv.counter > current {
            return Err(Status::new(
                31382,
                format!(
                    "Received a topology version with the same process ID and a higher counter than \
                     the server's (client: {}, server: {current})",
                    tv.counter
                ),
            ));
        }
        if tv.counter < current {
            return Ok(());
        }
        let wait = Duration::from_millis(u64::try_from(max_await_ms).unwrap_or(0));
        let until = ctx.op_ctx.service_context().now().saturating_add(wait);
        ctx.op_ctx
            .wait_for_condition_or_interrupt_async(Some(until), self.topology.changed_from(current))
            .await?;
        Ok(())
    }

    fn reply_body(
        &self,
        ctx: &RequestContext<'_>,
        request: &CommandRequest<'_>,
        cmd: &Document,
        topology_version: Document,
    ) -> StatusResult<Document> {
        let mut body = Document::new();
        if cmd.contains_key("helloOk") {
            body.insert("helloOk", true);
        }
        // hello says isWritablePrimary; the legacy names keep the old field.
        let primary_field = if request.name == "hello" {
            "isWritablePrimary"
        } else {
            "ismaster"
        };
        let member = self.replica_set.as_ref().map(|view| view.hello());
        body.insert(
            primary_field,
            member.as_ref().is_none_or(|m| m.is_writable_primary),
        );
        if let Some(member) = member {
            body.extend(member.fields);
        }
        body.insert("topologyVersion", topology_version);
        body.insert("maxBsonObjectSize", size_i32(MAX_BSON_OBJECT_SIZE));
        body.insert("maxMessageSizeBytes", size_i32(MAX_MESSAGE_SIZE_BYTES));
        body.insert("maxWriteBatchSize", size_i32(MAX_WRITE_BATCH_SIZE));
        body.insert("localTime", DateTime::now());
        body.insert("logicalSessionTimeoutMinutes", LOGICAL_SESSION_TIMEOUT_MINUTES);
        let connection_id = ctx.session.map_or_else(|| ctx.client.connection_id(), |s| s.id());
        body.insert("connectionId", connection_id_bson(connection_id));
        body.insert("minWireVersion", MIN_WIRE_VERSION);
        body.insert("maxWireVersion", MAX_WIRE_VERSION);
        body.insert("readOnly", false);
        if let Some(offered) = cmd.get("compression") {
            let Bson::Array(offered) = offered else {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "'compression' is not an array",
                ));
            };
            let names = offered.iter().filter_map(Bson::as_str);
            let chosen = negotiate(names, &SUPPORTED_COMPRESSORS);
            // mongod leaves the field out when nothing was agreed.
            if !chosen.is_empty() {
                let list: Vec<Bson> = chosen.iter().map(|c| Bson::from(c.name())).collect();
                body.insert("compression", list);
            }
        }
        if cmd.contains_key("saslSupportedMechs") && request.auth.is_none() {
            // Without authentication no user has a mechanism.
            body.insert("saslSupportedMechs", Vec::<Bson>::new());
        }
        body.insert("ok", 1.0);
        Ok(body)
    }
}

/// `saslSupportedMechs: "<db>.<user>"` (the user's mechanisms; left out for an unknown user, as mongod
/// does) and `speculativeAuthenticate` (a saslStart inside hello, whose answer rides in the reply; a
/// failure leaves the field out and the driver authenticates the usual way).
async fn add_auth_fields(
    auth: &AuthorizationManager,
    ctx: &RequestContext<'_>,
    cmd: &Document,
    body: &mut Document,
) -> StatusResult<()> {
    if let Some(value) = cmd.get("saslSupportedMechs") {
        let Bson::String(db_user) = value else {
            return Err(Status::new(
                ErrorCode::TypeMismatch,
                "saslSupportedMechs must be a string",
            ));
        };
        if let Some(mechanisms) = auth.supported_mechanisms(db_user)? {
            body.insert("saslSupportedMechs", mechanisms);
        }
    }
    if let Some(Bson::Document(speculative)) = cmd.get("speculativeAuthenticate") {
        let db = speculative.get_str("db").unwrap_or("admin");
        if speculative.contains_key("saslStart")
            && let Ok(answer) = sasl::start(auth, ctx, db, speculative, true).await
        {
            let mut answer = sasl::reply_document(answer);
            answer.remove("ok");
            body.insert("speculativeAuthenticate", answer);
        }
    }
    Ok(())
}

fn parse_topology_version(cmd: &Document) -> StatusResult<Option<ClientTopologyVersion>> {
    let Some(value) = cmd.get("topologyVersion") else {
        return Ok(None);
    };
    let bad = |what: &str| {
        Status::new(
            ErrorCode::TypeMismatch,
            format!("BSON field 'hello.topologyVersion{what}' is missing or the wrong type"),
        )
    };
    let Bson::Document(tv) = value else {
        return Err(bad(""));
    };
    let process_id = tv.get_object_id("processId").map_err(|_| bad(".processId"))?;
    let counter = tv
        .get("counter")
        .and_then(as_i64)
        .ok_or_else(|| bad(".counter"))?;
    Ok(Some(ClientTopologyVersion { process_id, counter }))
}

/// The exhaust follow-up: the same hello with the topology version just reported, so it waits for the
/// next change. The metadata is left out: it may only be sent once.
fn next_invocation(cmd: &Document, topology_version: Document) -> Document {
    let mut next = Document::new();
    for (key, value) in cmd {
        match key.as_str() {
            "topologyVersion" => {
                next.insert(key, topology_version.clone());
            }
            "client" => {}
            _ => {
                next.insert(key, value.clone());
            }
        }
    }
    next
}

fn connection_id_bson(id: u64) -> Bson {
    match i32::try_from(id) {
        Ok(id) => Bson::Int32(id),
        Err(_) => Bson::Int64(i64::try_from(id).unwrap_or(i64::MAX)),
    }
}

fn size_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
