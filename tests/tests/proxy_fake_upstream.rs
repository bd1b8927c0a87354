//! The proxy in front of a scripted upstream that behaves like a standalone mongod 7.0 (wire version 21):
//! the proxy's hello mirrors the upstream's wire versions and limits (as a mongos), drivers' retryable
//! writes reach a standalone without the `txnNumber` it refuses, a transaction is refused with a
//! standalone's IllegalOperation, and currentOp on the proxy shows a proxied request while it is in flight.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::{Document, doc};
use docwire_proxy::{ProxyConfig, RunningProxy, UpstreamSpec, start_proxy};
use docwire_rpc::{Message, OpMsg, OpMsgBuilder};
use docwire_tests::PATIENCE;
use docwire_transport::TransportConfig;
use mongodb::Client;
use mongodb::options::ClientOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every command body the fake upstream received.
type Seen = Arc<Mutex<Vec<Document>>>;

fn hello_reply() -> Document {
    doc! {
        "ismaster": true, "isWritablePrimary": true, "maxBsonObjectSize": 16_777_216,
        "maxMessageSizeBytes": 48_000_000, "maxWriteBatchSize": 100_000, "localTime": bson::DateTime::now(),
        "logicalSessionTimeoutMinutes": 30, "connectionId": 1, "minWireVersion": 0, "maxWireVersion": 21,
        "readOnly": false, "ok": 1.0,
    }
}

/// The fake's answer to one command, as a standalone mongod would give it.
async fn answer(body: &Document) -> Document {
    let name = body.keys().next().map(String::as_str).unwrap_or_default();
    match name {
        "hello" | "isMaster" | "ismaster" => hello_reply(),
        _ if body.contains_key("txnNumber") => doc! {
            "ok": 0.0, "code": 20, "codeName": "IllegalOperation",
            "errmsg": "Transaction numbers are only allowed on a replica set member or mongos",
        },
        "insert" => {
            let n = body.get_array("documents").map_or(0, Vec::len) as i32;
            doc! {"n": n, "ok": 1.0}
        }
        "ping" if body.get_str("comment").ok() == Some("slow") => {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            doc! {"ok": 1.0}
        }
        _ => doc! {"ok": 1.0},
    }
}

async fn serve_connection(mut stream: TcpStream, seen: Seen) {
    let mut header = [0u8; 16];
    while stream.read_exact(&mut header).await.is_ok() {
        let len = i32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let mut buf = vec![0u8; len];
        buf[..16].copy_from_slice(&header);
        if stream.read_exact(&mut buf[16..]).await.is_err() {
            return;
        }
        let message = Message::from_bytes(buf.into()).unwrap();
        let body = OpMsg::parse(&message).unwrap().merged().unwrap();
        seen.lock().unwrap().push(body.clone());
        let mut reply = OpMsgBuilder::default()
            .finish_with_body(&answer(&body).await)
            .unwrap();
        reply.set_ids(1, message.request_id());
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Starts the fake standalone; returns its address and what it has seen.
async fn fake_standalone() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen: Seen = Arc::default();
    let recorded = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_connection(stream, Arc::clone(&recorded)));
        }
    });
    (addr, seen)
}

async fn proxy_to(upstream: &str) -> RunningProxy {
    let mut config = ProxyConfig::new(UpstreamSpec::parse(upstream).unwrap());
    config.transport = TransportConfig {
        port: 0,
        no_unix_socket: true,
        ..TransportConfig::default()
    };
    start_proxy(config).await.unwrap()
}

async fn driver(uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    Client::with_options(options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_proxy_speaks_for_a_standalone_as_a_mongos_with_its_versions() {
    let (upstream, seen) = fake_standalone().await;
    let proxy = proxy_to(&upstream).await;
    let client = driver(&proxy.uri()).await;

    // The first request teaches the proxy the upstream's limits; hello mirrors them from then on.
    client
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .unwrap();
    let hello = client
        .database("admin")
        .run_command(doc! {"hello": 1})
        .await
        .unwrap();
    assert_eq!(hello.get_str("msg").unwrap(), "isdbgrid", "{hello}");
    assert_eq!(hello.get_i32("maxWireVersion").unwrap(), 21, "{hello}");
    assert_eq!(hello.get_i32("minWireVersion").unwrap(), 0, "{hello}");
    assert_eq!(
        hello.get_i32("maxMessageSizeBytes").unwrap(),
        48_000_000,
        "{hello}"
    );

    // The driver sends a retryable write (lsid + txnNumber) to what it takes for a mongos; the standalone
    // gets it without the txnNumber it would refuse.
    let items = client.database("shop").collection::<Document>("items");
    items
        .insert_one(doc! {"_id": 1})
        .await
        .expect("the insert succeeds");
    let inserts: Vec<Document> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b.contains_key("insert"))
        .cloned()
        .collect();
    assert_eq!(inserts.len(), 1, "{inserts:?}");
    assert!(
        inserts[0].contains_key("lsid"),
        "the session is kept: {:?}",
        inserts[0]
    );
    assert!(!inserts[0].contains_key("txnNumber"), "{:?}", inserts[0]);

    // A transaction is refused as a standalone refuses it.
    let mut session = client.start_session().await.unwrap();
    session.start_transaction().await.unwrap();
    let error = items
        .insert_one(doc! {"_id": 2})
        .session(&mut session)
        .await
        .unwrap_err();
    assert!(format!("{error:?}").contains("IllegalOperation"), "{error:?}");

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn current_op_on_the_proxy_shows_a_request_in_flight() {
    let (upstream, _seen) = fake_standalone().await;
    let proxy = proxy_to(&upstream).await;
    let client = driver(&proxy.uri()).await;
    client
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .unwrap();

    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .database("shop")
                .run_command(doc! {"ping": 1, "comment": "slow"})
                .await
        })
    };
    let seen_in_flight = tokio::time::timeout(PATIENCE, async {
        loop {
            let ops = client
                .database("admin")
                .run_command(doc! {"currentOp": 1})
                .await
                .unwrap();
            let in_flight = ops.get_array("inprog").unwrap().iter().any(|op| {
                let op = op.as_document().unwrap();
                op.get_str("ns").ok() == Some("shop.$cmd")
                    && op
                        .get_document("command")
                        .is_ok_and(|c| c.contains_key("ping") && c.get_str("comment").ok() == Some("slow"))
            });
            if in_flight {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(seen_in_flight.is_ok(), "currentOp never showed the proxied ping");
    slow.await.unwrap().expect("the slow ping completes");
    assert!(proxy.shutdown(Duration::from_secs(5)).await);
}
