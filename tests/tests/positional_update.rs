//! The Rust driver (the `mongodb` crate 3.9) updates the array element its query matched with the
//! positional `$` through docwire's embedded database (updateOne, findOneAndUpdate), and gets
//! mongod's BadValue when the query matched through no array or an upsert inserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bson::{Document, doc};
use docwire_tests::{PATIENCE, start_server};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, ReturnDocument};
use mongodb::{Client, Collection};

/// The write error's code, or a panic naming what came back instead.
fn write_error_code(err: &mongodb::error::Error) -> i32 {
    match &*err.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code,
        ErrorKind::Command(e) => e.code,
        other => panic!("not a write error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positional_operator_through_the_driver() {
    let server = start_server(&[], None).await;
    let mut options = ClientOptions::parse(server.uri()).await.unwrap();
    options.server_selection_timeout = Some(PATIENCE);
    let client = Client::with_options(options).unwrap();
    let students: Collection<Document> = client.database("school").collection("students");
    students
        .insert_many(vec![
            doc! {"_id": 1, "grades": [85, 80, 80]},
            doc! {"_id": 4, "grades": [
                {"grade": 80, "mean": 75, "std": 8},
                {"grade": 85, "mean": 90, "std": 5},
                {"grade": 85, "mean": 85, "std": 8},
            ]},
        ])
        .await
        .unwrap();
    let stored = |id: i32| {
        let students = students.clone();
        async move { students.find_one(doc! {"_id": id}).await.unwrap().unwrap() }
    };

    let result = students
        .update_one(doc! {"_id": 1, "grades": 80}, doc! {"$set": {"grades.$": 82}})
        .await
        .unwrap();
    assert_eq!((result.matched_count, result.modified_count), (1, 1));
    assert_eq!(stored(1).await, doc! {"_id": 1, "grades": [85, 82, 80]});

    let after = students
        .find_one_and_update(
            doc! {"_id": 4, "grades.grade": 85},
            doc! {"$set": {"grades.$.std": 6}, "$inc": {"grades.$.mean": 1}},
        )
        .return_document(ReturnDocument::After)
        .await
        .unwrap();
    assert_eq!(
        after,
        Some(doc! {"_id": 4, "grades": [
            {"grade": 80, "mean": 75, "std": 8},
            {"grade": 85, "mean": 91, "std": 6},
            {"grade": 85, "mean": 85, "std": 8},
        ]})
    );

    // The query matched through no array: BadValue, and the document is unchanged.
    let err = students
        .update_one(doc! {"_id": 1}, doc! {"$set": {"grades.$": 0}})
        .await
        .unwrap_err();
    assert_eq!(write_error_code(&err), 2, "{err}");
    assert!(
        err.to_string()
            .contains("The positional operator did not find the match needed from the query."),
        "{err}"
    );
    assert_eq!(stored(1).await, doc! {"_id": 1, "grades": [85, 82, 80]});

    // An upsert that inserts has no matched element either.
    let err = students
        .update_one(doc! {"_id": 7, "grades": 80}, doc! {"$set": {"grades.$": 0}})
        .upsert(true)
        .await
        .unwrap_err();
    assert_eq!(write_error_code(&err), 2, "{err}");
    assert_eq!(students.count_documents(doc! {"_id": 7}).await.unwrap(), 0);

    drop(client);
    assert!(server.shutdown(Duration::from_secs(5)).await);
}
