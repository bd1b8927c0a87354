//! What currentOp shows of a running command, through `CommandEntryPoint::handle_request`: the body as
//! sent with its `comment` (which the `command.comment` filter finds), mongod's `$truncated` form over
//! 1,000 bytes (keeping the comment), passwords and SASL payloads blanked, a document-sequence request's
//! body without its sequences; and killOp on an opid read from it interrupts the command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use docwire_rpc::{ErrorCode, Message, OpMsg, OpMsgBuilder, OpMsgFlags, ReplyBuilder, Status, StatusResult};
use docwire_service::{MAX_CURRENT_OP_COMMAND_BYTES, ServiceContext, UniqueClient};
use docwire_transport::commands::{AdminDeps, register_admin_commands};
use docwire_transport::{
    Command, CommandEntryPoint, CommandRegistry, CommandRequest, RequestContext, ServiceEntryPoint,
    SessionGuard, SessionInfo, SessionManager,
};
use tokio::sync::mpsc;

/// mongod's test-only `sleep`, reduced to what these tests need: it tells the test it started, then
/// waits until its operation is killed.
struct Sleep {
    started: mpsc::UnboundedSender<()>,
}

#[async_trait]
impl Command for Sleep {
    fn names(&self) -> &'static [&'static str] {
        &["sleep"]
    }

    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        _request: &CommandRequest<'_>,
        _reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let _ = self.started.send(());
        ctx.op_ctx
            .wait_for_condition_or_interrupt_async(None, std::future::pending::<()>())
            .await?;
        Err(Status::new(
            ErrorCode::InternalError,
            "sleep ended without a kill",
        ))
    }
}

struct Harness {
    service: ServiceContext,
    deps: AdminDeps,
    entry: CommandEntryPoint,
    started: mpsc::UnboundedReceiver<()>,
}

struct Conn {
    client: UniqueClient,
    info: Arc<SessionInfo>,
    _guard: SessionGuard,
}

fn harness() -> Harness {
    let mut builder = ServiceContext::builder();
    let key = SessionManager::declare(&mut builder, 100);
    let service = builder.build().unwrap();
    let sessions = service.decoration(key).unwrap().clone();
    let deps = AdminDeps::new(service.clone(), sessions);
    let mut registry = CommandRegistry::new();
    register_admin_commands(&mut registry, deps.clone());
    let (tx, started) = mpsc::unbounded_channel();
    registry.register(Arc::new(Sleep { started: tx }));
    Harness {
        service,
        deps,
        entry: CommandEntryPoint::new(Arc::new(registry)),
        started,
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

    /// Starts `message` on its own connection and returns once its command runs; the task gives the
    /// reply body.
    async fn start(&mut self, message: Message) -> tokio::task::JoinHandle<Document> {
        let mut conn = self.connect();
        let entry = self.entry.clone();
        let task = tokio::spawn(async move { handle(&entry, &mut conn, &message).await });
        self.started.recv().await.expect("the command started");
        task
    }
}

async fn handle(entry: &CommandEntryPoint, conn: &mut Conn, message: &Message) -> Document {
    let mut op_ctx = conn.client.make_operation_context().unwrap();
    let mut ctx = RequestContext {
        client: &mut conn.client,
        op_ctx: &mut op_ctx,
        session: Some(&conn.info),
    };
    let response = entry.handle_request(&mut ctx, message).await.unwrap();
    let reply = response.response.expect("a reply");
    Document::try_from(OpMsg::parse(&reply).unwrap().body()).unwrap()
}

fn op_msg(body: &Document) -> Message {
    OpMsgBuilder::new(OpMsgFlags::NONE)
        .finish_with_body(body)
        .unwrap()
}

/// The `inprog` entries whose fields match `filter` (currentOp's own filter syntax).
async fn current_op(h: &Harness, admin: &mut Conn, filter: Document) -> Vec<Document> {
    let mut request = doc! {"currentOp": 1, "$db": "admin"};
    request.extend(filter);
    let reply = handle(&h.entry, admin, &op_msg(&request)).await;
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0, "{reply}");
    reply
        .get_array("inprog")
        .unwrap()
        .iter()
        .filter_map(Bson::as_document)
        .cloned()
        .collect()
}

/// The one op whose command has this comment.
async fn op_with_comment(h: &Harness, admin: &mut Conn, comment: &str) -> Document {
    let mut ops = current_op(h, admin, doc! {"command.comment": comment}).await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    ops.remove(0)
}

async fn kill(h: &Harness, admin: &mut Conn, op: &Document, task: tokio::task::JoinHandle<Document>) {
    let opid = op.get_i64("opid").unwrap();
    let reply = handle(
        &h.entry,
        admin,
        &op_msg(&doc! {"killOp": 1, "op": opid, "$db": "admin"}),
    )
    .await;
    assert_eq!(reply, doc! {"info": "attempting to kill op", "ok": 1.0});
    let killed = task.await.unwrap();
    assert_eq!(killed.get_i32("code").unwrap(), 11601, "{killed}");
    assert_eq!(killed.get_str("codeName").unwrap(), "Interrupted");
}

