//! The handshake and admin commands through `CommandEntryPoint::handle_request`, on a mock clock: every
//! hello field, legacy isMaster, compression, the awaitable hello (errors, timeout, topology change,
//! exhaust), client metadata, and the admin commands' replies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bson::{Bson, Document, doc, oid::ObjectId, spec::BinarySubtype};
use docwire_rpc::{Message, OpCode, OpMsg, OpMsgBuilder, OpMsgFlags, OpReply, build_op_query};
use docwire_service::{MockClock, ServiceContext, UniqueClient};
use docwire_transport::commands::{AdminDeps, CmdLineOpts, register_admin_commands};
use docwire_transport::{
    CommandEntryPoint, CommandRegistry, DbResponse, RequestContext, ServiceEntryPoint, SessionGuard,
    SessionInfo, SessionManager,
};

struct Harness {
    clock: MockClock,
    service: ServiceContext,
    deps: AdminDeps,
    entry: CommandEntryPoint,
}

struct Conn {
    client: UniqueClient,
    info: Arc<SessionInfo>,
    _guard: SessionGuard,
}

fn harness() -> Harness {
    let clock = MockClock::new();
    let mut builder = ServiceContext::builder();
    builder.clock(Arc::new(clock.clone()));
    let key = SessionManager::declare(&mut builder, 100);
    let service = builder.build().unwrap();
    let sessions = service.decoration(key).unwrap().clone();
    let mut deps = AdminDeps::new(service.clone(), sessions);
    deps.cmd_line = CmdLineOpts {
        argv: vec!["docwire".into(), "--port".into(), "27018".into()],
        parsed: doc! {"net": {"port": 27018}},
    };
    deps.parameters = doc! {"logLevel": 2};
    let mut registry = CommandRegistry::new();
    register_admin_commands(&mut registry, deps.clone());
    let registry = Arc::new(registry);
    deps.catalog.publish(&registry);
    Harness {
        clock,
        service,
        deps,
        entry: CommandEntryPoint::new(registry),
    }
}

impl Harness {
    fn connect(&self) -> Conn {
        let (info, guard) = self
            .deps
            .sessions
            .admit("127.0.0.1:27017".into(), "127.0.0.1:50123".into(), false)
            .unwrap();
        let client = self
            .service
            .make_client(format!("conn{}", info.id()), Some(info.clone()))
            .unwrap();
        Conn {
            client,
            info,
            _guard: guard,
        }
    }
}

async fn handle(entry: &CommandEntryPoint, conn: &mut Conn, message: &Message) -> DbResponse {
    let mut op_ctx = conn.client.make_operation_context().unwrap();
    let mut ctx = RequestContext {
        client: &mut conn.client,
        op_ctx: &mut op_ctx,
        session: Some(&conn.info),
    };
    entry.handle_request(&mut ctx, message).await.unwrap()
}

fn op_msg(flags: OpMsgFlags, body: &Document) -> Message {
    OpMsgBuilder::new(flags).finish_with_body(body).unwrap()
}

fn body_of(response: &DbResponse) -> Document {
    let message = response.response.as_ref().expect("a reply");
    match message.op_code() {
        OpCode::Msg => Document::try_from(OpMsg::parse(message).unwrap().body()).unwrap(),
        OpCode::Reply => OpReply::parse(message).unwrap().command_reply().unwrap(),
        other => panic!("unexpected reply opcode {other}"),
    }
}

/// Runs one OP_MSG command and returns the reply body.
async fn command(h: &Harness, conn: &mut Conn, body: Document) -> Document {
    body_of(&handle(&h.entry, conn, &op_msg(OpMsgFlags::NONE, &body)).await)
}

fn code(reply: &Document) -> i32 {
    assert_eq!(reply.get_f64("ok").unwrap(), 0.0, "expected an error: {reply}");
    reply.get_i32("code").unwrap()
}

