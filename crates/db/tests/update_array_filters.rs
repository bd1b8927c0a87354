//! Table-driven tests of the array update paths `$[]` and `$[<identifier>]` with `arrayFilters`:
//! (document, update, arrayFilters, expected) cases from MongoDB's documentation, and mongod's errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{DateTime, Document, doc};
use docwire_db::update::{ApplyContext, UpdateSpec};

fn ctx() -> ApplyContext {
    ApplyContext {
        is_upsert_insert: false,
        now: DateTime::from_millis(0),
    }
}

fn check(cases: &[(Document, Document, Vec<Document>, Document)]) {
    for (initial, update, filters, expected) in cases {
        let spec = UpdateSpec::parse_with_array_filters(update, filters)
            .unwrap_or_else(|e| panic!("parse {update}: {}", e.reason()));
        let mut doc = initial.clone();
        let changed = spec
            .apply(&mut doc, ctx())
            .unwrap_or_else(|e| panic!("apply {update} to {initial}: {}", e.reason()));
        assert_eq!(
            doc.to_vec().unwrap(),
            expected.to_vec().unwrap(),
            "{update} on {initial}: got {doc}, want {expected}"
        );
        assert_eq!(
            changed,
            initial != expected,
            "changed flag for {update} on {initial}"
        );
    }
}

fn quizzes() -> Document {
    doc! {"_id": 1, "grades": [
        {"type": "quiz", "questions": [10, 8, 5]},
        {"type": "quiz", "questions": [8, 9, 6]},
        {"type": "hw", "questions": [5, 4, 3]},
        {"type": "exam", "questions": [25, 10, 23, 0]},
    ]}
}

#[test]
fn all_positional() {
    check(&[
        (
            doc! {"_id": 1, "grades": [85, 82, 80]},
            doc! {"$inc": {"grades.$[]": 10}},
            vec![],
            doc! {"_id": 1, "grades": [95, 92, 90]},
        ),
        (
            doc! {"_id": 1, "grades": [
                {"grade": 80, "mean": 75, "std": 8},
                {"grade": 85, "mean": 90, "std": 6},
                {"grade": 85, "mean": 85, "std": 8},
            ]},
            doc! {"$inc": {"grades.$[].std": -2}},
            vec![],
            doc! {"_id": 1, "grades": [
                {"grade": 80, "mean": 75, "std": 6},
                {"grade": 85, "mean": 90, "std": 4},
                {"grade": 85, "mean": 85, "std": 6},
            ]},
        ),
        (
            doc! {"a": []},
            doc! {"$set": {"a.$[]": 1}},
            vec![],
            doc! {"a": []},
        ),
        (
            doc! {"a": [{"b": 1}, {"c": 2}]},
            doc! {"$set": {"a.$[].b": 5}},
            vec![],
            doc! {"a": [{"b": 5}, {"c": 2, "b": 5}]},
        ),
        (
            doc! {"a": [1, 2, 3]},
            doc! {"$unset": {"a.$[]": 1}},
            vec![],
            doc! {"a": [null, null, null]},
        ),
        (
            doc! {"a": [[1], [2, 3]]},
            doc! {"$push": {"a.$[]": 9}},
            vec![],
            doc! {"a": [[1, 9], [2, 3, 9]]},
        ),
        (
            quizzes(),
            doc! {"$inc": {"grades.$[].questions.$[score]": 2}},
            vec![doc! {"score": {"$gte": 8}}],
            doc! {"_id": 1, "grades": [
                {"type": "quiz", "questions": [12, 10, 5]},
                {"type": "quiz", "questions": [10, 11, 6]},
                {"type": "hw", "questions": [5, 4, 3]},
                {"type": "exam", "questions": [27, 12, 25, 0]},
            ]},
        ),
    ]);
}

#[test]
fn filtered_positional() {
    let element_gte_100 = || vec![doc! {"element": {"$gte": 100}}];
    let means = || {
        doc! {"_id": 1, "grades": [
            {"grade": 80, "mean": 75, "std": 6},
            {"grade": 85, "mean": 90, "std": 4},
            {"grade": 85, "mean": 85, "std": 6},
        ]}
    };
    check(&[
        (
            doc! {"_id": 1, "grades": [95, 92, 90]},
            doc! {"$set": {"grades.$[element]": 100}},
            element_gte_100(),
            doc! {"_id": 1, "grades": [95, 92, 90]},
        ),
        (
            doc! {"_id": 2, "grades": [98, 100, 102]},
            doc! {"$set": {"grades.$[element]": 100}},
            element_gte_100(),
            doc! {"_id": 2, "grades": [98, 100, 100]},
        ),
        (
            doc! {"_id": 3, "grades": [95, 110, 100]},
            doc! {"$set": {"grades.$[element]": 100}},
            element_gte_100(),
            doc! {"_id": 3, "grades": [95, 100, 100]},
        ),
        (
            means(),
            doc! {"$set": {"grades.$[elem].mean": 100}},
            vec![doc! {"elem.grade": {"$gte": 85}}],
            doc! {"_id": 1, "grades": [
                {"grade": 80, "mean": 75, "std": 6},
                {"grade": 85, "mean": 100, "std": 4},
                {"grade": 85, "mean": 100, "std": 6},
            ]},
        ),
        (
            means(),
            doc! {"$inc": {"grades.$[elem].std": -1}},
            vec![doc! {"elem.grade": {"$gte": 80}, "elem.std": {"$gt": 5}}],
            doc! {"_id": 1, "grades": [
                {"grade": 80, "mean": 75, "std": 5},
                {"grade": 85, "mean": 90, "std": 4},
                {"grade": 85, "mean": 85, "std": 5},
            ]},
        ),
        (
            doc! {"_id": 1, "degrees": [{"level": "Master"}, {"level": "Bachelor"}]},
            doc! {"$set": {"degrees.$[degree].gradcampaign": 1}},
            vec![doc! {"degree.level": {"$ne": "Bachelor"}}],
            doc! {"_id": 1, "degrees": [{"level": "Master", "gradcampaign": 1}, {"level": "Bachelor"}]},
        ),
        (
            quizzes(),
            doc! {"$inc": {"grades.$[t].questions.$[score]": 2}},
            vec![doc! {"t.type": "quiz"}, doc! {"score": {"$gte": 8}}],
            doc! {"_id": 1, "grades": [
                {"type": "quiz", "questions": [12, 10, 5]},
                {"type": "quiz", "questions": [10, 11, 6]},
                {"type": "hw", "questions": [5, 4, 3]},
                {"type": "exam", "questions": [25, 10, 23, 0]},
            ]},
        ),
        (
            doc! {"a": [1, 2, 3, 4]},
            doc! {"$set": {"a.$[x]": 0}},
            vec![doc! {"$or": [{"x": 1}, {"x": {"$gt": 3}}]}],
            doc! {"a": [0, 2, 3, 0]},
        ),
    ]);
}

