//! The cursor-returning commands other than find (aggregate, listCollections, listIndexes) through
//! `CommandEntryPoint::handle_request`: each reply is exactly `{cursor: {firstBatch, id, ns}, ok: 1.0}`
//! with those types and in that order, aggregate's `cursor: {batchSize}` sizes its first batch, and
//! getMore continues an aggregate cursor to its end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use bson::{Bson, Document, RawDocumentBuf, doc};
use docwire_db::commands::register_db_commands;
use docwire_db::database::install;
use docwire_db::storage::{MemoryEngine, StorageEngine};
use docwire_rpc::{OpMsg, OpMsgBuilder, OpMsgFlags};
use docwire_service::{MockClock, UniqueClient};
use docwire_transport::{CommandEntryPoint, CommandRegistry, RequestContext, ServiceEntryPoint};

struct Harness {
    entry: CommandEntryPoint,
    client: UniqueClient,
}

fn harness() -> Harness {
    let mut builder = docwire_service::ServiceContext::builder();
    let engine: Arc<dyn StorageEngine> = Arc::new(MemoryEngine::new());
    let deps = install(&mut builder, engine, Arc::new(MockClock::new()));
    let service = builder.build().unwrap();
    let mut registry = CommandRegistry::new();
    register_db_commands(&mut registry, &deps);
    Harness {
        entry: CommandEntryPoint::new(Arc::new(registry)),
        client: service.make_client("conn1", None).unwrap(),
    }
}

impl Harness {
    /// Runs `body` on database `db`; returns the reply body's bytes.
    async fn raw(&mut self, db: &str, mut body: Document) -> RawDocumentBuf {
        body.insert("$db", db);
        let message = OpMsgBuilder::new(OpMsgFlags::NONE)
            .finish_with_body(&body)
            .unwrap();
        let mut op_ctx = self.client.make_operation_context().unwrap();
        let mut ctx = RequestContext {
            client: &mut self.client,
            op_ctx: &mut op_ctx,
            session: None,
        };
        let response = self.entry.handle_request(&mut ctx, &message).await.unwrap();
        let reply = response.response.expect("a reply");
        OpMsg::parse(&reply).unwrap().body().to_owned()
    }

    async fn run(&mut self, db: &str, body: Document) -> Document {
        let reply = Document::try_from(self.raw(db, body.clone()).await.as_ref()).unwrap();
        assert_eq!(reply.get_f64("ok").ok(), Some(1.0), "{body}: {reply}");
        reply
    }
}

/// The reply drivers get: these fields, types and order, byte for byte.
fn cursor_reply(batch_field: &str, batch: Vec<Document>, id: i64, ns: &str) -> RawDocumentBuf {
    let batch: Vec<Bson> = batch.into_iter().map(Bson::Document).collect();
    let reply = doc! {"cursor": {batch_field: batch, "id": id, "ns": ns}, "ok": 1.0};
    RawDocumentBuf::try_from(&reply).unwrap()
}

fn cursor_id(reply: &Document) -> i64 {
    reply.get_document("cursor").unwrap().get_i64("id").unwrap()
}

#[tokio::test]
async fn aggregate_batch_size_and_get_more() {
    let mut h = harness();
    let docs: Vec<Document> = (0..10)
        .map(|i| doc! {"_id": i, "x": i * 10, "y": "drop"})
        .collect();
    h.run("db", doc! {"insert": "items", "documents": docs}).await;
    let pipeline = vec![
        doc! {"$match": {"x": {"$gte": 0}}},
        doc! {"$sort": {"_id": 1}},
        doc! {"$project": {"x": 1, "double": {"$multiply": ["$x", 2]}}},
    ];
    let expected = |i: i32| doc! {"_id": i, "x": i * 10, "double": i * 20};
    let command = doc! {"aggregate": "items", "pipeline": pipeline, "cursor": {"batchSize": 3}};
    let first = h.raw("db", command).await;
    let id = cursor_id(&Document::try_from(first.as_ref()).unwrap());
    assert_ne!(id, 0, "documents remain after the first batch");
    assert_eq!(
        first,
        cursor_reply("firstBatch", (0..3).map(expected).collect(), id, "db.items")
    );

    let more = doc! {"getMore": id, "collection": "items", "batchSize": 4};
    let second = h.raw("db", more.clone()).await;
    assert_eq!(
        second,
        cursor_reply("nextBatch", (3..7).map(expected).collect(), id, "db.items")
    );
    let last = h.raw("db", more.clone()).await;
    assert_eq!(
        last,
        cursor_reply("nextBatch", (7..10).map(expected).collect(), 0, "db.items")
    );
    // The exhausted cursor is gone.
    let gone = Document::try_from(h.raw("db", more).await.as_ref()).unwrap();
    assert_eq!(gone.get_i32("code").ok(), Some(43), "{gone}");
}

#[tokio::test]
async fn aggregate_without_a_batch_size_answers_in_one_batch() {
    let mut h = harness();
    h.run(
        "db",
        doc! {"insert": "items", "documents": [{"_id": 1}, {"_id": 2}]},
    )
    .await;
    let command = doc! {"aggregate": "items", "pipeline": [{"$sort": {"_id": -1}}], "cursor": {}};
    assert_eq!(
        h.raw("db", command).await,
        cursor_reply(
            "firstBatch",
            vec![doc! {"_id": 2}, doc! {"_id": 1}],
            0,
            "db.items"
        )
    );
    let without_cursor = doc! {"aggregate": "items", "pipeline": []};
    let reply = Document::try_from(h.raw("db", without_cursor).await.as_ref()).unwrap();
    assert_eq!(reply.get_i32("code").ok(), Some(9), "FailedToParse: {reply}");
}

#[tokio::test]
async fn list_collections_reply() {
    let mut h = harness();
    h.run("db", doc! {"create": "a"}).await;
    h.run("db", doc! {"create": "b"}).await;
    let command = doc! {"listCollections": 1, "nameOnly": true, "filter": {"name": "b"}};
    assert_eq!(
        h.raw("db", command).await,
        cursor_reply(
            "firstBatch",
            vec![doc! {"name": "b", "type": "collection"}],
            0,
            "db.$cmd.listCollections"
        )
    );
    let empty = h.raw("other", doc! {"listCollections": 1}).await;
    assert_eq!(
        empty,
        cursor_reply("firstBatch", Vec::new(), 0, "other.$cmd.listCollections")
    );
}

#[tokio::test]
async fn list_indexes_reply() {
    let mut h = harness();
    let index = doc! {"key": {"x": 1}, "name": "x_1"};
    h.run("db", doc! {"createIndexes": "items", "indexes": [index]})
        .await;
    let reply = h.raw("db", doc! {"listIndexes": "items"}).await;
    let batch = Document::try_from(reply.as_ref())
        .unwrap()
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap()
        .iter()
        .map(|spec| spec.as_document().unwrap().clone())
        .collect::<Vec<_>>();
    let names: Vec<&str> = batch.iter().map(|s| s.get_str("name").unwrap()).collect();
    assert_eq!(names, ["_id_", "x_1"]);
    assert_eq!(reply, cursor_reply("firstBatch", batch, 0, "db.items"));
}
