//! Authentication on the wire and user management, with docwire's own client (one connection, so a
//! conversation's steps share it): speculativeAuthenticate inside hello completed by saslContinue;
//! saslSupportedMechs; logout; usersInfo (credentials only on request, never a password);
//! updateUser's new password; grantRolesToUser / revokeRolesFromUser / dropUser taking effect on a
//! connection that is already authenticated; mongod's errors for duplicate users and unknown roles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bson::{Binary, Bson, Document, doc, spec::BinarySubtype};
use docwire_tests::start_server;
use docwire_transport::auth::ScramMechanism;
use docwire_transport::client::{AsyncDbClient, ClientOptions};

const ROOT_PASSWORD: &str = "root-password-1";

async fn connect(server: &docwire_server::RunningServer) -> AsyncDbClient {
    AsyncDbClient::connect(
        &server.addrs[0].to_string(),
        Duration::from_secs(10),
        &ClientOptions::default(),
    )
    .await
    .unwrap()
}

fn binary(bytes: impl Into<Vec<u8>>) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.into(),
    }
}

fn payload_text(reply: &Document) -> String {
    String::from_utf8(reply.get_binary_generic("payload").unwrap().clone()).unwrap()
}

/// The client's side of SCRAM: the client-final message for `server_first`, and the server
/// signature it must get back.
fn client_final(
    mechanism: ScramMechanism,
    user: &str,
    password: &str,
    client_first_bare: &str,
    server_first: &str,
) -> (String, String) {
    let field = |name: &str| {
        server_first
            .split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let nonce = field("r");
    let salt = BASE64.decode(field("s")).unwrap();
    let iterations: u32 = field("i").parse().unwrap();
    let prepared = mechanism.prepare_password(user, password).unwrap();
    let salted = mechanism.hi(prepared.as_bytes(), &salt, iterations);
    let client_key = mechanism.hmac(&salted, b"Client Key");
    let stored_key = mechanism.hash(&client_key);
    let without_proof = format!("c=biws,r={nonce}");
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let signature = mechanism.hmac(&stored_key, auth_message.as_bytes());
    let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
    let server_key = mechanism.hmac(&salted, b"Server Key");
    let server_signature = mechanism.hmac(&server_key, auth_message.as_bytes());
    (
        format!("{without_proof},p={}", BASE64.encode(proof)),
        format!("v={}", BASE64.encode(server_signature)),
    )
}

/// saslStart + saslContinue (skipEmptyExchange) on `client`; the failing reply, if any.
async fn authenticate(
    client: &mut AsyncDbClient,
    mechanism: ScramMechanism,
    user: &str,
    password: &str,
) -> Result<(), Document> {
    let bare = format!("n={user},r=clientnonce12345");
    let start = client
        .run_command(
            "admin",
            doc! {"saslStart": 1, "mechanism": mechanism.name(),
            "payload": binary(format!("n,,{bare}")), "options": {"skipEmptyExchange": true}},
        )
        .await
        .unwrap();
    if start.get_f64("ok").unwrap() != 1.0 {
        return Err(start);
    }
    let (last, signature) = client_final(mechanism, user, password, &bare, &payload_text(&start));
    let step = client
        .run_command(
            "admin",
            doc! {"saslContinue": 1, "conversationId": 1, "payload": binary(last)},
        )
        .await
        .unwrap();
    if step.get_f64("ok").unwrap() != 1.0 {
        return Err(step);
    }
    assert!(step.get_bool("done").unwrap(), "{step}");
    assert_eq!(payload_text(&step), signature);
    Ok(())
}

fn code(reply: &Document) -> i32 {
    reply.get_i32("code").unwrap_or(0)
}

fn authenticated_users(status: &Document) -> Vec<Bson> {
    status
        .get_document("authInfo")
        .unwrap()
        .get_array("authenticatedUsers")
        .unwrap()
        .clone()
}

async fn server_with_root() -> (docwire_server::RunningServer, AsyncDbClient) {
    let server = start_server(&["--auth", "--authFailedDelayMs", "0"], None).await;
    let mut root = connect(&server).await;
    let created = root
        .run_command(
            "admin",
            doc! {"createUser": "root", "pwd": ROOT_PASSWORD, "roles": ["root"]},
        )
        .await
        .unwrap();
    assert_eq!(created.get_f64("ok").unwrap(), 1.0, "{created}");
    authenticate(&mut root, ScramMechanism::Sha256, "root", ROOT_PASSWORD)
        .await
        .unwrap();
    (server, root)
}

#[tokio::test]
async fn speculative_authentication_in_hello_then_logout() {
    let (server, _root) = server_with_root().await;
    let mut client = connect(&server).await;
    let bare = "n=root,r=speculativenonce";
    let hello = client
        .run_command(
            "admin",
            doc! {"hello": 1, "saslSupportedMechs": "admin.root",
            "speculativeAuthenticate": {"saslStart": 1, "mechanism": "SCRAM-SHA-256",
                                        "payload": binary(format!("n,,{bare}")), "db": "admin"}},
        )
        .await
        .unwrap();
    assert_eq!(
        hello.get_array("saslSupportedMechs").unwrap(),
        &vec![Bson::from("SCRAM-SHA-1"), Bson::from("SCRAM-SHA-256")]
    );
    let speculative = hello.get_document("speculativeAuthenticate").unwrap();
    assert_eq!(speculative.get_i32("conversationId").unwrap(), 1);
    assert!(!speculative.get_bool("done").unwrap());
    let server_first = payload_text(speculative);
    assert!(server_first.starts_with("r=speculativenonce"), "{server_first}");
    let (last, signature) = client_final(ScramMechanism::Sha256, "root", ROOT_PASSWORD, bare, &server_first);
    // Without skipEmptyExchange the conversation ends with one empty exchange, as drivers expect.
    let step = client
        .run_command(
            "admin",
            doc! {"saslContinue": 1, "conversationId": 1, "payload": binary(last)},
        )
        .await
        .unwrap();
    assert!(!step.get_bool("done").unwrap(), "{step}");
    assert_eq!(payload_text(&step), signature);
    let done = client
        .run_command(
            "admin",
            doc! {"saslContinue": 1, "conversationId": 1, "payload": binary(Vec::new())},
        )
        .await
        .unwrap();
    assert!(done.get_bool("done").unwrap(), "{done}");

    let status = client
        .run_command("admin", doc! {"connectionStatus": 1})
        .await
        .unwrap();
    assert_eq!(
        authenticated_users(&status),
        vec![Bson::Document(doc! {"user": "root", "db": "admin"})]
    );
    let find = client.run_command("test", doc! {"find": "c"}).await.unwrap();
    assert_eq!(find.get_f64("ok").unwrap(), 1.0, "{find}");

    let status = client
        .run_command("admin", doc! {"serverStatus": 1})
        .await
        .unwrap();
    let authentication = status
        .get_document("security")
        .unwrap()
        .get_document("authentication")
        .unwrap();
    assert!(
        authentication.get_i64("saslSupportedMechsReceived").unwrap() >= 1,
        "{status}"
    );
    let sha256 = authentication
        .get_document("mechanisms")
        .unwrap()
        .get_document("SCRAM-SHA-256")
        .unwrap();
    assert_eq!(
        sha256.get_document("speculativeAuthenticate").unwrap(),
        &doc! {"received": 1_i64, "successful": 1_i64}
    );
    // The root connection authenticated with saslStart, this one speculatively.
    assert_eq!(
        sha256.get_document("authenticate").unwrap(),
        &doc! {"received": 2_i64, "successful": 2_i64}
    );

    let unknown = client
        .run_command("admin", doc! {"hello": 1, "saslSupportedMechs": "admin.nobody"})
        .await
        .unwrap();
    assert!(!unknown.contains_key("saslSupportedMechs"), "{unknown}");

    client.run_command("admin", doc! {"logout": 1}).await.unwrap();
    let status = client
        .run_command("admin", doc! {"connectionStatus": 1})
        .await
        .unwrap();
    assert!(authenticated_users(&status).is_empty(), "{status}");
    let find = client.run_command("test", doc! {"find": "c"}).await.unwrap();
    assert_eq!(code(&find), 13, "{find}");
    assert_eq!(
        find.get_str("errmsg").unwrap(),
        "Command find requires authentication"
    );
    server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn user_management_takes_effect_on_live_connections() {
    let (server, mut root) = server_with_root().await;
    let ok = |reply: &Document| assert_eq!(reply.get_f64("ok").unwrap(), 1.0, "{reply}");
    ok(&root
        .run_command(
            "a",
            doc! {"createUser": "alice", "pwd": "alice-pw", "roles": ["read"], "customData": {"team": "x"}},
        )
        .await
        .unwrap());

    // mongod's errors: a duplicate user, an unknown role, an AnyDatabase role outside admin.
    let dup = root
        .run_command("a", doc! {"createUser": "alice", "pwd": "p", "roles": []})
        .await
        .unwrap();
    assert_eq!(code(&dup), 51003, "{dup}");
    assert_eq!(dup.get_str("errmsg").unwrap(), "User \"alice@a\" already exists");
    let unknown = root
        .run_command(
            "a",
            doc! {"createUser": "bob", "pwd": "p", "roles": ["nosuchrole"]},
        )
        .await
        .unwrap();
    assert_eq!(code(&unknown), 31, "{unknown}");
    assert_eq!(unknown.get_str("codeName").unwrap(), "RoleNotFound");
    let any = root
        .run_command(
            "a",
            doc! {"createUser": "bob", "pwd": "p", "roles": ["readAnyDatabase"]},
        )
        .await
        .unwrap();
    assert_eq!(code(&any), 31, "{any}");

    // usersInfo: no credentials unless asked, and never the password.
    let info = root.run_command("a", doc! {"usersInfo": "alice"}).await.unwrap();
    let users = info.get_array("users").unwrap();
    assert_eq!(users.len(), 1, "{info}");
    let alice = users[0].as_document().unwrap();
    assert_eq!(alice.get_str("_id").unwrap(), "a.alice");
    assert_eq!(alice.get_str("db").unwrap(), "a");
    assert_eq!(alice.get_document("customData").unwrap(), &doc! {"team": "x"});
    assert_eq!(
        alice.get_array("roles").unwrap(),
        &vec![Bson::Document(doc! {"role": "read", "db": "a"})]
    );
    assert_eq!(
        alice.get_array("mechanisms").unwrap(),
        &vec![Bson::from("SCRAM-SHA-1"), Bson::from("SCRAM-SHA-256")]
    );
    assert!(!alice.contains_key("credentials"));
    let shown = root
        .run_command(
            "a",
            doc! {"usersInfo": {"user": "alice", "db": "a"}, "showCredentials": true},
        )
        .await
        .unwrap();
    let credentials = shown.get_array("users").unwrap()[0]
        .as_document()
        .unwrap()
        .get_document("credentials")
        .unwrap()
        .clone();
    assert_eq!(
        credentials
            .get_document("SCRAM-SHA-256")
            .unwrap()
            .get_i32("iterationCount")
            .unwrap(),
        15000
    );
    assert!(!format!("{shown}").contains("alice-pw"));

    let mut alice_conn = connect(&server).await;
    // alice is defined in database a, so she authenticates there.
    let bare = "n=alice,r=n0nce";
    let start = alice_conn
        .run_command(
            "a",
            doc! {"saslStart": 1, "mechanism": "SCRAM-SHA-1", "payload": binary(format!("n,,{bare}")),
            "options": {"skipEmptyExchange": true}},
        )
        .await
        .unwrap();
    let (last, _) = client_final(
        ScramMechanism::Sha1,
        "alice",
        "alice-pw",
        bare,
        &payload_text(&start),
    );
    let step = alice_conn
        .run_command(
            "a",
            doc! {"saslContinue": 1, "conversationId": 1, "payload": binary(last)},
        )
        .await
        .unwrap();
    assert!(step.get_bool("done").unwrap(), "{step}");

    let insert = doc! {"insert": "c", "documents": [{"x": 1}]};
    let refused = alice_conn.run_command("a", insert.clone()).await.unwrap();
    assert_eq!(code(&refused), 13);
    let message = refused.get_str("errmsg").unwrap();
    assert!(
        message
            .starts_with("not authorized on a to execute command { insert: \"c\", documents: [ { x: 1 } ]"),
        "{refused}"
    );
    ok(&root
        .run_command("a", doc! {"grantRolesToUser": "alice", "roles": ["readWrite"]})
        .await
        .unwrap());
    ok(&alice_conn.run_command("a", insert.clone()).await.unwrap());
    let status = alice_conn
        .run_command("a", doc! {"connectionStatus": 1})
        .await
        .unwrap();
    let roles = status
        .get_document("authInfo")
        .unwrap()
        .get_array("authenticatedUserRoles")
        .unwrap();
    assert_eq!(roles.len(), 2, "{status}");
    ok(&root
        .run_command("a", doc! {"revokeRolesFromUser": "alice", "roles": ["readWrite"]})
        .await
        .unwrap());
    assert_eq!(
        code(&alice_conn.run_command("a", insert.clone()).await.unwrap()),
        13
    );

    // A new password replaces the old one.
    ok(&root
        .run_command("a", doc! {"updateUser": "alice", "pwd": "alice-new-pw"})
        .await
        .unwrap());
    let mut fresh = connect(&server).await;
    let bare = "n=alice,r=n0nce2";
    let start = fresh
        .run_command(
            "a",
            doc! {"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": binary(format!("n,,{bare}")),
            "options": {"skipEmptyExchange": true}},
        )
        .await
        .unwrap();
    let (old, _) = client_final(
        ScramMechanism::Sha256,
        "alice",
        "alice-pw",
        bare,
        &payload_text(&start),
    );
    let failed = fresh
        .run_command(
            "a",
            doc! {"saslContinue": 1, "conversationId": 1, "payload": binary(old)},
        )
        .await
        .unwrap();
    assert_eq!(code(&failed), 18, "{failed}");
    assert_eq!(failed.get_str("errmsg").unwrap(), "Authentication failed.");

    // Dropping the user takes its privileges from the connection that authenticated as it.
    assert_eq!(
        alice_conn
            .run_command("a", doc! {"find": "c"})
            .await
            .unwrap()
            .get_f64("ok")
            .unwrap(),
        1.0
    );
    ok(&root.run_command("a", doc! {"dropUser": "alice"}).await.unwrap());
    assert_eq!(
        code(&alice_conn.run_command("a", doc! {"find": "c"}).await.unwrap()),
        13
    );
    let gone = root.run_command("a", doc! {"dropUser": "alice"}).await.unwrap();
    assert_eq!(code(&gone), 11, "{gone}");
    assert_eq!(gone.get_str("errmsg").unwrap(), "User alice@a not found");
    server.shutdown(Duration::from_secs(5)).await;
}
