//! The Rust driver's (the `mongodb` crate 3.9) run of the CRUD scenario, shared by the direct tests
//! (tests/tests/rust_driver_crud.rs) and the proxy tests (tests/tests/proxy_crud.rs): the same steps as
//! tests/drivers/pymongo_crud.py and node_crud.mjs, reported as JSON for [`crate::crud`]. The driver has no
//! exhaust cursor (it streams only its monitor's hello), and it refuses w:0, so those writes go out with
//! moreToCome on docwire's own client and the driver reads them back; the report says so.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use bson::{Bson, Document, doc};
use docwire_transport::client::{AsyncDbClient, ClientOptions as WireOptions};
use futures::TryStreamExt;
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use mongodb::options::{ClientOptions, CollectionOptions, IndexOptions, ReturnDocument, WriteConcern};
use mongodb::{Client, Collection, IndexModel};
use serde_json::{Map, Value, json};

use crate::PATIENCE;
use crate::crud::{EXHAUST_BATCH, GET_MORE_BATCH, N};

type Outcome = mongodb::error::Result<Value>;

fn to_json(d: impl serde::Serialize) -> Value {
    serde_json::to_value(d).expect("a document as JSON")
}

fn item(i: i64) -> Document {
    let i = i32::try_from(i).unwrap();
    doc! {"_id": i, "n": i, "group": i % 5, "tag": format!("t{}", i % 3), "sub": {"k": i % 7}, "s": "doc"}
}

async fn step(steps: &mut Map<String, Value>, name: &str, body: impl Future<Output = Outcome>) {
    let result = body.await.unwrap_or_else(|e| json!({"error": e.to_string()}));
    steps.insert(name.to_owned(), result);
}

async fn ids(items: &Collection<Document>, batch: i64, get_mores: &AtomicI64) -> Outcome {
    let before = get_mores.load(Ordering::SeqCst);
    let docs: Vec<Document> = items
        .find(doc! {})
        .projection(doc! {"_id": 1})
        .batch_size(u32::try_from(batch).unwrap())
        .await?
        .try_collect()
        .await?;
    let mut ids: Vec<i32> = docs.iter().map(|d| d.get_i32("_id").unwrap()).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    Ok(json!({
        "count": count,
        "distinctIds": ids.len(),
        "getMores": get_mores.load(Ordering::SeqCst) - before,
    }))
}

