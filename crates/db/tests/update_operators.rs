//! Table-driven tests of the update operators: (document, update, expected document) cases written
//! from MongoDB's documented behaviour, including field order and numeric types.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, DateTime, Document, Timestamp, doc};
use docwire_db::update::{ApplyContext, UpdateSpec};

fn ctx() -> ApplyContext {
    ApplyContext {
        is_upsert_insert: false,
        now: DateTime::from_millis(1_700_000_000_123),
    }
}

/// Byte-level equality: field order and numeric types matter.
fn bytes(d: &Document) -> Vec<u8> {
    d.to_vec().unwrap()
}

fn check(cases: &[(Document, Document, Document)]) {
    for (initial, update, expected) in cases {
        let spec = UpdateSpec::parse(update).unwrap_or_else(|e| panic!("parse {update}: {}", e.reason()));
        let mut doc = initial.clone();
        let changed = spec
            .apply(&mut doc, ctx())
            .unwrap_or_else(|e| panic!("apply {update} to {initial}: {}", e.reason()));
        assert_eq!(
            bytes(&doc),
            bytes(expected),
            "{update} on {initial}: got {doc}, want {expected}"
        );
        assert_eq!(
            changed,
            bytes(initial) != bytes(expected),
            "changed flag for {update} on {initial}"
        );
    }
}

#[test]
fn set_and_unset() {
    check(&[
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$set": {"a": 2}},
            doc! {"_id": 1, "a": 2},
        ),
        // An existing field keeps its place.
        (
            doc! {"_id": 1, "a": 1, "b": 2},
            doc! {"$set": {"a": "x"}},
            doc! {"_id": 1, "a": "x", "b": 2},
        ),
        // New fields are appended in lexicographic order of their names.
        (
            doc! {"_id": 1},
            doc! {"$set": {"z": 1, "b": 2, "a": 3}},
            doc! {"_id": 1, "a": 3, "b": 2, "z": 1},
        ),
        // Dotted paths create embedded documents.
        (
            doc! {"_id": 1},
            doc! {"$set": {"a.b.c": 1}},
            doc! {"_id": 1, "a": {"b": {"c": 1}}},
        ),
        (
            doc! {"_id": 1, "a": {"x": 1}},
            doc! {"$set": {"a.y": 2, "a.b": 3}},
            doc! {"_id": 1, "a": {"x": 1, "b": 3, "y": 2}},
        ),
        // Numeric components index arrays; past the end the array is padded with nulls.
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$set": {"a.1": 9}},
            doc! {"_id": 1, "a": [1, 9]},
        ),
        (
            doc! {"_id": 1, "a": [1]},
            doc! {"$set": {"a.3": 4}},
            doc! {"_id": 1, "a": [1, Bson::Null, Bson::Null, 4]},
        ),
        (
            doc! {"_id": 1, "a": [{"b": 1}]},
            doc! {"$set": {"a.0.b": 2, "a.2.c": 3}},
            doc! {"_id": 1, "a": [{"b": 2}, Bson::Null, {"c": 3}]},
        ),
        // A numeric component in a document is a field name.
        (
            doc! {"_id": 1, "a": {}},
            doc! {"$set": {"a.0": 1}},
            doc! {"_id": 1, "a": {"0": 1}},
        ),
        // Setting the same value is a no-op; 1 -> 1.0 is a change of type.
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$set": {"a": 1}},
            doc! {"_id": 1, "a": 1},
        ),
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$set": {"a": 1.0}},
            doc! {"_id": 1, "a": 1.0},
        ),
        // Setting _id to its own value is allowed.
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$set": {"_id": 1}},
            doc! {"_id": 1, "a": 1},
        ),
        (
            doc! {"_id": 1, "a": 1, "b": 2},
            doc! {"$unset": {"a": ""}},
            doc! {"_id": 1, "b": 2},
        ),
        (
            doc! {"_id": 1, "a": {"b": 1, "c": 2}},
            doc! {"$unset": {"a.b": 1, "x": 1, "a.q.r": 1}},
            doc! {"_id": 1, "a": {"c": 2}},
        ),
        // Unsetting an array element leaves null in its place.
        (
            doc! {"_id": 1, "a": [1, 2, 3]},
            doc! {"$unset": {"a.1": ""}},
            doc! {"_id": 1, "a": [1, Bson::Null, 3]},
        ),
        // Unset through a scalar is a no-op, not an error.
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$unset": {"a.b": ""}},
            doc! {"_id": 1, "a": 1},
        ),
        // Several operators; each level is applied in sorted order.
        (
            doc! {"_id": 1, "m": 1},
            doc! {"$set": {"y": 1}, "$inc": {"x": 1}, "$unset": {"m": 1}},
            doc! {"_id": 1, "x": 1, "y": 1},
        ),
        // An empty operand is a no-op (MongoDB 5.0+).
        (doc! {"_id": 1}, doc! {"$set": {}}, doc! {"_id": 1}),
    ]);
}