/// Yields until some task waits on the mock clock (an awaitable hello went to sleep).
async fn until_waiting(clock: &MockClock) {
    for _ in 0..10_000 {
        if clock.pending_alarms() > 0 {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("nothing started waiting on the clock");
}

fn awaitable(h: &Harness, counter: i64, max_await_ms: i64) -> Document {
    doc! {
        "hello": 1,
        "topologyVersion": {"processId": h.deps.topology.process_id(), "counter": counter},
        "maxAwaitTimeMS": max_await_ms,
        "$db": "admin",
    }
}

fn driver_metadata(name: &str) -> Document {
    doc! {"driver": {"name": name, "version": "1.0"}, "os": {"type": "Linux"}, "application": {"name": "app"}}
}

#[tokio::test]
async fn hello_reports_every_field() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, doc! {"hello": 1, "helloOk": true, "$db": "admin"}).await;
    let keys: Vec<&str> = reply.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "helloOk",
            "isWritablePrimary",
            "topologyVersion",
            "maxBsonObjectSize",
            "maxMessageSizeBytes",
            "maxWriteBatchSize",
            "localTime",
            "logicalSessionTimeoutMinutes",
            "connectionId",
            "minWireVersion",
            "maxWireVersion",
            "readOnly",
            "ok"
        ]
    );
    assert!(reply.get_bool("helloOk").unwrap());
    assert!(reply.get_bool("isWritablePrimary").unwrap());
    let tv = reply.get_document("topologyVersion").unwrap();
    assert_eq!(
        tv.get_object_id("processId").unwrap(),
        h.deps.topology.process_id()
    );
    assert_eq!(tv.get_i64("counter").unwrap(), 0);
    assert_eq!(reply.get_i32("maxBsonObjectSize").unwrap(), 16_777_216);
    assert_eq!(reply.get_i32("maxMessageSizeBytes").unwrap(), 48_000_000);
    assert_eq!(reply.get_i32("maxWriteBatchSize").unwrap(), 100_000);
    assert!(matches!(reply.get("localTime"), Some(Bson::DateTime(_))));
    assert_eq!(reply.get_i32("logicalSessionTimeoutMinutes").unwrap(), 30);
    assert_eq!(reply.get_i32("connectionId").unwrap() as u64, conn.info.id());
    assert_eq!(reply.get_i32("minWireVersion").unwrap(), 0);
    assert_eq!(reply.get_i32("maxWireVersion").unwrap(), 25);
    assert!(!reply.get_bool("readOnly").unwrap());
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);

    // Without helloOk there is no helloOk; isMaster answers with the legacy field.
    let reply = command(&h, &mut conn, doc! {"isMaster": 1, "$db": "admin"}).await;
    assert!(!reply.contains_key("helloOk") && !reply.contains_key("isWritablePrimary"));
    assert!(reply.get_bool("ismaster").unwrap());
    let reply = command(&h, &mut conn, doc! {"ismaster": 1, "$db": "admin"}).await;
    assert!(reply.get_bool("ismaster").unwrap());
}

#[tokio::test]
async fn is_master_over_op_query_is_answered_with_op_reply() {
    let h = harness();
    let mut conn = h.connect();
    let query = build_op_query(0, "admin.$cmd", 0, -1, &doc! {"isMaster": 1, "helloOk": true}).unwrap();
    let response = handle(&h.entry, &mut conn, &query).await;
    assert_eq!(response.response.as_ref().unwrap().op_code(), OpCode::Reply);
    let reply = body_of(&response);
    assert!(reply.get_bool("ismaster").unwrap());
    assert!(reply.get_bool("helloOk").unwrap());
    assert_eq!(reply.get_i32("maxWireVersion").unwrap(), 25);

    // buildInfo too; find is not allowed over OP_QUERY.
    let query = build_op_query(0, "admin.$cmd", 0, -1, &doc! {"buildInfo": 1}).unwrap();
    assert_eq!(
        body_of(&handle(&h.entry, &mut conn, &query).await)
            .get_str("version")
            .unwrap(),
        "8.0.4"
    );
    let query = build_op_query(0, "test.$cmd", 0, -1, &doc! {"find": "c"}).unwrap();
    let reply = body_of(&handle(&h.entry, &mut conn, &query).await);
    assert_eq!(code(&reply), 352);
    assert_eq!(reply.get_str("codeName").unwrap(), "UnsupportedOpQueryCommand");
}

