//! Ending a logical session (endSessions) kills the cursors opened in it; other sessions' cursors live on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Binary, Document, doc, spec::BinarySubtype};
use docwire_tests::start_server;
use docwire_transport::client::{AsyncDbClient, ClientOptions};

fn lsid(byte: u8) -> Document {
    doc! {"id": Binary { subtype: BinarySubtype::Uuid, bytes: vec![byte; 16] }}
}

async fn open_cursor(client: &mut AsyncDbClient, session: &Document) -> i64 {
    let reply = client
        .run_command(
            "test",
            doc! {"find": "c", "batchSize": 2, "lsid": session.clone()},
        )
        .await
        .unwrap();
    reply.get_document("cursor").unwrap().get_i64("id").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_sessions_kills_that_sessions_cursors() {
    let server = start_server(&[], None).await;
    let addr = server.addrs[0].to_string();
    let mut client = AsyncDbClient::connect(&addr, Duration::from_secs(10), &ClientOptions::default())
        .await
        .unwrap();
    let docs: Vec<Document> = (0..10).map(|i| doc! {"_id": i}).collect();
    client
        .run_command("test", doc! {"insert": "c", "documents": docs})
        .await
        .unwrap();

    let ended = open_cursor(&mut client, &lsid(1)).await;
    let kept = open_cursor(&mut client, &lsid(2)).await;
    assert!(ended != 0 && kept != 0);
    let reply = client
        .run_command("admin", doc! {"endSessions": [lsid(1)]})
        .await
        .unwrap();
    assert_eq!(reply.get_f64("ok").unwrap(), 1.0);

    let get_more = |id: i64, session: Document| doc! {"getMore": id, "collection": "c", "lsid": session};
    let gone = client
        .run_command("test", get_more(ended, lsid(1)))
        .await
        .unwrap();
    assert_eq!(gone.get_i32("code").unwrap(), 43, "{gone:?}");
    let alive = client.run_command("test", get_more(kept, lsid(2))).await.unwrap();
    assert_eq!(alive.get_f64("ok").unwrap(), 1.0, "{alive:?}");
}