#[test]
fn arithmetic() {
    check(&[
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$inc": {"a": 2}},
            doc! {"_id": 1, "a": 3},
        ),
        (doc! {"_id": 1}, doc! {"$inc": {"a": 5}}, doc! {"_id": 1, "a": 5}),
        (
            doc! {"_id": 1},
            doc! {"$inc": {"a.b": -1}},
            doc! {"_id": 1, "a": {"b": -1}},
        ),
        // int32 overflow widens to int64.
        (
            doc! {"_id": 1, "a": i32::MAX},
            doc! {"$inc": {"a": 1}},
            doc! {"_id": 1, "a": i64::from(i32::MAX) + 1},
        ),
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$inc": {"a": 2_i64}},
            doc! {"_id": 1, "a": 3_i64},
        ),
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$inc": {"a": 0.5}},
            doc! {"_id": 1, "a": 1.5},
        ),
        (
            doc! {"_id": 1, "a": 1.5},
            doc! {"$inc": {"a": 1}},
            doc! {"_id": 1, "a": 2.5},
        ),
        // Adding int32 zero is a no-op; adding 0.0 changes the type.
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$inc": {"a": 0}},
            doc! {"_id": 1, "a": 1},
        ),
        (
            doc! {"_id": 1, "a": 1},
            doc! {"$inc": {"a": 0.0}},
            doc! {"_id": 1, "a": 1.0},
        ),
        (
            doc! {"_id": 1, "a": 3},
            doc! {"$mul": {"a": 4}},
            doc! {"_id": 1, "a": 12},
        ),
        (
            doc! {"_id": 1, "a": 65_536},
            doc! {"$mul": {"a": 65_536}},
            doc! {"_id": 1, "a": 4_294_967_296_i64},
        ),
        (
            doc! {"_id": 1, "a": 2_i64},
            doc! {"$mul": {"a": 3}},
            doc! {"_id": 1, "a": 6_i64},
        ),
        (
            doc! {"_id": 1, "a": 2},
            doc! {"$mul": {"a": 1.5}},
            doc! {"_id": 1, "a": 3.0},
        ),
        // $mul on a missing field creates zero of the multiplier's type.
        (
            doc! {"_id": 1},
            doc! {"$mul": {"a": 5_i64}},
            doc! {"_id": 1, "a": 0_i64},
        ),
        (
            doc! {"_id": 1},
            doc! {"$mul": {"a": 2.5}},
            doc! {"_id": 1, "a": 0.0},
        ),
        (
            doc! {"_id": 1, "a": 5},
            doc! {"$min": {"a": 3}},
            doc! {"_id": 1, "a": 3},
        ),
        (
            doc! {"_id": 1, "a": 5},
            doc! {"$min": {"a": 7}},
            doc! {"_id": 1, "a": 5},
        ),
        (
            doc! {"_id": 1, "a": 5},
            doc! {"$max": {"a": 7}},
            doc! {"_id": 1, "a": 7},
        ),
        (
            doc! {"_id": 1, "a": 5},
            doc! {"$max": {"a": 5.0}},
            doc! {"_id": 1, "a": 5},
        ),
        (doc! {"_id": 1}, doc! {"$max": {"a": 1}}, doc! {"_id": 1, "a": 1}),
        // Comparison follows the BSON type order: numbers < strings, null < numbers.
        (
            doc! {"_id": 1, "a": 5},
            doc! {"$max": {"a": "x"}},
            doc! {"_id": 1, "a": "x"},
        ),
        (
            doc! {"_id": 1, "a": 5},
            doc! {"$min": {"a": Bson::Null}},
            doc! {"_id": 1, "a": Bson::Null},
        ),
    ]);
}

