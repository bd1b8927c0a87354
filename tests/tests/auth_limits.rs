//! The abuse limits of a real server under `--auth`: connections beyond `maxUnauthenticatedConns`
//! unauthenticated ones are closed, and authenticating frees a place; a connection that has not
//! authenticated within `authenticationTimeoutSecs` is closed even if it never sends anything, while
//! authenticated ones stay. (`authFailedDelayMs` is tested on a mock clock in the transport crate.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bson::{Binary, Document, doc, spec::BinarySubtype};
use docwire_tests::{PATIENCE, start_server};
use docwire_transport::auth::ScramMechanism;
use docwire_transport::client::{AsyncDbClient, ClientOptions};
use tokio::io::AsyncReadExt;

const PASSWORD: &str = "limits-password";

async fn connect(server: &docwire_server::RunningServer) -> Result<AsyncDbClient, docwire_rpc::Status> {
    AsyncDbClient::connect(
        &server.addrs[0].to_string(),
        Duration::from_secs(10),
        &ClientOptions::default(),
    )
    .await
}

fn binary(bytes: impl Into<Vec<u8>>) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.into(),
    }
}

/// SCRAM-SHA-256 as root with `password` on `client`; the last reply.
async fn authenticate(client: &mut AsyncDbClient, password: &str) -> Document {
    let mechanism = ScramMechanism::Sha256;
    let bare = "n=root,r=limitsnonce";
    let start = client
        .run_command(
            "admin",
            doc! {"saslStart": 1, "mechanism": mechanism.name(), "payload": binary(format!("n,,{bare}")),
            "options": {"skipEmptyExchange": true}},
        )
        .await
        .unwrap();
    let server_first = String::from_utf8(start.get_binary_generic("payload").unwrap().clone()).unwrap();
    let field = |name: &str| {
        server_first
            .split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let salt = BASE64.decode(field("s")).unwrap();
    let prepared = mechanism.prepare_password("root", password).unwrap();
    let salted = mechanism.hi(prepared.as_bytes(), &salt, field("i").parse().unwrap());
    let client_key = mechanism.hmac(&salted, b"Client Key");
    let without_proof = format!("c=biws,r={}", field("r"));
    let auth_message = format!("{bare},{server_first},{without_proof}");
    let signature = mechanism.hmac(&mechanism.hash(&client_key), auth_message.as_bytes());
    let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
    let last = format!("{without_proof},p={}", BASE64.encode(proof));
    client
        .run_command(
            "admin",
            doc! {"saslContinue": 1, "conversationId": 1, "payload": binary(last)},
        )
        .await
        .unwrap()
}

async fn create_root(client: &mut AsyncDbClient) {
    let created = client
        .run_command(
            "admin",
            doc! {"createUser": "root", "pwd": PASSWORD, "roles": ["root"]},
        )
        .await
        .unwrap();
    assert_eq!(created.get_f64("ok").unwrap(), 1.0, "{created}");
}

#[tokio::test]
async fn unauthenticated_connections_are_bounded() {
    let server = start_server(&["--auth", "--maxUnauthenticatedConns", "2"], None).await;
    let mut first = connect(&server).await.unwrap();
    create_root(&mut first).await;
    let _second = connect(&server).await.unwrap();
    // The third unauthenticated connection is closed before it can shake hands.
    assert!(connect(&server).await.is_err());
    // Authenticating frees the first connection's place.
    let done = authenticate(&mut first, PASSWORD).await;
    assert!(done.get_bool("done").unwrap(), "{done}");
    let _third = connect(&server).await.unwrap();
    let find = first.run_command("test", doc! {"find": "c"}).await.unwrap();
    assert_eq!(find.get_f64("ok").unwrap(), 1.0, "{find}");
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn connections_that_do_not_authenticate_in_time_are_closed() {
    let server = start_server(&["--auth", "--authenticationTimeoutSecs", "3"], None).await;
    let mut authenticated = connect(&server).await.unwrap();
    create_root(&mut authenticated).await;
    assert!(
        authenticate(&mut authenticated, PASSWORD)
            .await
            .get_bool("done")
            .unwrap()
    );
    // A connection that never sends a byte is closed by the server: the read sees EOF.
    let mut idle = tokio::net::TcpStream::connect(server.addrs[0]).await.unwrap();
    let mut buf = [0u8; 1];
    let read = tokio::time::timeout(PATIENCE, idle.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    let find = authenticated
        .run_command("test", doc! {"find": "c"})
        .await
        .unwrap();
    assert_eq!(find.get_f64("ok").unwrap(), 1.0, "{find}");
    server.shutdown(Duration::from_secs(5)).await;
}
