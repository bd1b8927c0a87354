//! The authorization manager through `CommandEntryPoint::handle_request`, on a mock clock: the
//! localhost exception only for loopback and Unix-socket peers; a failed authentication answers only
//! once `authFailedDelayMs` has passed on the clock; a connection still unauthenticated after
//! `authenticationTimeoutSecs` is refused at its next request, and the sweep ends idle ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bson::{Binary, Document, doc, spec::BinarySubtype};
use docwire_rpc::{Message, OpMsg, OpMsgBuilder, OpMsgFlags, StatusResult};
use docwire_service::{MockClock, ServiceContext, UniqueClient};
use docwire_transport::auth::{AuthOptions, AuthorizationManager, MemoryUserStore};
use docwire_transport::commands::{AdminDeps, register_admin_commands, register_auth_commands};
use docwire_transport::{
    CommandEntryPoint, CommandRegistry, DbResponse, RequestContext, ServiceEntryPoint, SessionGuard,
    SessionInfo, SessionManager,
};

struct Harness {
    clock: MockClock,
    service: ServiceContext,
    sessions: Arc<SessionManager>,
    auth: Arc<AuthorizationManager>,
    entry: Arc<CommandEntryPoint>,
}

struct Conn {
    client: UniqueClient,
    info: Arc<SessionInfo>,
    guard: SessionGuard,
}

fn harness(options: AuthOptions) -> Harness {
    let clock = MockClock::new();
    let mut builder = ServiceContext::builder();
    builder.clock(Arc::new(clock.clone()));
    let auth = AuthorizationManager::declare(
        &mut builder,
        Arc::new(MemoryUserStore::new()),
        options,
        Arc::new(clock.clone()),
    );
    let key = SessionManager::declare(&mut builder, 100);
    let service = builder.build().unwrap();
    let sessions = service.decoration(key).unwrap().clone();
    let mut registry = CommandRegistry::new();
    register_admin_commands(&mut registry, AdminDeps::new(service.clone(), sessions.clone()));
    register_auth_commands(&mut registry);
    let entry = Arc::new(CommandEntryPoint::new(Arc::new(registry)).with_auth(auth.clone()));
    Harness {
        clock,
        service,
        sessions,
        auth,
        entry,
    }
}

fn auth_on() -> AuthOptions {
    AuthOptions {
        enabled: true,
        ..AuthOptions::default()
    }
}

impl Harness {
    fn connect(&self, remote: &str, is_unix: bool) -> Conn {
        let (info, guard) = self
            .sessions
            .admit("127.0.0.1:27017".into(), remote.into(), is_unix)
            .unwrap();
        let client = self
            .service
            .make_client(format!("conn{}", info.id()), Some(info.clone()))
            .unwrap();
        Conn { client, info, guard }
    }
}

async fn try_command(entry: &CommandEntryPoint, conn: &mut Conn, body: Document) -> StatusResult<Document> {
    let message: Message = OpMsgBuilder::new(OpMsgFlags::NONE)
        .finish_with_body(&body)
        .unwrap();
    let mut op_ctx = conn.client.make_operation_context().unwrap();
    let mut ctx = RequestContext {
        client: &mut conn.client,
        op_ctx: &mut op_ctx,
        session: Some(&conn.info),
    };
    let response: DbResponse = entry.handle_request(&mut ctx, &message).await?;
    let reply = response.response.unwrap();
    Ok(Document::try_from(OpMsg::parse(&reply).unwrap().body()).unwrap())
}

async fn command(entry: &CommandEntryPoint, conn: &mut Conn, body: Document) -> Document {
    try_command(entry, conn, body).await.unwrap()
}

fn create_root() -> Document {
    doc! {"createUser": "root", "pwd": "pw", "roles": ["root"], "$db": "admin"}
}