#[test]
fn current_date_and_set_on_insert() {
    let now = ctx().now;
    check(&[
        (
            doc! {"_id": 1},
            doc! {"$currentDate": {"d": true}},
            doc! {"_id": 1, "d": now},
        ),
        (
            doc! {"_id": 1, "d": 1},
            doc! {"$currentDate": {"d": {"$type": "date"}}},
            doc! {"_id": 1, "d": now},
        ),
        (
            doc! {"_id": 1},
            doc! {"$currentDate": {"t": {"$type": "timestamp"}}},
            doc! {"_id": 1, "t": Timestamp { time: 1_700_000_000, increment: 1 }},
        ),
        // $setOnInsert does nothing when the update is not an upsert's insert.
        (doc! {"_id": 1}, doc! {"$setOnInsert": {"a": 1}}, doc! {"_id": 1}),
        (
            doc! {"_id": 1},
            doc! {"$setOnInsert": {"a": 1}, "$set": {"b": 2}},
            doc! {"_id": 1, "b": 2},
        ),
    ]);
    let spec = UpdateSpec::parse(&doc! {"$setOnInsert": {"a": 1}, "$set": {"b": 2}}).unwrap();
    let mut doc = doc! {"_id": 1};
    let insert = ApplyContext {
        is_upsert_insert: true,
        now,
    };
    assert!(spec.apply(&mut doc, insert).unwrap());
    assert_eq!(bytes(&doc), bytes(&doc! {"_id": 1, "a": 1, "b": 2}));
}

#[test]
fn rename() {
    check(&[
        (
            doc! {"_id": 1, "a": 1, "b": 2},
            doc! {"$rename": {"a": "c"}},
            doc! {"_id": 1, "b": 2, "c": 1},
        ),
        // An existing target is overwritten in place.
        (
            doc! {"_id": 1, "a": 1, "c": 3, "d": 4},
            doc! {"$rename": {"a": "c"}},
            doc! {"_id": 1, "c": 1, "d": 4},
        ),
        (
            doc! {"_id": 1, "a": {"b": 1, "c": 2}},
            doc! {"$rename": {"a.b": "x.y"}},
            doc! {"_id": 1, "a": {"c": 2}, "x": {"y": 1}},
        ),
        (
            doc! {"_id": 1, "a": {"b": 1}},
            doc! {"$rename": {"a.b": "a.c"}},
            doc! {"_id": 1, "a": {"c": 1}},
        ),
        // A missing source is a no-op.
        (
            doc! {"_id": 1, "b": 1},
            doc! {"$rename": {"a": "c"}},
            doc! {"_id": 1, "b": 1},
        ),
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$rename": {"a": "b"}},
            doc! {"_id": 1, "b": [1, 2]},
        ),
    ]);
}

