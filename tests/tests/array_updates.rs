//! The Rust driver (the `mongodb` crate 3.9) updates array elements through docwire's embedded
//! database with `$[]` and `$[<identifier>]` plus `arrayFilters` (updateMany and findOneAndUpdate),
//! and reads back the stored documents; an identifier without a filter is mongod's BadValue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Document, doc};
use docwire_tests::{PATIENCE, start_server};
use futures::TryStreamExt;
use mongodb::options::{ClientOptions, ReturnDocument};
use mongodb::{Client, Collection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn array_filters_and_all_positional_through_the_driver() {
    let server = start_server(&[], None).await;
    let mut options = ClientOptions::parse(server.uri()).await.unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    let client = Client::with_options(options).unwrap();
    let students: Collection<Document> = client.database("school").collection("students");
    students
        .insert_many(vec![
            doc! {"_id": 1, "grades": [95, 92, 90]},
            doc! {"_id": 2, "grades": [98, 100, 102]},
            doc! {"_id": 3, "grades": [95, 110, 100]},
        ])
        .await
        .unwrap();
    let stored = || async {
        let docs: Vec<Document> = students
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        docs
    };

    let result = students
        .update_many(doc! {}, doc! {"$set": {"grades.$[g]": 100}})
        .array_filters(vec![doc! {"g": {"$gte": 100}}])
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (3, 2));
    assert_eq!(
        stored().await,
        vec![
            doc! {"_id": 1, "grades": [95, 92, 90]},
            doc! {"_id": 2, "grades": [98, 100, 100]},
            doc! {"_id": 3, "grades": [95, 100, 100]},
        ]
    );

    let result = students
        .update_many(doc! {"_id": {"$lte": 2}}, doc! {"$inc": {"grades.$[]": 1}})
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (2, 2));
    assert_eq!(
        stored().await,
        vec![
            doc! {"_id": 1, "grades": [96, 93, 91]},
            doc! {"_id": 2, "grades": [99, 101, 101]},
            doc! {"_id": 3, "grades": [95, 100, 100]},
        ]
    );

    let after = students
        .find_one_and_update(doc! {"_id": 3}, doc! {"$mul": {"grades.$[low]": 2}})
        .array_filters(vec![doc! {"low": {"$lt": 100}}])
        .return_document(ReturnDocument::After)
        .await
        .unwrap();
    assert_eq!(after, Some(doc! {"_id": 3, "grades": [190, 100, 100]}));

    let err = students
        .update_one(doc! {"_id": 1}, doc! {"$set": {"grades.$[x]": 0}})
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("No array filter found for identifier 'x' in path 'grades.$[x]'"),
        "{message}"
    );
    assert_eq!(stored().await[0], doc! {"_id": 1, "grades": [96, 93, 91]});

    drop(client);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}