/// Runs the CRUD scenario with the Rust driver against `uri` (w:0 writes go to `host` on docwire's own
/// client, since the driver refuses w:0) and returns its report for [`crate::crud::assert_crud`].
pub async fn scenario(uri: &str, host: &str) -> Value {
    let get_mores = Arc::new(AtomicI64::new(0));
    let mut options = ClientOptions::parse(uri).await.expect("the URI");
    options.server_selection_timeout = Some(PATIENCE);
    let counter = get_mores.clone();
    options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Succeeded(e) = event
            && e.command_name == "getMore"
        {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let client = Client::with_options(options).expect("a client");
    let db = client.database("crud");
    let items: Collection<Document> = db.collection("items");
    let mut steps = Map::new();

    step(&mut steps, "insertMany", async {
        let result = items.insert_many((0..N).map(item)).await?;
        Ok(json!({"inserted": result.inserted_ids.len()}))
    })
    .await;
    step(&mut steps, "find", async {
        let ranged: Vec<Document> = items
            .find(doc! {"n": {"$gte": 10, "$lt": 20}, "sub.k": {"$ne": 0}})
            .projection(doc! {"_id": 0, "n": 1, "sub.k": 1})
            .sort(doc! {"n": -1})
            .await?
            .try_collect()
            .await?;
        let either: Vec<Document> = items
            .find(doc! {"$or": [{"n": {"$lt": 3}}, {"n": {"$gt": N - 4}}]})
            .projection(doc! {"n": 1})
            .sort(doc! {"n": 1})
            .await?
            .try_collect()
            .await?;
        let either: Vec<i32> = either.iter().map(|d| d.get_i32("n").unwrap()).collect();
        Ok(json!({"ranged": to_json(ranged), "either": either}))
    })
    .await;
    step(&mut steps, "getMores", ids(&items, GET_MORE_BATCH, &get_mores)).await;
    step(&mut steps, "exhaust", async {
        // The closest the driver has: a plain cursor with the exhaust step's batch size.
        let plain = ids(&items, EXHAUST_BATCH, &get_mores).await?;
        Ok(json!({
            "supported": false,
            "reason": format!(
                "the Rust driver has no exhaust cursor (only its monitor streams hello); a plain cursor \
                 read {} documents over {} getMores",
                plain["count"], plain["getMores"]
            ),
        }))
    })
    .await;
    step(&mut steps, "update", async {
        let many = items
            .update_many(
                doc! {"group": 0},
                doc! {"$inc": {"n": 100_000}, "$set": {"touched": true}},
            )
            .await?;
        let upsert = items
            .update_one(doc! {"_id": "up"}, doc! {"$set": {"n": -1}})
            .upsert(true)
            .await?;
        let again = items
            .update_one(doc! {"_id": "up"}, doc! {"$set": {"n": -1}})
            .upsert(true)
            .await?;
        let summary = |r: &mongodb::results::UpdateResult| {
            json!({
                "matched": r.matched_count,
                "modified": r.modified_count,
                "upsertedId": r.upserted_id.clone().map(to_json),
            })
        };
        Ok(json!({
            "many": {"matched": many.matched_count, "modified": many.modified_count},
            "upsert": summary(&upsert),
            "again": summary(&again),
            "upserted": to_json(items.find_one(doc! {"_id": "up"}).await?),
            "touched": to_json(
                items.find_one(doc! {"_id": 10}).projection(doc! {"_id": 0, "n": 1, "touched": 1}).await?
            ),
        }))
    })
    .await;
    step(&mut steps, "delete", async {
        let many = items.delete_many(doc! {"group": 4}).await?;
        let one = items.delete_one(doc! {"_id": "up"}).await?;
        let remaining: Vec<Document> = items
            .find(doc! {})
            .projection(doc! {"_id": 1})
            .await?
            .try_collect()
            .await?;
        Ok(json!({"many": many.deleted_count, "one": one.deleted_count, "remaining": remaining.len()}))
    })
    .await;
    step(&mut steps, "findOneAndUpdate", async {
        let after = items
            .find_one_and_update(doc! {"_id": 7}, doc! {"$set": {"flag": "x"}, "$inc": {"n": 1}})
            .projection(doc! {"n": 1, "flag": 1})
            .return_document(ReturnDocument::After)
            .await?;
        let before = items
            .find_one_and_update(doc! {"_id": 8}, doc! {"$set": {"flag": "y"}})
            .projection(doc! {"n": 1, "flag": 1})
            .await?;
        let missing = items
            .find_one_and_update(doc! {"_id": "nothing"}, doc! {"$set": {"flag": "z"}})
            .await?;
        Ok(json!({"after": to_json(after), "before": to_json(before), "missing": to_json(missing)}))
    })
    .await;
    step(&mut steps, "countDocuments", async {
        Ok(json!({
            "group1": items.count_documents(doc! {"group": 1}).await?,
            "all": items.count_documents(doc! {}).await?,
        }))
    })
    .await;
    step(&mut steps, "distinct", async {
        let sorted = |mut values: Vec<Bson>| {
            values.sort_by_key(ToString::to_string);
            to_json(values)
        };
        Ok(json!({
            "tags": sorted(items.distinct("tag", doc! {}).await?),
            "groups": sorted(items.distinct("group", doc! {"n": {"$lt": 10}}).await?),
        }))
    })
    .await;
    step(&mut steps, "aggregate", async {
        let groups: Vec<Document> = items
            .aggregate([
                doc! {"$match": {"group": {"$in": [1, 2, 3]}}},
                doc! {"$group": {
                    "_id": "$group",
                    "count": {"$sum": 1},
                    "maxN": {"$max": "$n"},
                    "total": {"$sum": "$n"},
                }},
                doc! {"$sort": {"_id": -1}},
            ])
            .await?
            .try_collect()
            .await?;
        Ok(json!({"groups": to_json(groups)}))
    })
    .await;
    step(&mut steps, "indexes", async {
        let n = items
            .create_index(IndexModel::builder().keys(doc! {"n": 1}).build())
            .await?;
        let tag_n = items
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"tag": 1, "n": -1})
                    .options(IndexOptions::builder().name("tag_n".to_owned()).build())
                    .build(),
            )
            .await?;
        let mut listed = items.list_index_names().await?;
        listed.sort();
        items.drop_index("n_1").await?;
        let mut after_drop = items.list_index_names().await?;
        after_drop.sort();
        Ok(json!({
            "created": [n.index_name, tag_n.index_name],
            "listed": listed,
            "afterDrop": after_drop,
        }))
    })
    .await;
    step(&mut steps, "w0", async {
        // The driver refuses w:0 ("Unacknowledged write concerns are not supported"), so the same
        // writes go out with moreToCome on docwire's own client, and the driver reads them back.
        let w0: Collection<Document> = db.collection_with_options(
            "w0",
            CollectionOptions::builder()
                .write_concern(WriteConcern::nodes(0))
                .build(),
        );
        let refused = w0
            .insert_one(doc! {"_id": 100, "w": 0})
            .await
            .expect_err("the Rust driver refuses w:0");
        let mut wire = AsyncDbClient::connect(host, PATIENCE, &WireOptions::default())
            .await
            .expect("docwire's client connects");
        let docs: Vec<Document> = (0..100).map(|i| doc! {"_id": i, "w": 0}).collect();
        wire.run_fire_and_forget(
            "crud",
            doc! {"insert": "w0", "documents": docs, "writeConcern": {"w": 0}},
        )
        .await
        .expect("a moreToCome insert");
        wire.run_fire_and_forget(
            "crud",
            doc! {"insert": "w0", "documents": [{"_id": 100, "w": 0}], "writeConcern": {"w": 0}},
        )
        .await
        .expect("a moreToCome insert");
        let reader: Collection<Document> = db.collection("w0");
        let deadline = Instant::now() + PATIENCE;
        let mut visible = 0;
        while Instant::now() < deadline {
            let seen: Vec<Document> = reader
                .find(doc! {"w": 0})
                .projection(doc! {"_id": 1})
                .await?
                .try_collect()
                .await?;
            visible = seen.len();
            if visible == 101 {
                break;
            }
        }
        Ok(json!({
            "acknowledged": false,
            "visible": visible,
            "note": format!("the Rust driver refuses w:0 ({refused}); written by docwire's AsyncDbClient"),
        }))
    })
    .await;
    client.shutdown().await;
    json!({"driver": "mongodb (Rust) 3.9", "steps": steps})
}