#[test]
fn push() {
    check(&[
        (
            doc! {"_id": 1, "a": [1]},
            doc! {"$push": {"a": 2}},
            doc! {"_id": 1, "a": [1, 2]},
        ),
        (
            doc! {"_id": 1},
            doc! {"$push": {"a": 1}},
            doc! {"_id": 1, "a": [1]},
        ),
        // Without $each an array is pushed as one element.
        (
            doc! {"_id": 1, "a": []},
            doc! {"$push": {"a": [1, 2]}},
            doc! {"_id": 1, "a": [[1, 2]]},
        ),
        (
            doc! {"_id": 1, "a": [1]},
            doc! {"$push": {"a": {"$each": [2, 3]}}},
            doc! {"_id": 1, "a": [1, 2, 3]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$push": {"a": {"$each": [], "$slice": 1}}},
            doc! {"_id": 1, "a": [1]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$push": {"a": {"$each": [3, 4], "$slice": -3}}},
            doc! {"_id": 1, "a": [2, 3, 4]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$push": {"a": {"$each": [9], "$slice": 0}}},
            doc! {"_id": 1, "a": []},
        ),
        (
            doc! {"_id": 1, "a": [1, 2, 3]},
            doc! {"$push": {"a": {"$each": [9], "$position": 1}}},
            doc! {"_id": 1, "a": [1, 9, 2, 3]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2, 3]},
            doc! {"$push": {"a": {"$each": [8, 9], "$position": -1}}},
            doc! {"_id": 1, "a": [1, 2, 8, 9, 3]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$push": {"a": {"$each": [9], "$position": 0}}},
            doc! {"_id": 1, "a": [9, 1, 2]},
        ),
        (
            doc! {"_id": 1, "a": [3, 1]},
            doc! {"$push": {"a": {"$each": [2], "$sort": 1}}},
            doc! {"_id": 1, "a": [1, 2, 3]},
        ),
        (
            doc! {"_id": 1, "a": [3, 1]},
            doc! {"$push": {"a": {"$each": [2], "$sort": -1, "$slice": 2}}},
            doc! {"_id": 1, "a": [3, 2]},
        ),
        (
            doc! {"_id": 1, "q": [{"s": 5, "n": "a"}, {"s": 9, "n": "b"}]},
            doc! {"$push": {"q": {"$each": [{"s": 7, "n": "c"}], "$sort": {"s": -1}, "$slice": 2}}},
            doc! {"_id": 1, "q": [{"s": 9, "n": "b"}, {"s": 7, "n": "c"}]},
        ),
        (
            doc! {"_id": 1, "a": {"b": [1]}},
            doc! {"$push": {"a.b": 2}},
            doc! {"_id": 1, "a": {"b": [1, 2]}},
        ),
    ]);
}

#[test]
fn add_to_set_pop_pull() {
    check(&[
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$addToSet": {"a": 2}},
            doc! {"_id": 1, "a": [1, 2]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$addToSet": {"a": 3}},
            doc! {"_id": 1, "a": [1, 2, 3]},
        ),
        // Equality is by value: 2.0 equals 2.
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$addToSet": {"a": 2.0}},
            doc! {"_id": 1, "a": [1, 2]},
        ),
        (
            doc! {"_id": 1, "a": ["x"]},
            doc! {"$addToSet": {"a": {"$each": ["y", "x", "z", "y"]}}},
            doc! {"_id": 1, "a": ["x", "y", "z"]},
        ),
        (
            doc! {"_id": 1},
            doc! {"$addToSet": {"a": {"$each": [1, 1]}}},
            doc! {"_id": 1, "a": [1]},
        ),
        (
            doc! {"_id": 1, "a": []},
            doc! {"$addToSet": {"a": [1]}},
            doc! {"_id": 1, "a": [[1]]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2, 3]},
            doc! {"$pop": {"a": 1}},
            doc! {"_id": 1, "a": [1, 2]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2, 3]},
            doc! {"$pop": {"a": -1}},
            doc! {"_id": 1, "a": [2, 3]},
        ),
        (
            doc! {"_id": 1, "a": []},
            doc! {"$pop": {"a": 1}},
            doc! {"_id": 1, "a": []},
        ),
        (doc! {"_id": 1}, doc! {"$pop": {"a": 1}}, doc! {"_id": 1}),
        (
            doc! {"_id": 1, "a": [1, 2, 1, 3]},
            doc! {"$pull": {"a": 1}},
            doc! {"_id": 1, "a": [2, 3]},
        ),
        // Value equality: 1.0 pulls 1; an array value must match exactly.
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$pull": {"a": 1.0}},
            doc! {"_id": 1, "a": [2]},
        ),
        (
            doc! {"_id": 1, "a": [[1, 2], [2, 1], 1]},
            doc! {"$pull": {"a": [1, 2]}},
            doc! {"_id": 1, "a": [[2, 1], 1]},
        ),
        (doc! {"_id": 1}, doc! {"$pull": {"a": 1}}, doc! {"_id": 1}),
        (
            doc! {"_id": 1, "a": [1, 2, 3, 2]},
            doc! {"$pullAll": {"a": [2, 3]}},
            doc! {"_id": 1, "a": [1]},
        ),
    ]);
}