#[tokio::test]
async fn compression_is_negotiated_in_the_clients_order() {
    let h = harness();
    let mut conn = h.connect();
    let offer = doc! {"hello": 1, "compression": ["zlib", "noop", "zstd", "lz4", "snappy"], "$db": "admin"};
    let reply = command(&h, &mut conn, offer).await;
    assert_eq!(
        reply.get_array("compression").unwrap(),
        &vec![Bson::from("zlib"), Bson::from("zstd"), Bson::from("snappy")]
    );
    // Nothing in common: no field, as mongod.
    let reply = command(
        &h,
        &mut conn,
        doc! {"hello": 1, "compression": ["lz4"], "$db": "admin"},
    )
    .await;
    assert!(!reply.contains_key("compression"));
    let reply = command(&h, &mut conn, doc! {"hello": 1, "$db": "admin"}).await;
    assert!(!reply.contains_key("compression"));
}

#[tokio::test]
async fn sasl_supported_mechs_only_when_asked() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(
        &h,
        &mut conn,
        doc! {"hello": 1, "saslSupportedMechs": "admin.u", "$db": "admin"},
    )
    .await;
    assert_eq!(
        reply.get_array("saslSupportedMechs").unwrap(),
        &Vec::<Bson>::new()
    );
    let reply = command(&h, &mut conn, doc! {"hello": 1, "$db": "admin"}).await;
    assert!(!reply.contains_key("saslSupportedMechs"));
}

#[tokio::test]
async fn client_metadata_is_stored_once_and_immutable() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(
        &h,
        &mut conn,
        doc! {"hello": 1, "client": driver_metadata("nodejs"), "$db": "admin"},
    )
    .await;
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);
    assert_eq!(
        conn.client.metadata().unwrap().document(),
        &driver_metadata("nodejs")
    );
    assert_eq!(conn.client.app_name(), Some("app"));
    // Shared readers see it too.
    assert_eq!(conn.client.client().lock().app_name(), Some("app"));

    let again = doc! {"hello": 1, "client": driver_metadata("pymongo"), "$db": "admin"};
    let reply = command(&h, &mut conn, again).await;
    assert_eq!(code(&reply), 186);
    assert_eq!(
        reply.get_str("codeName").unwrap(),
        "ClientMetadataCannotBeMutated"
    );
    assert_eq!(
        conn.client.metadata().unwrap().document(),
        &driver_metadata("nodejs")
    );
    // A hello without metadata is fine.
    let reply = command(&h, &mut conn, doc! {"hello": 1, "$db": "admin"}).await;
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);

    // Bad metadata is refused with mongod's code.
    let mut other = h.connect();
    let bad = doc! {"hello": 1, "client": {"driver": {"name": "x"}}, "$db": "admin"};
    assert_eq!(code(&command(&h, &mut other, bad).await), 183);
}

#[tokio::test]
async fn awaitable_hello_argument_errors() {
    let h = harness();
    let mut conn = h.connect();
    let tv = doc! {"processId": h.deps.topology.process_id(), "counter": 0_i64};
    let only_tv = doc! {"hello": 1, "topologyVersion": tv.clone(), "$db": "admin"};
    assert_eq!(code(&command(&h, &mut conn, only_tv).await), 31368);
    let only_max = doc! {"hello": 1, "maxAwaitTimeMS": 10, "$db": "admin"};
    assert_eq!(code(&command(&h, &mut conn, only_max).await), 31368);
    assert_eq!(code(&command(&h, &mut conn, awaitable(&h, -1, 10)).await), 31372);
    assert_eq!(code(&command(&h, &mut conn, awaitable(&h, 0, -1)).await), 31373);
    let exhaust = op_msg(OpMsgFlags::EXHAUST_ALLOWED, &doc! {"hello": 1, "$db": "admin"});
    assert_eq!(
        code(&body_of(&handle(&h.entry, &mut conn, &exhaust).await)),
        51756
    );
    // A counter ahead of the server's with the same processId.
    assert_eq!(code(&command(&h, &mut conn, awaitable(&h, 5, 10)).await), 31382);
}

