//! Pipeline-style updates (`u: [stages]`): the examples of MongoDB's "Updates with Aggregation
//! Pipeline" documentation (without `$$NOW`, which the evaluator lacks), the upsert document, and
//! mongod's errors for stages an update may not hold, `arrayFilters`, and a changed `_id`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, DateTime, Document, doc};
use docwire_db::update::{ApplyContext, UpdateSpec};
use docwire_rpc::{ErrorCode, StatusResult};

fn ctx() -> ApplyContext {
    ApplyContext {
        is_upsert_insert: false,
        now: DateTime::from_millis(0),
    }
}

fn stages(pipeline: &[Document]) -> Bson {
    Bson::Array(pipeline.iter().cloned().map(Bson::Document).collect())
}

/// Applies the pipeline to `initial`: the new document and whether it changed.
fn run(initial: &Document, pipeline: &[Document]) -> StatusResult<(Document, bool)> {
    let spec = UpdateSpec::parse_modification(&stages(pipeline), &[])?;
    let mut doc = initial.clone();
    let changed = spec.apply(&mut doc, ctx())?;
    Ok((doc, changed))
}

fn bytes(d: &Document) -> Vec<u8> {
    d.to_vec().unwrap()
}

#[test]
fn documented_examples() {
    let cases: &[(Document, Vec<Document>, Document)] = &[
        // updateOne with $set (the documentation also sets `modified: "$$NOW"`).
        (
            doc! {"_id": 3, "test1": 95, "test2": 110},
            vec![doc! {"$set": {"test3": 98}}],
            doc! {"_id": 3, "test1": 95, "test2": 110, "test3": 98},
        ),
        // updateMany with $replaceRoot and $mergeObjects: missing quiz/test fields default to 0.
        (
            doc! {"_id": 1, "quiz1": 8, "test2": 100, "quiz2": 9},
            vec![doc! {"$replaceRoot": {"newRoot": {
                "$mergeObjects": [{"quiz1": 0, "quiz2": 0, "test1": 0, "test2": 0}, "$$ROOT"]
            }}}],
            doc! {"_id": 1, "quiz1": 8, "quiz2": 9, "test1": 0, "test2": 100},
        ),
        // updateMany with two $set stages, the second reading what the first computed.
        (
            doc! {"_id": 1, "tests": [95, 92, 90]},
            vec![
                doc! {"$set": {"average": {"$floor": {"$avg": "$tests"}}}},
                doc! {"$set": {"grade": {"$switch": {
                    "branches": [
                        {"case": {"$gte": ["$average", 90]}, "then": "A"},
                        {"case": {"$gte": ["$average", 80]}, "then": "B"},
                    ],
                    "default": "F"
                }}}},
            ],
            doc! {"_id": 1, "tests": [95, 92, 90], "average": 92.0, "grade": "A"},
        ),
        // updateOne with $concatArrays.
        (
            doc! {"_id": 2, "quizzes": [5, 6, 7]},
            vec![doc! {"$set": {"quizzes": {"$concatArrays": ["$quizzes", [8, 6]]}}}],
            doc! {"_id": 2, "quizzes": [5, 6, 7, 8, 6]},
        ),
        // updateMany with $map and $addFields: Celsius to Fahrenheit.
        (
            doc! {"_id": 1, "tempsC": [4, 12, 17]},
            vec![doc! {"$addFields": {"tempsF": {"$map": {
                "input": "$tempsC",
                "as": "celsius",
                "in": {"$add": [{"$multiply": ["$$celsius", 1.8]}, 32]}
            }}}}],
            doc! {"_id": 1, "tempsC": [4, 12, 17], "tempsF": [39.2, 53.6, 62.6]},
        ),
        // $unset with a list of fields, then $set of a sum of two fields.
        (
            doc! {"_id": 1, "a": 2, "b": 3, "tmp": true, "old": 0},
            vec![
                doc! {"$unset": ["tmp", "old"]},
                doc! {"$set": {"total": {"$add": ["$a", "$b"]}}},
            ],
            doc! {"_id": 1, "a": 2, "b": 3, "total": 5},
        ),
        // $project keeps `_id` and the named fields.
        (
            doc! {"_id": 1, "a": 1, "b": 2, "c": 3},
            vec![doc! {"$project": {"a": 1, "c": 1}}],
            doc! {"_id": 1, "a": 1, "c": 3},
        ),
        // $replaceWith a sub-document: the original `_id` stays.
        (
            doc! {"_id": 7, "name": {"first": "Ada", "last": "Lovelace"}},
            vec![doc! {"$replaceWith": "$name"}],
            doc! {"_id": 7, "first": "Ada", "last": "Lovelace"},
        ),
    ];
    for (initial, pipeline, expected) in cases {
        let (got, changed) =
            run(initial, pipeline).unwrap_or_else(|e| panic!("{pipeline:?}: {}", e.reason()));
        assert_eq!(
            bytes(&got),
            bytes(expected),
            "{pipeline:?} on {initial}: got {got}"
        );
        assert!(changed, "{pipeline:?} changed {initial}");
    }
}

