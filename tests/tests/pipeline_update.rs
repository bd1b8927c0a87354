//! The Rust driver (the `mongodb` crate) sends pipeline-style updates (`UpdateModifications::Pipeline`)
//! through docwire's embedded database: updateOne, updateMany, an upsert, findOneAndUpdate before and
//! after, and mongod's errors for a disallowed stage, `arrayFilters`, and a changed `_id`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Document, doc};
use docwire_tests::{PATIENCE, start_server};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, ReturnDocument, UpdateModifications};
use mongodb::{Client, Collection};

/// The write error's code and message, or a panic naming what came back instead.
fn write_error(err: &mongodb::error::Error) -> (i32, String) {
    match &*err.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => (e.code, e.message.clone()),
        ErrorKind::Command(e) => (e.code, e.message.clone()),
        other => panic!("not a write error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_updates_through_the_driver() {
    let server = start_server(&[], None).await;
    let mut options = ClientOptions::parse(server.uri()).await.unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    let client = Client::with_options(options).unwrap();
    let students: Collection<Document> = client.database("school").collection("students");
    students
        .insert_many(vec![
            doc! {"_id": 1, "quiz1": 8, "test2": 100, "quiz2": 9, "tmp": 1},
            doc! {"_id": 2, "quiz2": 5, "test1": 80, "test2": 89, "tmp": 2},
        ])
        .await
        .unwrap();
    let stored = |id: i32| {
        let students = students.clone();
        async move { students.find_one(doc! {"_id": id}).await.unwrap().unwrap() }
    };

    // updateOne: a sum of two fields.
    let result = students
        .update_one(
            doc! {"_id": 1},
            vec![doc! {"$set": {"total": {"$add": ["$quiz1", "$quiz2"]}}}],
        )
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (1, 1));
    assert_eq!(stored(1).await.get_i32("total").unwrap(), 17);

    // updateMany: defaults merged under each document, then a field list unset.
    let result = students
        .update_many(
            doc! {},
            vec![
                doc! {"$replaceRoot": {"newRoot": {
                    "$mergeObjects": [{"quiz1": 0, "quiz2": 0, "test1": 0, "test2": 0}, "$$ROOT"]
                }}},
                doc! {"$unset": ["tmp", "total"]},
            ],
        )
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (2, 2));
    assert_eq!(
        stored(1).await,
        doc! {"_id": 1, "quiz1": 8, "quiz2": 9, "test1": 0, "test2": 100}
    );
    assert_eq!(
        stored(2).await,
        doc! {"_id": 2, "quiz1": 0, "quiz2": 5, "test1": 80, "test2": 89}
    );

    // Running it again changes nothing.
    let result = students
        .update_many(doc! {}, vec![doc! {"$unset": "tmp"}])
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (2, 0));

    // An upsert runs the pipeline on the query's equality fields.
    let result = students
        .update_one(
            doc! {"_id": 3, "quiz1": 4},
            vec![doc! {"$set": {"double": {"$multiply": ["$quiz1", 2]}}}],
        )
        .upsert(true)
        .await
        .unwrap();
    assert_eq!(result.upserted_id, Some(bson::Bson::Int32(3)));
    assert_eq!(stored(3).await, doc! {"_id": 3, "quiz1": 4, "double": 8});

    // findOneAndUpdate returns the document as it was, or as it became.
    let before = students
        .find_one_and_update(
            doc! {"_id": 3},
            UpdateModifications::Pipeline(vec![doc! {"$set": {"double": 0}}]),
        )
        .await
        .unwrap();
    assert_eq!(before, Some(doc! {"_id": 3, "quiz1": 4, "double": 8}));
    let after = students
        .find_one_and_update(doc! {"_id": 3}, vec![doc! {"$project": {"quiz1": 1}}])
        .return_document(ReturnDocument::After)
        .await
        .unwrap();
    assert_eq!(after, Some(doc! {"_id": 3, "quiz1": 4}));

    // A stage that is not one document in, one out: InvalidOptions 72.
    let err = students
        .update_one(doc! {"_id": 1}, vec![doc! {"$group": {"_id": "$quiz1"}}])
        .await
        .unwrap_err();
    assert_eq!(
        write_error(&err),
        (72, "$group is not allowed to be used within an update".to_owned())
    );
    let err = students
        .find_one_and_update(doc! {"_id": 1}, vec![doc! {"$match": {"quiz1": 8}}])
        .await
        .unwrap_err();
    assert_eq!(
        write_error(&err),
        (72, "$match is not allowed to be used within an update".to_owned())
    );

    // arrayFilters belong to update operators: FailedToParse 9.
    let err = students
        .update_one(doc! {"_id": 1}, vec![doc! {"$set": {"a": 1}}])
        .array_filters(vec![doc! {"x": 1}])
        .await
        .unwrap_err();
    assert_eq!(
        write_error(&err),
        (
            9,
            "arrayFilters may not be specified for pipeline-syle updates".to_owned()
        )
    );

    // `_id` may not change: ImmutableField 66, and the document stays as it was.
    let err = students
        .update_one(doc! {"_id": 1}, vec![doc! {"$set": {"_id": 10}}])
        .await
        .unwrap_err();
    assert_eq!(write_error(&err).0, 66, "{err}");
    assert_eq!(
        stored(1).await,
        doc! {"_id": 1, "quiz1": 8, "quiz2": 9, "test1": 0, "test2": 100}
    );
}