#[test]
fn replacement() {
    check(&[
        (doc! {"_id": 1, "a": 1}, doc! {"b": 2}, doc! {"_id": 1, "b": 2}),
        // The original _id stays first even when the replacement names it later.
        (
            doc! {"_id": 1, "a": 1},
            doc! {"b": 2, "_id": 1},
            doc! {"_id": 1, "b": 2},
        ),
        (doc! {"_id": 1, "a": 1}, doc! {}, doc! {"_id": 1}),
        (doc! {"_id": 1, "a": 1}, doc! {"a": 1}, doc! {"_id": 1, "a": 1}),
        // An embedded $-prefixed field is allowed (MongoDB 5.0+).
        (
            doc! {"_id": 1},
            doc! {"a": {"$x": 1}},
            doc! {"_id": 1, "a": {"$x": 1}},
        ),
    ]);
}

#[test]
fn pull_conditions() {
    check(&[
        // An operator expression applies to the elements themselves.
        (
            doc! {"_id": 1, "a": [1, 5, 6, 7, 2]},
            doc! {"$pull": {"a": {"$gte": 6}}},
            doc! {"_id": 1, "a": [1, 5, 2]},
        ),
        (
            doc! {"_id": 1, "a": ["apples", "pears", "grapes"]},
            doc! {"$pull": {"a": {"$in": ["apples", "grapes"]}}},
            doc! {"_id": 1, "a": ["pears"]},
        ),
        (
            doc! {"_id": 1, "a": ["ab", "cd", "ax"]},
            doc! {"$pull": {"a": bson::Regex { pattern: "^a".to_owned().try_into().unwrap(), options: String::new().try_into().unwrap() }}},
            doc! {"_id": 1, "a": ["cd"]},
        ),
        // A query on embedded fields applies to the document elements only.
        (
            doc! {"_id": 1, "r": [{"item": "A", "score": 5}, {"item": "B", "score": 8}, 3]},
            doc! {"$pull": {"r": {"score": 8, "item": "B"}}},
            doc! {"_id": 1, "r": [{"item": "A", "score": 5}, 3]},
        ),
        (
            doc! {"_id": 1, "r": [{"s": 5}, {"s": 9}, {"t": 1}]},
            doc! {"$pull": {"r": {"s": {"$gt": 6}}}},
            doc! {"_id": 1, "r": [{"s": 5}, {"t": 1}]},
        ),
        // Conditions on subdocument fields, with $elemMatch inside elements.
        (
            doc! {"_id": 1, "r": [
                {"q": [{"a": 1, "b": 2}], "n": 1},
                {"q": [{"a": 1, "b": 9}], "n": 2},
            ]},
            doc! {"$pull": {"r": {"q": {"$elemMatch": {"a": 1, "b": {"$gte": 8}}}}}},
            doc! {"_id": 1, "r": [{"q": [{"a": 1, "b": 2}], "n": 1}]},
        ),
        (
            doc! {"_id": 1, "r": [{"x": {"y": 1}}, {"x": {"y": 2}}]},
            doc! {"$pull": {"r": {"x.y": 2}}},
            doc! {"_id": 1, "r": [{"x": {"y": 1}}]},
        ),
        // A document with an exact shape: matches elements equal as documents by field query.
        (
            doc! {"_id": 1, "r": [{"a": 1, "b": 2}, {"a": 2}]},
            doc! {"$pull": {"r": {"a": 1}}},
            doc! {"_id": 1, "r": [{"a": 2}]},
        ),
        (
            doc! {"_id": 1, "a": [1, 2]},
            doc! {"$pull": {"a": {"$gt": 5}}},
            doc! {"_id": 1, "a": [1, 2]},
        ),
    ]);
}
