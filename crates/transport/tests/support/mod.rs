//! A test server on an ephemeral port with a few test commands, and a raw client that speaks messages.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bson::{Document, doc};
use docwire_rpc::{
    Compressor, ErrorCode, Message, OpMsg, OpMsgBuilder, OpMsgFlags, ReplyBuilder, Status, StatusResult,
    compress_message, decompress_message,
};
use docwire_service::ServiceContext;
use docwire_transport::{
    Command, CommandEntryPoint, CommandRegistry, CommandRequest, DbResponse, Received, RequestContext,
    ServiceEntryPoint, ServiceExecutorKind, Session, SessionManager, State, StateMachineConfig,
    TransportConfig, TransportHandle, TransportLayer, connect,
};

/// `ping`: `{ok: 1}`.
struct Ping;
#[async_trait]
impl Command for Ping {
    fn names(&self) -> &'static [&'static str] {
        &["ping"]
    }
    fn allowed_over_op_query(&self) -> bool {
        true
    }
    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        _: &CommandRequest<'_>,
        _: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        Ok(())
    }
}

/// `{countdown: n}`: replies `{n}` and asks to run again with n-1 while n > 0 (an exhaust stream).
struct Countdown;
#[async_trait]
impl Command for Countdown {
    fn names(&self) -> &'static [&'static str] {
        &["countdown"]
    }
    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let n = req
            .body
            .get_i32("countdown")
            .map_err(|_| Status::new(ErrorCode::BadValue, "n"))?;
        reply.body_mut().insert("n", n);
        if n > 0 {
            reply.set_next_invocation(doc! {"countdown": n - 1, "$db": req.database});
        }
        Ok(())
    }
}

/// `{big: 1}`: a large, compressible reply.
struct Big;
#[async_trait]
impl Command for Big {
    fn names(&self) -> &'static [&'static str] {
        &["big"]
    }
    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        _: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        reply
            .body_mut()
            .insert("text", "all work and no play ".repeat(200));
        Ok(())
    }
}

/// `{block: 1}`: waits until the operation is killed, then fails with the kill code.
struct Block;
#[async_trait]
impl Command for Block {
    fn names(&self) -> &'static [&'static str] {
        &["block"]
    }
    async fn run(
        &self,
        ctx: &mut RequestContext<'_>,
        _: &CommandRequest<'_>,
        _: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        ctx.op_ctx.cancellation_token().cancelled().await;
        ctx.op_ctx.check_for_interrupt()
    }
}

/// Wraps the command entry point: `{explode: 1}` fails the request itself (connection-fatal).
struct Faulty(CommandEntryPoint);
#[async_trait]
impl ServiceEntryPoint for Faulty {
    async fn handle_request(
        &self,
        ctx: &mut RequestContext<'_>,
        request: &Message,
    ) -> StatusResult<DbResponse> {
        if let Ok(msg) = OpMsg::parse(request)
            && msg.command_name().ok() == Some("explode")
        {
            return Err(Status::new(ErrorCode::InternalError, "injected failure"));
        }
        self.0.handle_request(ctx, request).await
    }
}

