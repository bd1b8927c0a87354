//! Table-driven tests of the positional `$` update operator: the query's filter says which array
//! element matched (`Matcher::matched_array_position`) and `$` stands for it, with the cases from
//! MongoDB's "$ (update)" documentation and mongod's errors when no element was matched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{DateTime, Document, doc};
use docwire_db::query::matcher::Matcher;
use docwire_db::update::{ApplyContext, UpdateSpec};
use docwire_rpc::StatusResult;

fn ctx() -> ApplyContext {
    ApplyContext {
        is_upsert_insert: false,
        now: DateTime::from_millis(0),
    }
}

/// Applies `update` to `initial` (which must match `filter`) as the update command does.
fn positional_update(initial: &Document, filter: &Document, update: &Document) -> StatusResult<Document> {
    let matcher = Matcher::parse(filter).unwrap();
    assert!(matcher.matches(initial), "{filter} must match {initial}");
    let spec = UpdateSpec::parse(update)?;
    assert!(spec.uses_positional(), "{update} uses $");
    let mut doc = initial.clone();
    spec.apply_at_position(&mut doc, ctx(), matcher.matched_array_position(initial))?;
    Ok(doc)
}

fn grades_of_4() -> Document {
    doc! {"_id": 4, "grades": [
        {"grade": 80, "mean": 75, "std": 8},
        {"grade": 85, "mean": 90, "std": 5},
        {"grade": 85, "mean": 85, "std": 8},
    ]}
}

#[test]
fn documented_examples() {
    let cases: &[(Document, Document, Document, Document)] = &[
        // Update values in an array: the first 80 of student 1 becomes 82.
        (
            doc! {"_id": 1, "grades": [85, 80, 80]},
            doc! {"_id": 1, "grades": 80},
            doc! {"$set": {"grades.$": 82}},
            doc! {"_id": 1, "grades": [85, 82, 80]},
        ),
        // Update documents in an array: the first element with grade 85.
        (
            grades_of_4(),
            doc! {"_id": 4, "grades.grade": 85},
            doc! {"$set": {"grades.$.std": 6}},
            doc! {"_id": 4, "grades": [
                {"grade": 80, "mean": 75, "std": 8},
                {"grade": 85, "mean": 90, "std": 6},
                {"grade": 85, "mean": 85, "std": 8},
            ]},
        ),
        // Update embedded documents using multiple field matches ($elemMatch).
        (
            doc! {"_id": 5, "grades": [
                {"grade": 80, "mean": 75, "std": 8},
                {"grade": 85, "mean": 90, "std": 5},
                {"grade": 90, "mean": 85, "std": 3},
            ]},
            doc! {"_id": 5, "grades": {"$elemMatch": {"grade": {"$lte": 90}, "mean": {"$gt": 80}}}},
            doc! {"$set": {"grades.$.std": 6}},
            doc! {"_id": 5, "grades": [
                {"grade": 80, "mean": 75, "std": 8},
                {"grade": 85, "mean": 90, "std": 6},
                {"grade": 90, "mean": 85, "std": 3},
            ]},
        ),
        // Update with multiple array matches: the position comes from the last array the query
        // matched through (grades: 95 at index 1), not from deans_list.
        (
            doc! {"_id": 8, "activity_ids": [1, 2], "grades": [90, 95], "deans_list": [2021, 2020]},
            doc! {"activity_ids": 1, "grades": 95, "deans_list": 2021},
            doc! {"$set": {"deans_list.$": 2022}},
            doc! {"_id": 8, "activity_ids": [1, 2], "grades": [90, 95], "deans_list": [2021, 2022]},
        ),
        // $elemMatch over values.
        (
            doc! {"_id": 1, "scores": [3, 12, 25]},
            doc! {"scores": {"$elemMatch": {"$gt": 10, "$lt": 20}}},
            doc! {"$inc": {"scores.$": 100}},
            doc! {"_id": 1, "scores": [3, 112, 25]},
        ),
        // $inc, $unset (leaves a null in the array), $push into the matched element's array.
        (
            doc! {"_id": 1, "grades": [85, 80, 80]},
            doc! {"grades": {"$gte": 81}},
            doc! {"$inc": {"grades.$": 1}},
            doc! {"_id": 1, "grades": [86, 80, 80]},
        ),
        (
            doc! {"_id": 1, "grades": [85, 80, 80]},
            doc! {"grades": 80},
            doc! {"$unset": {"grades.$": ""}},
            doc! {"_id": 1, "grades": [85, null, 80]},
        ),
        (
            doc! {"_id": 1, "items": [{"sku": "a", "tags": ["x"]}, {"sku": "b", "tags": ["y"]}]},
            doc! {"items.sku": "b"},
            doc! {"$push": {"items.$.tags": "z"}},
            doc! {"_id": 1, "items": [{"sku": "a", "tags": ["x"]}, {"sku": "b", "tags": ["y", "z"]}]},
        ),
        // A new field in the matched element, next to other operators on the document.
        (
            doc! {"_id": 1, "items": [{"sku": "a"}, {"sku": "b"}]},
            doc! {"items.sku": "b"},
            doc! {"$set": {"items.$.qty": 3, "total": 3}},
            doc! {"_id": 1, "items": [{"sku": "a"}, {"sku": "b", "qty": 3}], "total": 3},
        ),
        // Nested arrays: `$` is the position in the outermost array on the query's path.
        (
            doc! {"_id": 1, "a": [{"b": [1, 2]}, {"b": [3, 4]}]},
            doc! {"a.b": 4},
            doc! {"$set": {"a.$.seen": true}},
            doc! {"_id": 1, "a": [{"b": [1, 2]}, {"b": [3, 4], "seen": true}]},
        ),
        // `$` combined with `$[]` below it.
        (
            doc! {"_id": 1, "a": [{"k": 1, "v": [1, 2]}, {"k": 2, "v": [3, 4]}]},
            doc! {"a.k": 2},
            doc! {"$mul": {"a.$.v.$[]": 10}},
            doc! {"_id": 1, "a": [{"k": 1, "v": [1, 2]}, {"k": 2, "v": [30, 40]}]},
        ),
    ];
    for (initial, filter, update, expected) in cases {
        let got = positional_update(initial, filter, update)
            .unwrap_or_else(|e| panic!("{update} with {filter} on {initial}: {}", e.reason()));
        assert_eq!(
            got.to_vec().unwrap(),
            expected.to_vec().unwrap(),
            "{update} with {filter} on {initial}: got {got}, want {expected}"
        );
    }
}