#[test]
fn unchanged_document_is_not_modified() {
    let initial = doc! {"_id": 1, "a": 5};
    for pipeline in [
        vec![],
        vec![doc! {"$set": {"a": 5}}],
        vec![doc! {"$unset": "missing"}],
        vec![doc! {"$project": {"a": 1}}],
    ] {
        let (got, changed) = run(&initial, &pipeline).unwrap();
        assert_eq!(bytes(&got), bytes(&initial), "{pipeline:?}");
        assert!(!changed, "{pipeline:?} is a no-op");
    }
}

#[test]
fn id_may_not_change() {
    let initial = doc! {"_id": 1, "a": 5};
    for pipeline in [
        vec![doc! {"$set": {"_id": 2}}],
        vec![doc! {"$replaceWith": {"_id": "$a"}}],
    ] {
        let err = run(&initial, &pipeline).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ImmutableField, "{pipeline:?}");
        assert!(
            err.reason()
                .contains("the (immutable) field '_id' was found to have been altered to _id:"),
            "{}",
            err.reason()
        );
    }
    // Setting `_id` to its own value, or dropping it, keeps it.
    let (got, _) = run(&initial, &[doc! {"$set": {"_id": 1, "b": 1}}]).unwrap();
    assert_eq!(bytes(&got), bytes(&doc! {"_id": 1, "a": 5, "b": 1}));
    let (got, _) = run(&initial, &[doc! {"$unset": "_id"}]).unwrap();
    assert_eq!(bytes(&got), bytes(&initial));
}

#[test]
fn stages_an_update_may_not_hold() {
    let cases: &[(Document, &str)] = &[
        (doc! {"$match": {"a": 1}}, "$match"),
        (doc! {"$group": {"_id": "$a"}}, "$group"),
        (doc! {"$sort": {"a": 1}}, "$sort"),
        (doc! {"$limit": 1}, "$limit"),
        (doc! {"$unwind": "$a"}, "$unwind"),
        // $count is a $group and a $project in mongod: the $group is named.
        (doc! {"$count": "n"}, "$group"),
    ];
    for (stage, name) in cases {
        let pipeline = stages(&[doc! {"$set": {"x": 1}}, stage.clone()]);
        let err = UpdateSpec::parse_modification(&pipeline, &[]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidOptions, "{stage}");
        assert_eq!(
            err.reason(),
            format!("{name} is not allowed to be used within an update")
        );
    }
}

#[test]
fn malformed_pipelines() {
    // arrayFilters belong to update operators.
    let err =
        UpdateSpec::parse_modification(&stages(&[doc! {"$set": {"a": 1}}]), &[doc! {"x": 1}]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedToParse);
    assert_eq!(
        err.reason(),
        "arrayFilters may not be specified for pipeline-syle updates"
    );
    // Every stage is a document.
    let err = UpdateSpec::parse_modification(&Bson::Array(vec![Bson::Int32(1)]), &[]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TypeMismatch);
    assert_eq!(
        err.reason(),
        "Each element of the 'pipeline' array must be an object"
    );
    // Unknown stages are the aggregation's error.
    let err = UpdateSpec::parse_modification(&stages(&[doc! {"$nope": 1}]), &[]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Location(40324));
    // An update is a document or an array.
    let err = UpdateSpec::parse_modification(&Bson::Int32(1), &[]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FailedToParse);
    assert_eq!(
        err.reason(),
        "Update argument must be either an object or an array"
    );
}

#[test]
fn upsert_runs_the_pipeline_on_the_query_equalities() {
    let spec = UpdateSpec::parse_modification(
        &stages(&[doc! {"$set": {"total": {"$add": ["$a", 10]}, "seen": true}}]),
        &[],
    )
    .unwrap();
    assert!(!spec.is_replacement());
    let inserted = spec
        .upsert_document(
            &doc! {"_id": 5, "a": 2, "b": {"$gt": 1}},
            DateTime::from_millis(0),
        )
        .unwrap();
    assert_eq!(
        bytes(&inserted),
        bytes(&doc! {"_id": 5, "a": 2, "total": 12, "seen": true})
    );
    // Without an `_id` in the query one is generated, first.
    let inserted = spec
        .upsert_document(&doc! {"a": 1}, DateTime::from_millis(0))
        .unwrap();
    assert!(
        matches!(inserted.get("_id"), Some(Bson::ObjectId(_))),
        "{inserted}"
    );
    assert_eq!(inserted.keys().next().map(String::as_str), Some("_id"));
    assert_eq!(inserted.get_i32("total").unwrap(), 11);
}