#[tokio::test]
async fn a_running_command_is_shown_as_sent_with_its_comment() {
    let mut h = harness();
    let sent = doc! {"sleep": "orders", "filter": {"qty": {"$gt": 1}}, "comment": "small", "$db": "shop"};
    let task = h.start(op_msg(&sent)).await;
    let mut admin = h.connect();

    let op = op_with_comment(&h, &mut admin, "small").await;
    assert_eq!(op.get_document("command").unwrap(), &sent);
    assert_eq!(op.get_str("ns").unwrap(), "shop.orders");
    assert_eq!(op.get_str("op").unwrap(), "command");
    assert!(op.get_bool("active").unwrap());

    kill(&h, &mut admin, &op, task).await;
    assert!(
        current_op(&h, &mut admin, doc! {"command.comment": "small"})
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_command_over_the_limit_is_truncated_and_keeps_its_comment() {
    let mut h = harness();
    let sent = doc! {"sleep": 1, "pad": "x".repeat(2 * MAX_CURRENT_OP_COMMAND_BYTES), "comment": "big",
    "$db": "admin"};
    let task = h.start(op_msg(&sent)).await;
    let mut admin = h.connect();

    let op = op_with_comment(&h, &mut admin, "big").await;
    let command = op.get_document("command").unwrap();
    let keys: Vec<&str> = command.keys().map(String::as_str).collect();
    assert_eq!(keys, ["$truncated", "comment"]);
    let text = command.get_str("$truncated").unwrap();
    assert_eq!(text.len(), MAX_CURRENT_OP_COMMAND_BYTES);
    assert!(text.starts_with("{ \"sleep\": 1, \"pad\": \"xxx"), "{text}");

    kill(&h, &mut admin, &op, task).await;
}

#[tokio::test]
async fn passwords_and_sasl_payloads_are_blanked() {
    let mut h = harness();
    let payload = Binary {
        subtype: BinarySubtype::Generic,
        bytes: b"n,,n=user,r=secret-nonce".to_vec(),
    };
    let sent = doc! {"sleep": 1, "pwd": "hunter2", "payload": payload.clone(),
    "speculativeAuthenticate": {"mechanism": "SCRAM-SHA-256", "payload": payload}, "comment": "secret",
    "$db": "admin"};
    let task = h.start(op_msg(&sent)).await;
    let mut admin = h.connect();

    let op = op_with_comment(&h, &mut admin, "secret").await;
    assert_eq!(
        op.get_document("command").unwrap(),
        &doc! {"sleep": 1, "pwd": "###", "payload": "###", "speculativeAuthenticate": "###",
        "comment": "secret", "$db": "admin"}
    );
    let everything = format!("{:?}", current_op(&h, &mut admin, doc! {}).await);
    assert!(
        !everything.contains("hunter2") && !everything.contains("nonce"),
        "{everything}"
    );

    kill(&h, &mut admin, &op, task).await;
}

#[tokio::test]
async fn a_password_over_the_limit_is_blanked_before_the_limit_applies() {
    let mut h = harness();
    let sent = doc! {"sleep": 1, "pwd": "p".repeat(2 * MAX_CURRENT_OP_COMMAND_BYTES), "comment": "long pwd",
    "$db": "admin"};
    let task = h.start(op_msg(&sent)).await;
    let mut admin = h.connect();

    let op = op_with_comment(&h, &mut admin, "long pwd").await;
    assert_eq!(
        op.get_document("command").unwrap(),
        &doc! {"sleep": 1, "pwd": "###", "comment": "long pwd", "$db": "admin"}
    );

    kill(&h, &mut admin, &op, task).await;
}

#[tokio::test]
async fn a_document_sequence_request_shows_its_body_only() {
    let mut h = harness();
    let body = doc! {"sleep": "c", "ordered": true, "comment": "sequence", "$db": "test"};
    let mut builder = OpMsgBuilder::new(OpMsgFlags::NONE);
    {
        let mut documents = builder.begin_document_sequence("documents");
        documents.append(&doc! {"_id": 1, "a": "first"}).unwrap();
        documents.append(&doc! {"_id": 2, "a": "second"}).unwrap();
    }
    let task = h.start(builder.finish_with_body(&body).unwrap()).await;
    let mut admin = h.connect();

    let op = op_with_comment(&h, &mut admin, "sequence").await;
    assert_eq!(op.get_document("command").unwrap(), &body);
    assert_eq!(op.get_str("ns").unwrap(), "test.c");

    kill(&h, &mut admin, &op, task).await;
}
