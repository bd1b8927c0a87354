//! Authentication over TLS: the Rust driver creates the first user through the localhost exception
//! and authenticates with SCRAM-SHA-256 to docwire with `--auth --tlsMode requireTLS`; a wrong
//! password still fails with AuthenticationFailed (18). Certificates are generated per test (rcgen).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::doc;
use docwire_tests::start_server;
use docwire_tests::tls::{TestPki, as_strs};
use mongodb::options::{AuthMechanism, ClientOptions, Credential};

async fn client(uri: &str, credential: Option<(&str, &str)>) -> mongodb::Client {
    let mut options = ClientOptions::parse(uri).await.unwrap();
    options.server_selection_timeout = Some(Duration::from_secs(5));
    options.credential = credential.map(|(user, password)| {
        Credential::builder()
            .username(user.to_owned())
            .password(password.to_owned())
            .source("admin".to_owned())
            .mechanism(AuthMechanism::ScramSha256)
            .build()
    });
    mongodb::Client::with_options(options).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_sha_256_over_tls() {
    let pki = TestPki::generate();
    let mut flags = pki.server_flags("requireTLS", false);
    flags.extend(["--auth", "--authFailedDelayMs", "0"].map(str::to_owned));
    let server = start_server(&as_strs(&flags), None).await;
    let uri = pki.driver_uri(server.addrs[0], None);

    let anonymous = client(&uri, None).await;
    anonymous
        .database("admin")
        .run_command(doc! {"createUser": "tlsuser", "pwd": "tls-pass-0", "roles": ["root"]})
        .await
        .unwrap();

    let user = client(&uri, Some(("tlsuser", "tls-pass-0"))).await;
    let status = user
        .database("admin")
        .run_command(doc! {"connectionStatus": 1})
        .await
        .unwrap();
    let users = status
        .get_document("authInfo")
        .unwrap()
        .get_array("authenticatedUsers")
        .unwrap();
    assert_eq!(users.len(), 1, "{status}");
    assert_eq!(
        users[0].as_document().unwrap(),
        &doc! {"user": "tlsuser", "db": "admin"}
    );
    user.database("tls")
        .collection::<bson::Document>("auth")
        .insert_one(doc! {"over": "tls"})
        .await
        .unwrap();

    let wrong = client(&uri, Some(("tlsuser", "not-the-password"))).await;
    let err = wrong
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .expect_err("a wrong password fails");
    assert!(
        err.to_string().contains("AuthenticationFailed") || err.to_string().contains("Authentication failed"),
        "{err}"
    );
    server.shutdown(Duration::from_secs(5)).await;
}
