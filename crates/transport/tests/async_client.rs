//! The egress client against a real docwire transport (handshake, commands, compression, checksums,
//! fire-and-forget, exhaust, cancellation) and against scripted fake peers (legacy handshake, wrong
//! responseTo, incompatible wire versions, a peer that never answers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bson::{Document, doc};
use docwire_rpc::{Compressor, ErrorCode, Message, OpCode, OpMsgBuilder, ReplyBuilder, ReplyProtocol};
use docwire_transport::client::{AsyncDbClient, ClientOptions};
use docwire_transport::{Received, ServiceExecutorKind};
use support::*;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const T: Duration = Duration::from_secs(10);

async fn server() -> TestServer {
    start(Options::new(ServiceExecutorKind::Async)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_is_kept_and_compression_negotiated() {
    let server = server().await;
    let options = ClientOptions {
        app_name: Some("egress-test".into()),
        compressors: vec![Compressor::Zstd, Compressor::Snappy],
        checksums: false,
        tls: None,
    };
    let mut client = AsyncDbClient::connect(&server.addr, T, &options).await.unwrap();
    assert_eq!(client.hello().max_wire_version, 25);
    assert!(client.hello().is_writable_primary);
    assert_eq!(client.hello().compression, [Compressor::Zstd, Compressor::Snappy]);
    assert_eq!(client.compressor(), Some(Compressor::Zstd));
    // A large reply comes back compressed and decodes.
    let reply = client
        .run_command("admin", doc! {"big": 1, "pad": "q".repeat(400)})
        .await
        .unwrap();
    assert!(reply.get_str("text").unwrap().starts_with("all work"));
    // The server recorded the handshake's metadata for this client.
    let ops = client
        .run_command("admin", doc! {"currentOp": 1, "$all": true})
        .await
        .unwrap();
    let inprog = ops.get_array("inprog").unwrap();
    assert!(
        inprog
            .iter()
            .any(|op| op.as_document().and_then(|d| d.get_str("appName").ok()) == Some("egress-test")),
        "{inprog:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_errors_are_replies_not_transport_failures() {
    let server = server().await;
    let mut client = AsyncDbClient::connect(&server.addr, T, &ClientOptions::default())
        .await
        .unwrap();
    let reply = client.run_command("admin", doc! {"nope": 1}).await.unwrap();
    assert_eq!(reply.get_i32("code").unwrap(), 59);
    assert!(client.is_healthy());
    assert_eq!(
        client.run_command("admin", doc! {"ping": 1}).await.unwrap(),
        doc! {"ok": 1.0}
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksums_and_fire_and_forget() {
    let server = server().await;
    let options = ClientOptions {
        checksums: true,
        ..ClientOptions::default()
    };
    let mut client = AsyncDbClient::connect(&server.addr, T, &options).await.unwrap();
    assert_eq!(
        client.run_command("admin", doc! {"ping": 1}).await.unwrap(),
        doc! {"ok": 1.0}
    );
    assert_eq!(
        client
            .run_fire_and_forget("admin", doc! {"ping": 1})
            .await
            .unwrap(),
        doc! {"ok": 1}
    );
    // No reply was sent for the fire-and-forget, so the next reply answers the next command.
    assert_eq!(
        client.run_command("admin", doc! {"ping": 1}).await.unwrap(),
        doc! {"ok": 1.0}
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhaust_reads_until_more_to_come_ends() {
    let server = server().await;
    let mut client = AsyncDbClient::connect(&server.addr, T, &ClientOptions::default())
        .await
        .unwrap();
    let mut stream = client
        .run_exhaust_command("test", doc! {"countdown": 3})
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(reply) = stream.next().await {
        let (body, more) = reply.unwrap();
        seen.push((body.get_i32("n").unwrap(), more));
    }
    assert_eq!(seen, [(3, true), (2, true), (1, true), (0, false)]);
    assert!(
        client.is_healthy(),
        "a finished stream leaves the connection usable"
    );
    assert_eq!(
        client.run_command("admin", doc! {"ping": 1}).await.unwrap(),
        doc! {"ok": 1.0}
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_fails_with_callback_canceled_and_poisons_the_connection() {
    let server = server().await;
    let mut client = AsyncDbClient::connect(&server.addr, T, &ClientOptions::default())
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let service = server.service.clone();
    tokio::spawn(async move {
        // Cancel once the blocking command is running on the server.
        while service.operation_count() == 0 {
            tokio::task::yield_now().await;
        }
        trigger.cancel();
    });
    let err = client
        .run_command_cancellable("admin", doc! {"block": 1}, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::CallbackCanceled);
    assert_eq!(err.reason(), "Async network operation was canceled");
    assert!(
        !client.is_healthy(),
        "a connection abandoned mid-reply is never reused"
    );
}

/// A fake peer that answers each request with `answer(request)`.
async fn fake_peer(answer: fn(&Message) -> Option<Message>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let info = std::sync::Arc::new(docwire_transport::SessionInfo::new(
                1,
                String::new(),
                String::new(),
                false,
            ));
            let mut session = docwire_transport::Session::new(
                info,
                Box::new(stream),
                48_000_000,
                std::sync::Arc::new(Default::default()),
            );
            tokio::spawn(async move {
                while let Ok(Received::Message(request)) = session.source_message(T).await {
                    if let Some(reply) = answer(&request) {
                        let _ = session.sink_message(&reply).await;
                    }
                }
            });
        }
    });
    addr
}

fn op_msg_reply(request: &Message, body: Document, response_to_offset: i32) -> Message {
    let mut reply = OpMsgBuilder::default().finish_with_body(&body).unwrap();
    reply.set_ids(9000, request.request_id() + response_to_offset);
    reply
}

#[tokio::test]
async fn an_old_peer_gets_the_legacy_handshake() {
    let addr = fake_peer(|request| match request.op_code() {
        OpCode::Msg => Some(op_msg_reply(
            request,
            doc! {"ok": 0.0, "errmsg": "no such command: 'hello'", "code": 59, "codeName": "CommandNotFound"},
            0,
        )),
        OpCode::Query => {
            let mut b = ReplyBuilder::new(ReplyProtocol::OpReply);
            b.set_command_reply(doc! {"ismaster": true, "minWireVersion": 0, "maxWireVersion": 7});
            let mut m = b.done().unwrap().message;
            m.set_ids(9001, request.request_id());
            Some(m)
        }
        _ => None,
    })
    .await;
    let client = AsyncDbClient::connect(&addr, T, &ClientOptions::default())
        .await
        .unwrap();
    assert_eq!(client.hello().max_wire_version, 7);
    assert!(client.hello().is_writable_primary);
}

#[tokio::test]
async fn a_reply_to_another_request_is_rejected() {
    let addr = fake_peer(|request| {
        let body = doc! {"ok": 1, "isWritablePrimary": true, "minWireVersion": 0, "maxWireVersion": 25};
        Some(op_msg_reply(request, body, 1))
    })
    .await;
    let err = AsyncDbClient::connect(&addr, T, &ClientOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Location(50787));
}

#[tokio::test]
async fn incompatible_wire_versions_are_refused() {
    let addr = fake_peer(|request| {
        Some(op_msg_reply(
            request,
            doc! {"ok": 1, "minWireVersion": 0, "maxWireVersion": 5},
            0,
        ))
    })
    .await;
    let err = AsyncDbClient::connect(&addr, T, &ClientOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IncompatibleServerVersion);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_peer_that_never_answers_times_out() {
    let addr = fake_peer(|_| None).await;
    let err = AsyncDbClient::connect(&addr, Duration::from_secs(5), &ClientOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NetworkTimeout);
}
