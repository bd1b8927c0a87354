//! Exhaust and moreToCome through the proxy, with docwire's own wire client (drivers refuse exhaust
//! cursors on a mongos): an exhaustAllowed getMore streams every remaining batch from the upstream to the
//! client (every document arrives once, the upstream's session walks its exhaust states, and the client
//! connection and the pool are in step afterwards), and a w:0 (moreToCome) insert through the proxy is
//! applied upstream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use bson::{Bson, Document, doc};
use docwire_tests::proxy::{address, number, proxy_config, start, wire};
use docwire_tests::{State, Transitions, start_server};

const DOCS: i32 = 1000;
const FIRST_BATCH: i32 = 10;
const STREAM_BATCH: i32 = 100;
/// The getMore batches after the first: (1000 - 10) / 100 rounded up.
const STREAMED_BATCHES: usize = 10;

/// One reply of an exhaust stream followed by the next, on the upstream.
const EXHAUST: [State; 4] = [
    State::ProcessExhaust,
    State::SinkMoreToCome,
    State::SinkWait,
    State::ProcessExhaust,
];

fn ids(batch: &[Bson]) -> Vec<i32> {
    batch
        .iter()
        .map(|d| d.as_document().unwrap().get_i32("_id").unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhaust_get_more_streams_every_batch_through_the_proxy() {
    let transitions = Transitions::new();
    let server = start_server(&[], Some(&transitions)).await;
    let proxy = start(proxy_config(&server.addrs[0].to_string())).await;
    let mut client = wire(&address(&proxy)).await;

    let docs: Vec<Document> = (0..DOCS)
        .map(|i| doc! {"_id": i, "pad": "x".repeat(100)})
        .collect();
    let inserted = client
        .run_command("test", doc! {"insert": "items", "documents": docs})
        .await
        .unwrap();
    assert_eq!(number(&inserted, "n"), i64::from(DOCS), "{inserted}");

    let found = client
        .run_command("test", doc! {"find": "items", "batchSize": FIRST_BATCH})
        .await
        .unwrap();
    let cursor = found.get_document("cursor").unwrap();
    let id = cursor.get_i64("id").unwrap();
    assert_ne!(id, 0, "{found}");
    let mut seen = ids(cursor.get_array("firstBatch").unwrap());

    let mut stream = client
        .run_exhaust_command(
            "test",
            doc! {"getMore": id, "collection": "items", "batchSize": STREAM_BATCH},
        )
        .await
        .unwrap();
    let mut replies = 0_usize;
    let mut streamed = 0_usize;
    let mut last_id = None;
    while let Some(reply) = stream.next().await {
        let (body, more_to_come) = reply.unwrap();
        assert_eq!(number(&body, "ok"), 1, "{body}");
        let cursor = body.get_document("cursor").unwrap();
        seen.extend(ids(cursor.get_array("nextBatch").unwrap()));
        replies += 1;
        streamed += usize::from(more_to_come);
        last_id = Some(cursor.get_i64("id").unwrap());
    }

    // Every document once, in batches that streamed with moreToCome until the last.
    let distinct: BTreeSet<i32> = seen.iter().copied().collect();
    assert_eq!(
        seen.len(),
        usize::try_from(DOCS).unwrap(),
        "every document arrives once"
    );
    assert_eq!(distinct, (0..DOCS).collect(), "every document arrives");
    assert!(
        replies >= STREAMED_BATCHES,
        "{replies} replies for {STREAMED_BATCHES} batches"
    );
    assert_eq!(streamed, replies - 1, "all replies but the last have moreToCome");
    assert_eq!(last_id, Some(0), "the last reply closes the cursor");
    transitions
        .wait_until("the upstream's exhaust stream", |t| {
            !t.sessions_that_walked(&EXHAUST).is_empty()
        })
        .await;

    // The client connection is in step, and no upstream connection stays pinned.
    let ping = client.run_command("admin", doc! {"ping": 1}).await.unwrap();
    assert_eq!(number(&ping, "ok"), 1, "{ping}");
    let status = client
        .run_command("admin", doc! {"serverStatus": 1})
        .await
        .unwrap();
    assert_eq!(number(&status, "proxy.pinned.connections"), 0, "{status}");
    assert_eq!(number(&status, "proxy.pinned.cursors"), 0, "{status}");
    let again = client.run_command("test", doc! {"count": "items"}).await.unwrap();
    assert_eq!(number(&again, "n"), i64::from(DOCS), "{again}");

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

/// w:0 (moreToCome) inserts through the proxy are applied, get no reply, and stay in order with the
/// client's next request: a count sent right after a burst of them sees every one, with no waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_to_come_inserts_through_the_proxy_are_applied_in_order() {
    let server = start_server(&[], None).await;
    let proxy = start(proxy_config(&server.addrs[0].to_string())).await;
    let mut client = wire(&address(&proxy)).await;
    // Another client keeps the pool's connections busy, so the burst and the count may use different ones.
    let mut other = wire(&address(&proxy)).await;

    for round in 0..20 {
        let docs: Vec<Document> = (0..50).map(|i| doc! {"_id": round * 50 + i, "w": 0}).collect();
        let sent = client
            .run_fire_and_forget(
                "test",
                doc! {"insert": "w0", "documents": docs, "writeConcern": {"w": 0}},
            )
            .await
            .unwrap();
        assert_eq!(number(&sent, "ok"), 1);
        other.run_command("test", doc! {"ping": 1}).await.unwrap();
    }
    // The proxy answered none of them: the next reply on this connection is the count's own.
    let count = client
        .run_command("test", doc! {"count": "w0", "query": {"w": 0}})
        .await
        .unwrap();
    assert_eq!(number(&count, "n"), 1000, "{count}");

    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}

/// A cursor opened outside a logical session belongs to its upstream connection: its getMore and its
/// killCursors reach that connection through the proxy (on any other, docwire would refuse them), and
/// once killed it is gone (CursorNotFound 43).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_less_cursor_is_read_and_killed_on_its_own_connection() {
    let server = start_server(&[], None).await;
    let proxy = start(proxy_config(&server.addrs[0].to_string())).await;
    let mut client = wire(&address(&proxy)).await;
    let docs: Vec<Document> = (0..50).map(|i| doc! {"_id": i}).collect();
    client
        .run_command("test", doc! {"insert": "loose", "documents": docs})
        .await
        .unwrap();
    // Another client's traffic in between takes pool connections, so only a pin keeps the owner.
    let mut other = wire(&address(&proxy)).await;
    let found = client
        .run_command("test", doc! {"find": "loose", "batchSize": 5})
        .await
        .unwrap();
    let id = found.get_document("cursor").unwrap().get_i64("id").unwrap();
    other
        .run_command("test", doc! {"find": "loose", "batchSize": 1})
        .await
        .unwrap();
    let more = client
        .run_command(
            "test",
            doc! {"getMore": id, "collection": "loose", "batchSize": 5},
        )
        .await
        .unwrap();
    assert_eq!(number(&more, "ok"), 1, "{more}");
    assert_eq!(
        more.get_document("cursor")
            .unwrap()
            .get_array("nextBatch")
            .unwrap()
            .len(),
        5
    );
    other
        .run_command("test", doc! {"find": "loose", "batchSize": 1})
        .await
        .unwrap();
    let killed = client
        .run_command("test", doc! {"killCursors": "loose", "cursors": [id]})
        .await
        .unwrap();
    assert_eq!(
        killed.get_array("cursorsKilled").unwrap(),
        &vec![Bson::Int64(id)],
        "{killed}"
    );
    let gone = client
        .run_command("test", doc! {"getMore": id, "collection": "loose"})
        .await
        .unwrap();
    assert_eq!(number(&gone, "code"), 43, "{gone}");
    assert!(proxy.shutdown(Duration::from_secs(5)).await);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}
