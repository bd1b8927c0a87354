//! The Rust driver (the `mongodb` crate 3.9) against docwire with `--auth`: the localhost exception
//! creates the first user and then closes; SCRAM-SHA-256 and SCRAM-SHA-1 (explicit, and negotiated
//! through saslSupportedMechs, with speculative authentication in hello) authenticate; a wrong
//! password fails with AuthenticationFailed (18); connectionStatus reports the user and roles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Document, doc};
use docwire_tests::start_server;
use mongodb::Client;
use mongodb::options::{AuthMechanism, ClientOptions, Credential};

/// A client for `uri` authenticating as `user` / `password` on admin with `mechanism` (negotiated
/// when `None`).
async fn client_as(uri: &str, user: &str, password: &str, mechanism: Option<AuthMechanism>) -> Client {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.credential = Some(
        Credential::builder()
            .username(user.to_owned())
            .password(password.to_owned())
            .source("admin".to_owned())
            .mechanism(mechanism)
            .build(),
    );
    options.server_selection_timeout = Some(std::time::Duration::from_secs(5));
    Client::with_options(options).unwrap()
}

/// The server's error code somewhere in the driver's error chain.
fn server_code(error: &mongodb::error::Error) -> Option<i32> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        // The driver keeps the server's error as a boxed source.
        let driver = e
            .downcast_ref::<mongodb::error::Error>()
            .or_else(|| e.downcast_ref::<Box<mongodb::error::Error>>().map(AsRef::as_ref));
        if let Some(driver) = driver
            && let mongodb::error::ErrorKind::Command(command) = driver.kind.as_ref()
        {
            return Some(command.code);
        }
        current = e.source();
    }
    None
}

#[tokio::test]
async fn scram_sha_256_and_sha_1_authenticate_and_wrong_passwords_fail() {
    let server = start_server(&["--auth", "--authFailedDelayMs", "0"], None).await;
    let uri = server.uri();

    // No user yet: the localhost exception lets this connection create the first one, and only that.
    let anonymous = Client::with_uri_str(&uri).await.unwrap();
    let admin = anonymous.database("admin");
    let err = admin
        .run_command(doc! {"serverStatus": 1})
        .await
        .expect_err("serverStatus needs authentication");
    assert_eq!(server_code(&err), Some(13), "{err}");
    admin
        .run_command(doc! {"createUser": "root", "pwd": "rootpw", "roles": ["root"]})
        .await
        .unwrap();
    // The exception closed with the first user.
    let err = admin
        .run_command(doc! {"createUser": "second", "pwd": "x", "roles": []})
        .await
        .expect_err("the localhost exception is closed");
    assert_eq!(server_code(&err), Some(13), "{err}");
    assert!(err.to_string().contains("requires authentication"), "{err}");

    for mechanism in [
        Some(AuthMechanism::ScramSha256),
        Some(AuthMechanism::ScramSha1),
        None,
    ] {
        let client = client_as(&uri, "root", "rootpw", mechanism.clone()).await;
        let status = client
            .database("admin")
            .run_command(doc! {"connectionStatus": 1})
            .await
            .unwrap();
        let info = status.get_document("authInfo").unwrap();
        assert_eq!(
            info.get_array("authenticatedUsers").unwrap(),
            &vec![bson::Bson::Document(doc! {"user": "root", "db": "admin"})],
            "{mechanism:?}"
        );
        assert_eq!(
            info.get_array("authenticatedUserRoles").unwrap(),
            &vec![bson::Bson::Document(doc! {"role": "root", "db": "admin"})]
        );
        let items = client.database("test").collection::<Document>("items");
        items
            .insert_one(doc! {"m": format!("{mechanism:?}")})
            .await
            .unwrap();
        assert!(items.find_one(doc! {}).await.unwrap().is_some());
    }

    // A user with only SCRAM-SHA-1 credentials is offered only that mechanism and negotiates it.
    let root = client_as(&uri, "root", "rootpw", Some(AuthMechanism::ScramSha256)).await;
    root.database("admin")
        .run_command(
            doc! {"createUser": "old", "pwd": "oldpw", "roles": ["readAnyDatabase"],
            "mechanisms": ["SCRAM-SHA-1"]},
        )
        .await
        .unwrap();
    let hello = root
        .database("admin")
        .run_command(doc! {"hello": 1, "saslSupportedMechs": "admin.old"})
        .await
        .unwrap();
    assert_eq!(
        hello.get_array("saslSupportedMechs").unwrap(),
        &vec![bson::Bson::from("SCRAM-SHA-1")]
    );
    let old = client_as(&uri, "old", "oldpw", None).await;
    old.database("test")
        .collection::<Document>("items")
        .find_one(doc! {})
        .await
        .unwrap();

    for mechanism in [AuthMechanism::ScramSha256, AuthMechanism::ScramSha1] {
        let wrong = client_as(&uri, "root", "not-the-password", Some(mechanism.clone())).await;
        let err = wrong
            .database("test")
            .collection::<Document>("items")
            .find_one(doc! {})
            .await
            .expect_err("a wrong password fails");
        assert!(
            matches!(
                err.kind.as_ref(),
                mongodb::error::ErrorKind::Authentication { .. }
            ),
            "{err}"
        );
        assert_eq!(server_code(&err), Some(18), "{mechanism:?}: {err}");
        let unknown = client_as(&uri, "nobody", "pw", Some(mechanism.clone())).await;
        let err = unknown.database("admin").run_command(doc! {"ping": 1}).await;
        // ping needs no authentication, but the driver authenticates every connection first.
        let err = err.expect_err("an unknown user fails");
        assert_eq!(server_code(&err), Some(18), "{mechanism:?}: {err}");
    }
    server.shutdown(std::time::Duration::from_secs(5)).await;
}

#[tokio::test]
async fn users_persist_in_the_storage_engine_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let dbpath = dir.path().to_str().unwrap();
    let server = start_server(&["--auth", "--dbpath", dbpath], None).await;
    let anonymous = Client::with_uri_str(server.uri()).await.unwrap();
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "keeper", "pwd": "kept-pw", "roles": ["root"]})
        .await
        .unwrap();
    drop(anonymous);
    assert!(server.shutdown(std::time::Duration::from_secs(5)).await);

    let server = start_server(&["--auth", "--dbpath", dbpath], None).await;
    // The user is still there: the localhost exception stays closed ...
    let anonymous = Client::with_uri_str(server.uri()).await.unwrap();
    let err = anonymous
        .database("admin")
        .run_command(doc! {"createUser": "intruder", "pwd": "x", "roles": ["root"]})
        .await
        .expect_err("the localhost exception is closed");
    assert_eq!(server_code(&err), Some(13), "{err}");
    // ... and it authenticates, and is stored in mongod's shape.
    let keeper = client_as(&server.uri(), "keeper", "kept-pw", None).await;
    let stored = keeper
        .database("admin")
        .collection::<Document>("system.users")
        .find_one(doc! {"_id": "admin.keeper"})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get_str("user").unwrap(), "keeper");
    assert_eq!(stored.get_str("db").unwrap(), "admin");
    let credentials = stored.get_document("credentials").unwrap();
    assert_eq!(
        credentials
            .get_document("SCRAM-SHA-1")
            .unwrap()
            .get_i32("iterationCount")
            .unwrap(),
        10000
    );
    assert_eq!(
        credentials
            .get_document("SCRAM-SHA-256")
            .unwrap()
            .get_i32("iterationCount")
            .unwrap(),
        15000
    );
    assert!(!stored.to_string().contains("kept-pw"));
    server.shutdown(std::time::Duration::from_secs(5)).await;
}