#[tokio::test]
async fn awaitable_hello_returns_when_max_await_time_passes() {
    let h = harness();
    let mut conn = h.connect();
    let entry = h.entry.clone();
    let request = op_msg(OpMsgFlags::NONE, &awaitable(&h, 0, 1000));
    let task = tokio::spawn(async move { body_of(&handle(&entry, &mut conn, &request).await) });
    until_waiting(&h.clock).await;
    h.clock.advance(Duration::from_millis(999));
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(!task.is_finished(), "returned before maxAwaitTimeMS");
    h.clock.advance(Duration::from_millis(1));
    let reply = task.await.unwrap();
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);
    assert_eq!(
        reply
            .get_document("topologyVersion")
            .unwrap()
            .get_i64("counter")
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn awaitable_hello_returns_early_when_the_topology_changes() {
    let h = harness();
    let mut conn = h.connect();
    let entry = h.entry.clone();
    let request = op_msg(OpMsgFlags::NONE, &awaitable(&h, 0, 10_000));
    let task = tokio::spawn(async move { body_of(&handle(&entry, &mut conn, &request).await) });
    until_waiting(&h.clock).await;
    assert_eq!(h.deps.topology.bump(), 1);
    let reply = task.await.unwrap();
    assert_eq!(
        reply
            .get_document("topologyVersion")
            .unwrap()
            .get_i64("counter")
            .unwrap(),
        1
    );

    // An older counter or another process's id answers at once.
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, awaitable(&h, 0, 10_000)).await;
    assert_eq!(
        reply
            .get_document("topologyVersion")
            .unwrap()
            .get_i64("counter")
            .unwrap(),
        1
    );
    let mut stale = awaitable(&h, 1, 10_000);
    stale.insert(
        "topologyVersion",
        doc! {"processId": ObjectId::new(), "counter": 1_i64},
    );
    assert_eq!(command(&h, &mut conn, stale).await.get_f64("ok").unwrap(), 1.0);
}

#[tokio::test]
async fn next_invocation_only_with_exhaust_allowed() {
    let h = harness();
    let mut conn = h.connect();
    h.deps.topology.bump();
    // The client's counter is behind, so the reply comes at once.
    let request = awaitable(&h, 0, 500);
    let response = handle(
        &h.entry,
        &mut conn,
        &op_msg(OpMsgFlags::EXHAUST_ALLOWED, &request),
    )
    .await;
    let next = response.next_invocation.expect("exhaust hello asks to run again");
    assert_eq!(next.get_i32("hello").unwrap(), 1);
    assert_eq!(next.get_i64("maxAwaitTimeMS").unwrap(), 500);
    assert_eq!(next.get_str("$db").unwrap(), "admin");
    let tv = next.get_document("topologyVersion").unwrap();
    assert_eq!(tv.get_i64("counter").unwrap(), 1);
    assert_eq!(
        tv.get_object_id("processId").unwrap(),
        h.deps.topology.process_id()
    );

    let response = handle(&h.entry, &mut conn, &op_msg(OpMsgFlags::NONE, &request)).await;
    assert!(response.next_invocation.is_none());
}

#[tokio::test]
async fn unknown_command_is_command_not_found() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, doc! {"foo": 1, "$db": "test"}).await;
    assert_eq!(code(&reply), 59);
    assert_eq!(reply.get_str("errmsg").unwrap(), "no such command: 'foo'");
    assert_eq!(reply.get_str("codeName").unwrap(), "CommandNotFound");
}

