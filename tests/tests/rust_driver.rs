//! The Rust driver (the `mongodb` crate 3.9, unmodified) against an in-process docwire, under both
//! service executors: it connects over TCP and over the Unix socket, accepts the handshake (maxWireVersion
//! 25), runs admin commands, and its monitor settles into the streaming (exhaust hello) protocol.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::{Document, doc};
use docwire_tests::{PATIENCE, State, Transitions, start_server};
use mongodb::Client;
use mongodb::event::EventHandler;
use mongodb::event::sdam::{SdamEvent, ServerHeartbeatSucceededEvent};
use mongodb::options::ClientOptions;

/// A standard command's walk through the state machine.
const STANDARD: [State; 4] = [
    State::ProcessStandard,
    State::SinkStandard,
    State::SinkWait,
    State::Source,
];

/// One reply of an exhaust stream followed by the next (the seed's exhaust loop).
const EXHAUST: [State; 4] = [
    State::ProcessExhaust,
    State::SinkMoreToCome,
    State::SinkWait,
    State::ProcessExhaust,
];

async fn client(uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri)
        .await
        .expect("the driver parses the URI");
    options.server_selection_timeout = Some(PATIENCE);
    Client::with_options(options).expect("a client")
}

async fn handshake_and_admin_commands(executor: &str) {
    let transitions = Transitions::new();
    let server = start_server(&["--serviceExecutor", executor], Some(&transitions)).await;
    let client = client(&server.uri()).await;
    let admin = client.database("admin");

    let ping = admin.run_command(doc! {"ping": 1}).await.expect("ping");
    assert_eq!(ping.get_f64("ok").ok(), Some(1.0), "{ping}");

    let hello = admin.run_command(doc! {"hello": 1}).await.expect("hello");
    assert_eq!(hello.get_i32("maxWireVersion").ok(), Some(25), "{hello}");
    assert_eq!(hello.get_bool("isWritablePrimary").ok(), Some(true), "{hello}");

    let build_info = admin.run_command(doc! {"buildInfo": 1}).await.expect("buildInfo");
    let version = build_info.get_str("version").expect("buildInfo.version");
    assert!(version.starts_with("8.0."), "{build_info}");
    assert!(
        build_info.get_str("docwire").is_ok_and(|v| !v.is_empty()),
        "{build_info}"
    );

    // The commands ran on a pooled connection, each the seed's standard walk.
    transitions
        .wait_until("a standard command's walk", |t| {
            !t.sessions_that_walked(&STANDARD).is_empty()
        })
        .await;
    client.shutdown().await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_and_admin_commands_async_executor() {
    handshake_and_admin_commands("async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_and_admin_commands_synchronous_executor() {
    handshake_and_admin_commands("synchronous").await;
}

/// `path` percent-encoded as a URI host, as drivers expect a Unix socket.
fn encode_socket_path(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn ping_over_unix_socket(executor: &str) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let prefix = dir.path().to_str().expect("a UTF-8 temp dir");
    let server = start_server(
        &["--serviceExecutor", executor, "--unixSocketPrefix", prefix],
        None,
    )
    .await;
    let socket = server
        .unix_socket
        .clone()
        .expect("the server listens on a Unix socket");
    let socket = socket.to_str().expect("a UTF-8 socket path");
    assert!(
        socket.starts_with(prefix) && socket.ends_with(".sock"),
        "{socket}"
    );
    let uri = format!("mongodb://{}/?directConnection=true", encode_socket_path(socket));
    let client = client(&uri).await;
    let ping = client
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .expect("ping over the Unix socket");
    assert_eq!(ping.get_f64("ok").ok(), Some(1.0), "{ping}");
    let uri_reply = client
        .database("admin")
        .run_command(doc! {"whatsmyuri": 1})
        .await
        .expect("whatsmyuri over the Unix socket");
    assert_eq!(uri_reply.get_f64("ok").ok(), Some(1.0), "{uri_reply}");
    client.shutdown().await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_over_unix_socket_async_executor() {
    ping_over_unix_socket("async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_over_unix_socket_synchronous_executor() {
    ping_over_unix_socket("synchronous").await;
}

async fn monitor_streams(executor: &str) {
    let transitions = Transitions::new();
    let server = start_server(&["--serviceExecutor", executor], Some(&transitions)).await;
    let heartbeats: Arc<Mutex<Vec<ServerHeartbeatSucceededEvent>>> = Arc::default();
    let (tx, mut awaited) = tokio::sync::mpsc::unbounded_channel();
    let mut options = ClientOptions::parse(server.uri()).await.expect("the URI");
    options.server_selection_timeout = Some(PATIENCE);
    options.heartbeat_freq = Some(Duration::from_millis(500));
    let seen = heartbeats.clone();
    options.sdam_event_handler = Some(EventHandler::callback(move |event: SdamEvent| {
        if let SdamEvent::ServerHeartbeatSucceeded(event) = event {
            if event.awaited {
                let _ = tx.send(event.server_connection_id);
            }
            seen.lock().unwrap().push(event);
        }
    }));
    let client = Client::with_options(options).expect("a client");
    client
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .expect("ping");

    let monitor = tokio::time::timeout(PATIENCE, awaited.recv())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no awaited heartbeat; heartbeats: {:?}",
                heartbeats
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|e| (e.awaited, e.reply.clone()))
                    .collect::<Vec<(bool, Document)>>()
            )
        })
        .expect("the handler lives as long as the client");
    let monitor = u64::try_from(monitor.expect("the heartbeat names the server's connection id"))
        .expect("a positive connection id");
    // The monitoring connection streams: each awaited hello reply is sent with moreToCome and the
    // state machine runs the synthesized next hello.
    transitions
        .wait_until("the monitor's exhaust stream", |t| {
            t.session_walked(monitor, &EXHAUST)
        })
        .await;
    client.shutdown().await;
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_reaches_streaming_protocol_async_executor() {
    monitor_streams("async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_reaches_streaming_protocol_synchronous_executor() {
    monitor_streams("synchronous").await;
}