/// A running test server.
pub struct TestServer {
    pub addr: String,
    pub unix_path: Option<std::path::PathBuf>,
    pub service: ServiceContext,
    pub sessions: Arc<SessionManager>,
    pub handle: TransportHandle,
    pub transitions: Arc<Mutex<Vec<(u64, State, State)>>>,
    _dir: Option<TempDir>,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Options for [`start`].
pub struct Options {
    pub executor: ServiceExecutorKind,
    pub max_conns: usize,
    pub unix_socket: bool,
    pub partial_timeout: Duration,
}

impl Options {
    pub fn new(executor: ServiceExecutorKind) -> Options {
        Options {
            executor,
            max_conns: 1000,
            unix_socket: false,
            partial_timeout: Duration::from_secs(30),
        }
    }
}

pub async fn start(options: Options) -> TestServer {
    let mut builder = ServiceContext::builder();
    let key = SessionManager::declare(&mut builder, options.max_conns);
    let service = builder.build().unwrap();
    let sessions = service.decoration(key).unwrap().clone();
    let mut registry = CommandRegistry::new();
    // The real handshake and admin commands, then the test commands (the test ping replaces the admin one).
    docwire_transport::commands::register_admin_commands(
        &mut registry,
        docwire_transport::commands::AdminDeps::new(service.clone(), sessions.clone()),
    );
    registry
        .register(Arc::new(Ping))
        .register(Arc::new(Countdown))
        .register(Arc::new(Big))
        .register(Arc::new(Block));
    let entry_point = Arc::new(Faulty(CommandEntryPoint::new(Arc::new(registry))));
    let transitions = Arc::new(Mutex::new(Vec::new()));
    let recorded = transitions.clone();
    let dir = options.unix_socket.then(|| {
        let path =
            std::env::temp_dir().join(format!("docwire-test-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    });
    let config = TransportConfig {
        bind_ips: vec!["127.0.0.1".into()],
        port: 0,
        unix_socket_prefix: dir.as_ref().map(|d| d.0.clone()).unwrap_or_default(),
        no_unix_socket: !options.unix_socket,
        service_executor: options.executor,
        max_message_size: docwire_rpc::limits::MAX_MESSAGE_SIZE_BYTES,
        state_machine: StateMachineConfig {
            partial_message_timeout: options.partial_timeout,
            observer: Some(Arc::new(move |id, from, to| {
                recorded.lock().unwrap().push((id, from, to))
            })),
        },
        tls: Default::default(),
    };
    let layer = TransportLayer::bind(config, service.clone(), sessions.clone(), entry_point)
        .await
        .unwrap();
    let addr = layer.local_addrs()[0].to_string();
    let unix_path = layer.unix_socket_path().map(|p| p.to_path_buf());
    let handle = layer.handle();
    tokio::spawn(layer.serve());
    TestServer {
        addr,
        unix_path,
        service,
        sessions,
        handle,
        transitions,
        _dir: dir,
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

impl TestServer {
    /// The transitions recorded for one session, as the states entered (starting from Source).
    pub fn states_of(&self, session: u64) -> Vec<State> {
        let all = self.transitions.lock().unwrap();
        let mine: Vec<_> = all.iter().filter(|(id, _, _)| *id == session).collect();
        let mut out = Vec::new();
        if let Some((_, from, _)) = mine.first() {
            out.push(*from);
        }
        out.extend(mine.iter().map(|(_, _, to)| *to));
        out
    }

    pub async fn client(&self) -> TestClient {
        TestClient {
            session: connect(&self.addr, Duration::from_secs(5)).await.unwrap(),
            next_id: 100,
        }
    }
}

/// A client speaking raw messages.
pub struct TestClient {
    pub session: Session,
    next_id: i32,
}

impl TestClient {
    pub fn message(&mut self, flags: OpMsgFlags, body: Document) -> Message {
        let mut m = OpMsgBuilder::new(flags).finish_with_body(&body).unwrap();
        self.next_id += 1;
        m.set_ids(self.next_id, 0);
        m
    }

    pub async fn send(&mut self, message: &Message) {
        self.session.sink_message(message).await.unwrap();
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.session.write_raw(bytes).await.unwrap();
    }

    /// The next message, decompressed; `None` when the server closed the connection.
    pub async fn receive(&mut self) -> Option<(Message, Option<Compressor>)> {
        match self.session.source_message(Duration::from_secs(10)).await {
            Ok(Received::Message(m)) => Some(decompress_message(&m).unwrap()),
            Ok(Received::Closed) | Err(_) => None,
        }
    }

    pub async fn receive_body(&mut self) -> (Message, Document) {
        let (m, _) = self.receive().await.expect("a reply");
        let body = Document::try_from(OpMsg::parse(&m).unwrap().body()).unwrap();
        (m, body)
    }

    /// Sends a command and returns its reply body.
    pub async fn command(&mut self, body: Document) -> Document {
        let m = self.message(OpMsgFlags::NONE, body);
        self.send(&m).await;
        self.receive_body().await.1
    }

    pub async fn send_compressed(&mut self, body: Document, compressor: Compressor) {
        let m = self.message(OpMsgFlags::NONE, body);
        let c = compress_message(&m, compressor).unwrap();
        self.send(&c).await;
    }

    /// Whether the server closed the connection (reads until EOF).
    pub async fn is_closed(&mut self) -> bool {
        self.receive().await.is_none()
    }
}

/// Runs a test body once per executor.
#[macro_export]
macro_rules! for_both_executors {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn async_executor() {
                ($body)(docwire_transport::ServiceExecutorKind::Async).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn synchronous_executor() {
                ($body)(docwire_transport::ServiceExecutorKind::Synchronous).await
            }
        }
    };
}