#[tokio::test]
async fn current_op_lists_a_waiting_hello_and_kill_op_interrupts_it() {
    let h = harness();
    let mut waiter = h.connect();
    let waiter_id = waiter.info.id();
    let entry = h.entry.clone();
    let mut request = awaitable(&h, 0, 60_000);
    request.insert("client", driver_metadata("waiter"));
    let request = op_msg(OpMsgFlags::NONE, &request);
    let task = tokio::spawn(async move { body_of(&handle(&entry, &mut waiter, &request).await) });
    until_waiting(&h.clock).await;

    let mut admin = h.connect();
    let reply = command(&h, &mut admin, doc! {"currentOp": 1, "$db": "admin"}).await;
    let inprog = reply.get_array("inprog").unwrap();
    let ops: Vec<&Document> = inprog.iter().filter_map(Bson::as_document).collect();
    // The hello and this currentOp itself.
    assert_eq!(ops.len(), 2, "{reply}");
    let hello = ops
        .iter()
        .find(|op| op.get_document("command").is_ok_and(|c| c.contains_key("hello")))
        .expect("the waiting hello");
    assert_eq!(hello.get_i32("connectionId").unwrap() as u64, waiter_id);
    assert_eq!(hello.get_str("op").unwrap(), "command");
    assert_eq!(hello.get_str("ns").unwrap(), "admin.$cmd");
    assert_eq!(hello.get_str("appName").unwrap(), "app");
    assert!(hello.get_bool("active").unwrap());
    let opid = hello.get_i64("opid").unwrap();

    // The filter narrows the list; $all adds idle clients.
    let filtered = command(
        &h,
        &mut admin,
        doc! {"currentOp": 1, "appName": "app", "$db": "admin"},
    )
    .await;
    assert_eq!(filtered.get_array("inprog").unwrap().len(), 1);
    let all = command(
        &h,
        &mut admin,
        doc! {"currentOp": 1, "$all": true, "$db": "admin"},
    )
    .await;
    assert_eq!(all.get_array("inprog").unwrap().len(), 2);
    let _idle = h.connect();
    let all = command(
        &h,
        &mut admin,
        doc! {"currentOp": 1, "$all": true, "$db": "admin"},
    )
    .await;
    assert_eq!(all.get_array("inprog").unwrap().len(), 3);

    let reply = command(&h, &mut admin, doc! {"killOp": 1, "op": opid, "$db": "admin"}).await;
    assert_eq!(reply, doc! {"info": "attempting to kill op", "ok": 1.0});
    let killed = task.await.unwrap();
    assert_eq!(code(&killed), 11601);
}

#[tokio::test]
async fn kill_op_and_current_op_are_admin_only_and_accept_unknown_ops() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, doc! {"killOp": 1, "op": 123_456, "$db": "admin"}).await;
    assert_eq!(reply, doc! {"info": "attempting to kill op", "ok": 1.0});
    let reply = command(&h, &mut conn, doc! {"killOp": 1, "op": 1, "$db": "test"}).await;
    assert_eq!(code(&reply), 13);
    let reply = command(&h, &mut conn, doc! {"currentOp": 1, "$db": "test"}).await;
    assert_eq!(code(&reply), 13);
    let reply = command(&h, &mut conn, doc! {"killOp": 1, "$db": "admin"}).await;
    assert_eq!(code(&reply), 2);
}

#[tokio::test]
async fn ping_logout_and_connection_status() {
    let h = harness();
    let mut conn = h.connect();
    assert_eq!(
        command(&h, &mut conn, doc! {"ping": 1, "$db": "admin"}).await,
        doc! {"ok": 1.0}
    );
    assert_eq!(
        command(&h, &mut conn, doc! {"logout": 1, "$db": "test"}).await,
        doc! {"ok": 1.0}
    );
    let reply = command(&h, &mut conn, doc! {"connectionStatus": 1, "$db": "admin"}).await;
    assert_eq!(
        reply,
        doc! {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}, "ok": 1.0}
    );
    let reply = command(
        &h,
        &mut conn,
        doc! {"connectionStatus": 1, "showPrivileges": true, "$db": "admin"},
    )
    .await;
    assert!(
        reply
            .get_document("authInfo")
            .unwrap()
            .contains_key("authenticatedUserPrivileges")
    );
}

#[tokio::test]
async fn build_info_is_shaped_like_mongod_8() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, doc! {"buildInfo": 1, "$db": "admin"}).await;
    assert_eq!(reply.get_str("version").unwrap(), "8.0.4");
    assert_eq!(
        reply.get_array("versionArray").unwrap(),
        &vec![Bson::Int32(8), Bson::Int32(0), Bson::Int32(4), Bson::Int32(0)]
    );
    assert!(reply.get_str("gitVersion").is_ok());
    assert_eq!(reply.get_array("modules").unwrap().len(), 0);
    assert!(reply.get_str("allocator").is_ok());
    assert_eq!(reply.get_str("javascriptEngine").unwrap(), "none");
    assert_eq!(reply.get_i32("bits").unwrap(), 64);
    assert!(reply.get_bool("debug").is_ok());
    assert_eq!(reply.get_i32("maxBsonObjectSize").unwrap(), 16_777_216);
    assert!(!reply.get_array("storageEngines").unwrap().is_empty());
    assert_eq!(reply.get_str("docwire").unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);
    // The lower-case alias.
    let reply = command(&h, &mut conn, doc! {"buildinfo": 1, "$db": "admin"}).await;
    assert_eq!(reply.get_str("version").unwrap(), "8.0.4");
}

