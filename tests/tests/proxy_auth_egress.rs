//! Egress SCRAM: docwire's own client and the connection pool authenticate to an in-process
//! `docwire --auth` server with SCRAM-SHA-256 and SCRAM-SHA-1 (the client side in
//! `transport::client::scram_client`); a pooled connection arrives authenticated (it may read what its
//! user may read, and nothing it may not); a wrong password fails with AuthenticationFailed (18).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use bson::doc;
use docwire_pool::{ClientConnection, ClientConnectionFactory, ConnectionPool, Options};
use docwire_rpc::{ErrorCode, Status};
use docwire_service::{Clock, SystemClock};
use docwire_tests::proxy::{command, number, wire};
use docwire_tests::{PATIENCE, start_server};
use docwire_transport::auth::ScramMechanism;
use docwire_transport::client::{ClientOptions, Credentials, authenticate};

fn pool_as(credentials: Credentials) -> Arc<ConnectionPool<ClientConnection>> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new().unwrap());
    let factory = ClientConnectionFactory::new(ClientOptions::default()).with_credentials(Some(credentials));
    Arc::new(ConnectionPool::new("proxy-auth-egress", factory, clock, Options::default()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_authenticates_with_both_mechanisms_and_a_wrong_password_fails() {
    let server = start_server(&["--auth", "--authFailedDelayMs", "0"], None).await;
    let host = server.addrs[0].to_string();
    // The localhost exception: the first user, then one that may only read `app`.
    command(
        &host,
        "admin",
        doc! {"createUser": "root", "pwd": "root-pw", "roles": ["root"]},
    )
    .await;
    let mut root = wire(&host).await;
    authenticate(
        &mut root,
        &Credentials::new("root", "admin", "root-pw", ScramMechanism::Sha256),
    )
    .await
    .unwrap();
    let created = root
        .run_command(
            "admin",
            doc! {"createUser": "svc", "pwd": "svc-pw", "roles": [{"role": "read", "db": "app"}]},
        )
        .await
        .unwrap();
    assert!(Status::from_reply_document(&created).is_none(), "{created}");
    let inserted = root
        .run_command("app", doc! {"insert": "c", "documents": [{"_id": 1}]})
        .await
        .unwrap();
    assert!(Status::from_reply_document(&inserted).is_none(), "{inserted}");

    for mechanism in ScramMechanism::ALL {
        let pool = pool_as(Credentials::new("svc", "admin", "svc-pw", mechanism));
        let mut conn = tokio::time::timeout(PATIENCE, pool.get(&host, None))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: {e}", mechanism.name()));
        let status = conn
            .run_and_mark("admin", doc! {"connectionStatus": 1})
            .await
            .unwrap();
        let users = status
            .get_document("authInfo")
            .unwrap()
            .get_array("authenticatedUsers")
            .unwrap();
        assert_eq!(users.len(), 1, "{} {status}", mechanism.name());
        let found = conn
            .run_and_mark("app", doc! {"find": "c", "filter": {}})
            .await
            .unwrap();
        assert!(Status::from_reply_document(&found).is_none(), "{found}");
        // The pooled connection is the user's: read may not write.
        let refused = conn
            .run_and_mark("app", doc! {"insert": "c", "documents": [{"_id": 2}]})
            .await
            .unwrap();
        assert_eq!(
            Status::from_reply_document(&refused).map(|s| s.code()),
            Some(ErrorCode::Unauthorized),
            "{refused}"
        );
        drop(conn);
        pool.shutdown();

        let wrong = pool_as(Credentials::new("svc", "admin", "not-the-password", mechanism));
        let err = tokio::time::timeout(PATIENCE, wrong.get(&host, None))
            .await
            .unwrap()
            .expect_err("a wrong password fails");
        assert_eq!(err.code(), ErrorCode::AuthenticationFailed, "{err}");
        assert!(
            err.reason().contains("svc@admin") && !err.reason().contains("not-the-password"),
            "{err}"
        );
        wrong.shutdown();
    }

    // The plain client too, and an unknown user is refused as a wrong password is.
    let mut client = wire(&host).await;
    let err = authenticate(
        &mut client,
        &Credentials::new("nobody", "admin", "x", ScramMechanism::Sha1),
    )
    .await
    .expect_err("an unknown user fails");
    assert_eq!(err.code(), ErrorCode::AuthenticationFailed, "{err}");
    authenticate(
        &mut client,
        &Credentials::new("svc", "admin", "svc-pw", ScramMechanism::Sha1),
    )
    .await
    .unwrap();
    let found = client.run_command("app", doc! {"count": "c"}).await.unwrap();
    assert_eq!(number(&found, "n"), 1, "{found}");
}