#[tokio::test]
async fn the_localhost_exception_is_for_loopback_and_unix_peers_only() {
    let h = harness(auth_on());
    let mut remote = h.connect("10.1.2.3:40000", false);
    let refused = command(&h.entry, &mut remote, create_root()).await;
    assert_eq!(refused.get_i32("code").unwrap(), 13, "{refused}");
    assert_eq!(
        refused.get_str("errmsg").unwrap(),
        "Command createUser requires authentication"
    );

    let mut unix = h.connect("anonymous unix socket", true);
    let created = command(&h.entry, &mut unix, create_root()).await;
    assert_eq!(created.get_f64("ok").unwrap(), 1.0, "{created}");
    // With a user in the store the exception is closed for loopback peers too.
    let mut local = h.connect("127.0.0.1:40001", false);
    let closed = command(
        &h.entry,
        &mut local,
        doc! {"createUser": "x", "pwd": "pw", "roles": [], "$db": "admin"},
    )
    .await;
    assert_eq!(closed.get_i32("code").unwrap(), 13, "{closed}");

    let off = harness(AuthOptions {
        enable_localhost_auth_bypass: false,
        ..auth_on()
    });
    let mut local = off.connect("127.0.0.1:40002", false);
    let refused = command(&off.entry, &mut local, create_root()).await;
    assert_eq!(refused.get_i32("code").unwrap(), 13, "{refused}");
}

/// Yields until some task waits on the mock clock.
async fn until_waiting(clock: &MockClock) {
    for _ in 0..10_000 {
        if clock.pending_alarms() > 0 {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("nothing started waiting on the clock");
}

#[tokio::test]
async fn a_failed_authentication_answers_after_the_delay() {
    let h = harness(AuthOptions {
        auth_failed_delay: Duration::from_millis(750),
        ..auth_on()
    });
    let mut conn = h.connect("127.0.0.1:40000", false);
    let entry = h.entry.clone();
    let attempt = tokio::spawn(async move {
        let start = doc! {"saslStart": 1, "mechanism": "SCRAM-SHA-256", "$db": "admin",
        "payload": Binary { subtype: BinarySubtype::Generic, bytes: b"n,,n=nobody,r=abc".to_vec() }};
        command(&entry, &mut conn, start).await
    });
    until_waiting(&h.clock).await;
    h.clock.advance(Duration::from_millis(749));
    tokio::task::yield_now().await;
    assert!(!attempt.is_finished(), "answered before authFailedDelayMs");
    h.clock.advance(Duration::from_millis(1));
    let reply = attempt.await.unwrap();
    assert_eq!(reply.get_i32("code").unwrap(), 18, "{reply}");
    assert_eq!(reply.get_str("errmsg").unwrap(), "Authentication failed.");
}

#[tokio::test]
async fn unauthenticated_connections_have_a_deadline() {
    let h = harness(AuthOptions {
        authentication_timeout: Duration::from_secs(60),
        ..auth_on()
    });
    let mut active = h.connect("127.0.0.1:40000", false);
    let idle = h.connect("127.0.0.1:40001", false);
    assert_eq!(h.auth.unauthenticated_connections(), 2);
    command(&h.entry, &mut active, doc! {"hello": 1, "$db": "admin"}).await;
    h.clock.advance(Duration::from_secs(59));
    assert_eq!(h.auth.end_expired_connections(&h.service, &h.sessions), 0);
    command(&h.entry, &mut active, doc! {"ping": 1, "$db": "admin"}).await;
    h.clock.advance(Duration::from_secs(1));
    // The next request closes the connection (an Err ends the session) ...
    let err = try_command(&h.entry, &mut active, doc! {"ping": 1, "$db": "admin"})
        .await
        .unwrap_err();
    assert_eq!(err.code(), docwire_rpc::ErrorCode::Unauthorized);
    // ... and the sweep ends both, the idle one too.
    assert!(!idle.guard.end_token().is_cancelled());
    assert_eq!(h.auth.end_expired_connections(&h.service, &h.sessions), 2);
    assert!(idle.guard.end_token().is_cancelled());
}