#[tokio::test]
async fn host_info_and_whatsmyuri() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, doc! {"hostInfo": 1, "$db": "admin"}).await;
    let system = reply.get_document("system").unwrap();
    assert!(matches!(system.get("currentTime"), Some(Bson::DateTime(_))));
    assert!(!system.get_str("hostname").unwrap().is_empty());
    assert_eq!(system.get_i32("cpuAddrSize").unwrap(), 64);
    assert!(system.get_i64("memSizeMB").unwrap() > 0);
    assert!(system.get_i32("numCores").unwrap() >= 1);
    assert_eq!(system.get_str("cpuArch").unwrap(), std::env::consts::ARCH);
    let os = reply.get_document("os").unwrap();
    assert_eq!(os.get_str("type").unwrap(), "Linux");
    assert!(os.get_str("name").is_ok() && os.get_str("version").is_ok());
    assert!(reply.get_document("extra").is_ok());

    let reply = command(&h, &mut conn, doc! {"whatsmyuri": 1, "$db": "admin"}).await;
    assert_eq!(reply, doc! {"you": "127.0.0.1:50123", "ok": 1.0});
}

#[tokio::test]
async fn get_parameter_and_get_cmd_line_opts() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(
        &h,
        &mut conn,
        doc! {"getParameter": 1, "featureCompatibilityVersion": 1, "$db": "admin"},
    )
    .await;
    assert_eq!(
        reply,
        doc! {"featureCompatibilityVersion": {"version": "8.0"}, "ok": 1.0}
    );
    // Extra parameters from the deps override the built-in ones.
    let reply = command(
        &h,
        &mut conn,
        doc! {"getParameter": 1, "logLevel": 1, "$db": "admin"},
    )
    .await;
    assert_eq!(reply, doc! {"logLevel": 2, "ok": 1.0});
    let all = command(&h, &mut conn, doc! {"getParameter": "*", "$db": "admin"}).await;
    assert!(all.contains_key("featureCompatibilityVersion") && all.contains_key("logLevel"));
    let details = command(
        &h,
        &mut conn,
        doc! {"getParameter": {"showDetails": true}, "logLevel": 1, "$db": "admin"},
    )
    .await;
    assert_eq!(
        details
            .get_document("logLevel")
            .unwrap()
            .get_i32("value")
            .unwrap(),
        2
    );

    let reply = command(
        &h,
        &mut conn,
        doc! {"getParameter": 1, "noSuchThing": 1, "$db": "admin"},
    )
    .await;
    assert_eq!(code(&reply), 72);
    assert_eq!(reply.get_str("errmsg").unwrap(), "no option found to get");
    let reply = command(
        &h,
        &mut conn,
        doc! {"getParameter": 1, "logLevel": 1, "$db": "test"},
    )
    .await;
    assert_eq!(code(&reply), 13);

    let reply = command(&h, &mut conn, doc! {"getCmdLineOpts": 1, "$db": "admin"}).await;
    assert_eq!(
        reply,
        doc! {"argv": ["docwire", "--port", "27018"], "parsed": {"net": {"port": 27018}}, "ok": 1.0}
    );
}

