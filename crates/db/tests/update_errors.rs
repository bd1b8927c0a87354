//! Table-driven error tests: updates mongod refuses at parse time, and updates that fail on a given
//! document, each with mongod's error code (and, where drivers and users see it, the message).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{DateTime, Document, doc};
use docwire_db::update::{ApplyContext, UpdateSpec, check_document_size};

fn ctx() -> ApplyContext {
    ApplyContext {
        is_upsert_insert: false,
        now: DateTime::from_millis(0),
    }
}

#[test]
fn parse_errors() {
    let cases: &[(Document, i32)] = &[
        (doc! {"$foo": {"a": 1}}, 9),
        (doc! {"$set": {"a": 1}, "b": 2}, 9),
        (doc! {"$set": 1}, 9),
        // A replacement (first field not an operator) with a $-prefixed field.
        (doc! {"a": 1, "$set": {"b": 1}}, 52),
        (doc! {"$set": {"a": 1}, "$inc": {"a": 1}}, 40),
        (doc! {"$set": {"a": 1, "a.b": 1}}, 40),
        (doc! {"$set": {"a.b": 1}, "$unset": {"a": 1}}, 40),
        (doc! {"$set": {"a.b": 1, "a.c": 1}, "$inc": {"a.b.c": 1}}, 40),
        (doc! {"$rename": {"a": "b"}, "$set": {"b": 1}}, 40),
        (doc! {"$rename": {"a": "b"}, "$set": {"a": 1}}, 40),
        (doc! {"$rename": {"a": "a"}}, 2),
        (doc! {"$rename": {"a": "a.b"}}, 2),
        (doc! {"$rename": {"a.b": "a"}}, 2),
        (doc! {"$rename": {"a": 1}}, 2),
        (doc! {"$inc": {"a": "x"}}, 14),
        (doc! {"$mul": {"a": true}}, 14),
        (doc! {"$set": {"a..b": 1}}, 56),
        (doc! {"$set": {"": 1}}, 56),
        (doc! {"$set": {"$.a": 1}}, 2),
        (doc! {"$pop": {"a": 2}}, 9),
        (doc! {"$pop": {"a": "x"}}, 9),
        (doc! {"$push": {"a": {"$each": 1}}}, 2),
        (doc! {"$push": {"a": {"$each": [1], "$bad": 1}}}, 2),
        (doc! {"$push": {"a": {"$each": [1], "$slice": "x"}}}, 2),
        (doc! {"$push": {"a": {"$each": [1], "$sort": 2}}}, 2),
        (doc! {"$push": {"a": {"$each": [1], "$sort": {}}}}, 2),
        (doc! {"$push": {"a": {"$each": [1], "$position": 1.5}}}, 2),
        (doc! {"$addToSet": {"a": {"$each": 1}}}, 14),
        (doc! {"$pullAll": {"a": 1}}, 2),
        (doc! {"$currentDate": {"a": 1}}, 2),
        (doc! {"$currentDate": {"a": {"$type": "x"}}}, 2),
        (doc! {"$currentDate": {"a": {"$bad": "date"}}}, 2),
        (doc! {"$pull": {"a": {"$bad": 1}}}, 2),
    ];
    for (update, code) in cases {
        match UpdateSpec::parse(update) {
            Ok(_) => panic!("{update} parsed; want code {code}"),
            Err(e) => assert_eq!(e.code().code(), *code, "{update}: {}", e.reason()),
        }
    }
}

#[test]
fn parse_messages() {
    let message = |u: Document| UpdateSpec::parse(&u).unwrap_err().reason().to_owned();
    assert_eq!(
        message(doc! {"$foo": {"a": 1}}),
        "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array"
    );
    assert_eq!(
        message(doc! {"$set": {"a": 1}, "$inc": {"a": 1}}),
        "Updating the path 'a' would create a conflict at 'a'"
    );
    assert_eq!(
        message(doc! {"$set": {"a": 1, "a.b": 1}}),
        "Updating the path 'a.b' would create a conflict at 'a'"
    );
    assert_eq!(
        message(doc! {"$set": {"a.b": 1}, "$inc": {"a": 1}}),
        "Updating the path 'a' would create a conflict at 'a'"
    );
}