#[test]
fn matched_array_position() {
    let position =
        |filter: Document, doc: Document| Matcher::parse(&filter).unwrap().matched_array_position(&doc);
    assert_eq!(
        position(doc! {"grades": 85}, doc! {"grades": [80, 85, 85]}),
        Some(1)
    );
    assert_eq!(position(doc! {"grades.grade": 85}, grades_of_4()), Some(1));
    // No match, or a match that went through no array.
    assert_eq!(position(doc! {"grades": 99}, doc! {"grades": [80, 85]}), None);
    assert_eq!(position(doc! {"_id": 4}, grades_of_4()), None);
    assert_eq!(
        position(doc! {"grades": [80, 85]}, doc! {"grades": [80, 85]}),
        None
    );
    assert_eq!(
        position(doc! {"grades": {"$size": 2}}, doc! {"grades": [80, 85]}),
        None
    );
}

#[test]
fn no_match_through_an_array_is_bad_value() {
    let message = "The positional operator did not find the match needed from the query.";
    let cases: &[(Document, Document)] = &[
        (doc! {"_id": 4}, doc! {"$set": {"grades.$.std": 6}}),
        (
            doc! {"_id": 4, "grades": {"$size": 3}},
            doc! {"$set": {"grades.$": 1}},
        ),
        (doc! {"_id": 4}, doc! {"$unset": {"grades.$": ""}}),
    ];
    for (filter, update) in cases {
        let err = positional_update(&grades_of_4(), filter, update).unwrap_err();
        assert_eq!(
            (err.code().code(), err.reason()),
            (2, message),
            "{update} with {filter}"
        );
    }
}

#[test]
fn upsert_with_positional_is_bad_value() {
    let spec = UpdateSpec::parse(&doc! {"$set": {"grades.$": 1}}).unwrap();
    let err = spec
        .upsert_document(&doc! {"_id": 9, "grades": 80}, DateTime::from_millis(0))
        .unwrap_err();
    assert_eq!(err.code().code(), 2, "{}", err.reason());
    assert_eq!(
        err.reason(),
        "The positional operator did not find the match needed from the query."
    );
}

#[test]
fn parse_errors() {
    let cases: &[(Document, i32, &str)] = &[
        (
            doc! {"$set": {"$.a": 1}},
            2,
            "Cannot have positional (i.e. '$') element in the first position in path '$.a'",
        ),
        (
            doc! {"$set": {"a.$.b.$": 1}},
            2,
            "Too many positional (i.e. '$') elements found in path 'a.$.b.$'",
        ),
        (
            doc! {"$set": {"a.$": 1, "a.$.b": 1}},
            40,
            "Updating the path 'a.$.b' would create a conflict at 'a.$'",
        ),
        (
            doc! {"$rename": {"a.$": "b"}},
            2,
            "The source field for $rename may not be dynamic: a.$",
        ),
    ];
    for (update, code, message) in cases {
        let err = UpdateSpec::parse(update).unwrap_err();
        assert_eq!((err.code().code(), err.reason()), (*code, *message), "{update}");
    }
}

#[test]
fn positional_and_the_same_explicit_index_conflict() {
    let err = positional_update(
        &doc! {"_id": 1, "grades": [85, 80, 80]},
        &doc! {"grades": 80},
        &doc! {"$set": {"grades.$": 1, "grades.1": 2}},
    )
    .unwrap_err();
    assert_eq!(
        (err.code().code(), err.reason()),
        (40, "Update created a conflict at 'grades.1'")
    );
}