#[tokio::test]
async fn server_status_reports_uptime_connections_and_counters() {
    let h = harness();
    let mut conn = h.connect();
    let _other = h.connect();
    h.clock.advance(Duration::from_millis(5_500));
    h.deps.op_counters.record(docwire_service::LogicalOp::Command);
    let reply = command(&h, &mut conn, doc! {"serverStatus": 1, "$db": "admin"}).await;
    assert!(reply.get_str("host").unwrap().ends_with(":27017"));
    assert_eq!(reply.get_str("version").unwrap(), "8.0.4");
    assert_eq!(reply.get_str("process").unwrap(), "docwire");
    assert_eq!(reply.get_i64("pid").unwrap(), i64::from(std::process::id()));
    assert_eq!(reply.get_f64("uptime").unwrap(), 5.0);
    assert_eq!(reply.get_i64("uptimeMillis").unwrap(), 5_500);
    assert_eq!(reply.get_i64("uptimeEstimate").unwrap(), 5);
    assert!(matches!(reply.get("localTime"), Some(Bson::DateTime(_))));
    let connections = reply.get_document("connections").unwrap();
    assert_eq!(connections.get_i32("current").unwrap(), 2);
    assert_eq!(connections.get_i32("available").unwrap(), 98);
    assert_eq!(connections.get_i64("totalCreated").unwrap(), 2);
    assert_eq!(connections.get_i64("rejected").unwrap(), 0);
    assert_eq!(connections.get_i32("active").unwrap(), 1);
    let network = reply.get_document("network").unwrap();
    for field in ["bytesIn", "bytesOut", "numRequests"] {
        assert!(network.get_i64(field).is_ok(), "network.{field}");
    }
    let opcounters = reply.get_document("opcounters").unwrap();
    assert_eq!(opcounters.get_i64("command").unwrap(), 1);
    for field in ["insert", "query", "update", "delete", "getmore"] {
        assert_eq!(opcounters.get_i64(field).unwrap(), 0, "opcounters.{field}");
    }
    let mem = reply.get_document("mem").unwrap();
    assert_eq!(mem.get_i32("bits").unwrap(), 64);
    assert!(mem.get_i32("resident").unwrap() > 0);
    assert!(mem.get_i32("virtual").unwrap() > 0);
}

#[tokio::test]
async fn list_commands_lists_every_name() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, doc! {"listCommands": 1, "$db": "admin"}).await;
    let commands = reply.get_document("commands").unwrap();
    for name in [
        "hello",
        "isMaster",
        "ismaster",
        "ping",
        "buildInfo",
        "hostInfo",
        "whatsmyuri",
        "getParameter",
        "getCmdLineOpts",
        "serverStatus",
        "connectionStatus",
        "listCommands",
        "startSession",
        "endSessions",
        "refreshSessions",
        "killOp",
        "currentOp",
        "logout",
    ] {
        let entry = commands
            .get_document(name)
            .unwrap_or_else(|_| panic!("{name} missing"));
        assert!(entry.get_str("help").is_ok());
    }
    let names: Vec<&String> = commands.keys().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[tokio::test]
async fn logical_sessions() {
    let h = harness();
    let mut conn = h.connect();
    let reply = command(&h, &mut conn, doc! {"startSession": 1, "$db": "admin"}).await;
    assert_eq!(reply.get_i32("timeoutMinutes").unwrap(), 30);
    let id = reply.get_document("id").unwrap();
    let Some(Bson::Binary(uuid)) = id.get("id") else {
        panic!("no session id: {reply}")
    };
    assert_eq!(uuid.subtype, BinarySubtype::Uuid);
    assert_eq!(uuid.bytes.len(), 16);
    let again = command(&h, &mut conn, doc! {"startSession": 1, "$db": "admin"}).await;
    assert_ne!(again.get_document("id").unwrap(), id, "session ids are unique");

    let lsid = Bson::Document(id.clone());
    let reply = command(
        &h,
        &mut conn,
        doc! {"endSessions": [lsid.clone()], "$db": "admin"},
    )
    .await;
    assert_eq!(reply, doc! {"ok": 1.0});
    let reply = command(&h, &mut conn, doc! {"refreshSessions": [lsid], "$db": "admin"}).await;
    assert_eq!(reply, doc! {"ok": 1.0});
    let reply = command(&h, &mut conn, doc! {"endSessions": 1, "$db": "admin"}).await;
    assert_eq!(code(&reply), 14);
}

#[tokio::test]
async fn end_sessions_with_more_to_come_gets_no_reply() {
    // mongosh ends its sessions with w:0, as a moreToCome request.
    let h = harness();
    let mut conn = h.connect();
    let body = doc! {"endSessions": [{"id": bson::Uuid::new()}], "$db": "admin"};
    let response = handle(&h.entry, &mut conn, &op_msg(OpMsgFlags::MORE_TO_COME, &body)).await;
    assert!(response.response.is_none());
}