#[test]
fn apply_errors() {
    let cases: &[(Document, Document, i32)] = &[
        // Traversing a scalar.
        (doc! {"_id": 1, "a": 1}, doc! {"$set": {"a.b": 1}}, 28),
        (doc! {"_id": 1, "a": 1}, doc! {"$set": {"a.b.c": 1}}, 28),
        (doc! {"_id": 1, "a": "s"}, doc! {"$inc": {"a.b": 1}}, 28),
        // A name (not an index) inside an array.
        (doc! {"_id": 1, "a": [{"b": 1}]}, doc! {"$set": {"a.b": 1}}, 28),
        (doc! {"_id": 1, "a": 1}, doc! {"$pop": {"a.b": 1}}, 28),
        (doc! {"_id": 1, "a": 1}, doc! {"$pull": {"a.b": 1}}, 28),
        (doc! {"_id": 1, "a": "x"}, doc! {"$inc": {"a": 1}}, 14),
        (doc! {"_id": 1, "a": Bson::Null}, doc! {"$mul": {"a": 2}}, 14),
        (doc! {"_id": 1, "a": i64::MAX}, doc! {"$inc": {"a": 1}}, 2),
        (doc! {"_id": 1, "a": i64::MAX}, doc! {"$mul": {"a": 2}}, 2),
        (doc! {"_id": 1, "a": 1}, doc! {"$push": {"a": 1}}, 2),
        (doc! {"_id": 1, "a": 1}, doc! {"$addToSet": {"a": 1}}, 2),
        (doc! {"_id": 1, "a": 1}, doc! {"$pop": {"a": 1}}, 14),
        (doc! {"_id": 1, "a": 1}, doc! {"$pull": {"a": 1}}, 2),
        (doc! {"_id": 1, "a": {"b": 1}}, doc! {"$pullAll": {"a": [1]}}, 2),
        // _id is immutable.
        (doc! {"_id": 1, "a": 1}, doc! {"$set": {"_id": 2}}, 66),
        (doc! {"_id": 1, "a": 1}, doc! {"$inc": {"_id": 1}}, 66),
        (doc! {"_id": 1, "a": 1}, doc! {"$unset": {"_id": 1}}, 66),
        (doc! {"_id": {"x": 1}}, doc! {"$set": {"_id.x": 2}}, 66),
        (doc! {"_id": {"x": 1}}, doc! {"$set": {"_id.y": 2}}, 66),
        (doc! {"_id": 1, "a": 1}, doc! {"$rename": {"_id": "b"}}, 66),
        (doc! {"_id": 1, "a": 1}, doc! {"$rename": {"a": "_id"}}, 66),
        (doc! {"_id": 1, "a": 1}, doc! {"_id": 2, "a": 1}, 66),
        // $rename through arrays.
        (doc! {"_id": 1, "a": [1, 2]}, doc! {"$rename": {"a.0": "b"}}, 2),
        (
            doc! {"_id": 1, "a": 1, "b": []},
            doc! {"$rename": {"a": "b.x"}},
            2,
        ),
        (
            doc! {"_id": 1, "a": 1, "b": [5]},
            doc! {"$rename": {"a": "b.0"}},
            2,
        ),
        (doc! {"_id": 1, "a": 1}, doc! {"$rename": {"a.b": "c"}}, 28),
        // Results that cannot be stored.
        (doc! {"_id": 1}, doc! {"$set": {"$x": 1}}, 52),
        (doc! {"a": 1}, doc! {"$set": {"_id": [1]}}, 53),
    ];
    for (initial, update, code) in cases {
        let spec = UpdateSpec::parse(update).unwrap_or_else(|e| panic!("parse {update}: {}", e.reason()));
        let mut doc = initial.clone();
        match spec.apply(&mut doc, ctx()) {
            Ok(_) => panic!("{update} on {initial} gave {doc}; want code {code}"),
            Err(e) => assert_eq!(e.code().code(), *code, "{update} on {initial}: {}", e.reason()),
        }
        assert_eq!(&doc, initial, "a failed update leaves the document alone");
    }
}

#[test]
fn apply_messages() {
    let message = |d: Document, u: Document| {
        let mut d = d;
        UpdateSpec::parse(&u)
            .unwrap()
            .apply(&mut d, ctx())
            .unwrap_err()
            .reason()
            .to_owned()
    };
    assert_eq!(
        message(doc! {"_id": 1, "a": 1}, doc! {"$set": {"a.b": 1}}),
        "Cannot create field 'b' in element {a: 1}"
    );
    assert_eq!(
        message(doc! {"_id": 1, "a": "x"}, doc! {"$inc": {"a": 1}}),
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string"
    );
    assert_eq!(
        message(doc! {"_id": 1, "a": 1}, doc! {"$push": {"a": 1}}),
        "The field 'a' must be an array but is of type int in document {_id: 1}"
    );
    assert_eq!(
        message(doc! {"_id": 1}, doc! {"$set": {"_id": 2}}),
        "Performing an update on the path '_id' would modify the immutable field '_id'"
    );
    assert_eq!(
        message(doc! {"_id": "k", "v": i64::MAX}, doc! {"$inc": {"v": 1}}),
        "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: \"k\"}"
    );
}

#[test]
fn document_size() {
    let small = doc! {"a": 1};
    assert!(check_document_size(&small).is_ok());
    let big = doc! {"a": "x".repeat(16 * 1024 * 1024)};
    assert_eq!(check_document_size(&big).unwrap_err().code().code(), 10334);
}

use bson::Bson;