#[test]
fn upsert_with_all_positional() {
    let spec = UpdateSpec::parse(&doc! {"$set": {"myArray.$[]": 10}}).unwrap();
    let inserted = spec
        .upsert_document(&doc! {"_id": 1, "myArray": [5, 8]}, DateTime::from_millis(0))
        .unwrap();
    assert_eq!(inserted, doc! {"_id": 1, "myArray": [10, 10]});
    let err = spec
        .upsert_document(&doc! {"_id": 2}, DateTime::from_millis(0))
        .unwrap_err();
    assert_eq!(err.code().code(), 2, "{}", err.reason());
}

#[test]
fn parse_errors() {
    let cases: &[(Document, Vec<Document>, i32, &str)] = &[
        (
            doc! {"$set": {"a.$[x]": 1}},
            vec![],
            2,
            "No array filter found for identifier 'x' in path 'a.$[x]'",
        ),
        (
            doc! {"$set": {"a.$[y]": 1}},
            vec![doc! {"x": 1}, doc! {"y": 1}],
            9,
            "The array filter for identifier 'x' was not used in the update { $set: { a.$[y]: 1 } }",
        ),
        (
            doc! {"$set": {"a.$[X]": 1}},
            vec![doc! {"X": 1}],
            2,
            "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found 'X'",
        ),
        (
            doc! {"$set": {"a.$[x]": 1}},
            vec![doc! {"x": 1, "y": 2}],
            9,
            "Error parsing array filter :: caused by :: Expected a single top-level field name, found 'x' and 'y'",
        ),
        (
            doc! {"$set": {"a.$[x]": 1}},
            vec![doc! {"x": 1}, doc! {"x.b": 2}],
            9,
            "Found multiple array filters with the same top-level field name x",
        ),
        (
            doc! {"$set": {"a.$[x]": 1}},
            vec![doc! {}],
            9,
            "Cannot use an expression without a top-level field name in arrayFilters",
        ),
        (
            doc! {"$set": {"$[]": 1}},
            vec![],
            2,
            "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '$[]'",
        ),
        (
            doc! {"$rename": {"a.$[]": "b"}},
            vec![],
            2,
            "The source field for $rename may not be dynamic: a.$[]",
        ),
        (
            doc! {"$rename": {"b": "a.$[]"}},
            vec![],
            2,
            "The destination field for $rename may not be dynamic: a.$[]",
        ),
        (
            doc! {"$set": {"a.$[]": 1, "a.$[].b": 1}},
            vec![],
            40,
            "Updating the path 'a.$[].b' would create a conflict at 'a.$[]'",
        ),
    ];
    for (update, filters, code, message) in cases {
        match UpdateSpec::parse_with_array_filters(update, filters) {
            Ok(_) => panic!("{update} parsed; want code {code}"),
            Err(e) => {
                assert_eq!(e.code().code(), *code, "{update}: {}", e.reason());
                assert_eq!(e.reason(), *message, "{update}");
            }
        }
    }
}

#[test]
fn apply_errors() {
    let cases: &[(Document, Document, Vec<Document>, &str)] = &[
        (
            doc! {"a": 1},
            doc! {"$set": {"a.$[]": 1}},
            vec![],
            "The path 'a' must exist in the document in order to apply array updates.",
        ),
        (
            doc! {},
            doc! {"$set": {"a.$[x]": 1}},
            vec![doc! {"x": 1}],
            "The path 'a' must exist in the document in order to apply array updates.",
        ),
        (
            doc! {"a": [{"b": 1}]},
            doc! {"$set": {"a.$[].b.$[]": 1}},
            vec![],
            "The path 'a.0.b' must exist in the document in order to apply array updates.",
        ),
    ];
    for (initial, update, filters, message) in cases {
        let spec = UpdateSpec::parse_with_array_filters(update, filters).unwrap();
        let mut doc = initial.clone();
        let err = spec.apply(&mut doc, ctx()).unwrap_err();
        assert_eq!(err.code().code(), 2, "{update} on {initial}: {}", err.reason());
        assert_eq!(err.reason(), *message);
        assert_eq!(&doc, initial);
    }
}
