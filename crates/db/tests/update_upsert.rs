//! Upserts: the seed document from the query's equality conditions (mongod's
//! `extractEqualityMatches`), and the inserted document with `$setOnInsert` and `_id` first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, DateTime, Document, doc};
use docwire_db::update::{UpdateSpec, upsert_seed};

fn bytes(d: &Document) -> Vec<u8> {
    d.to_vec().unwrap()
}

#[test]
fn seeds() {
    let cases: &[(Document, Document)] = &[
        (doc! {}, doc! {}),
        (doc! {"a": 1}, doc! {"a": 1}),
        (doc! {"a": {"$eq": 2}}, doc! {"a": 2}),
        // Non-equality conditions are skipped.
        (doc! {"a": {"$gt": 1}, "b": 2}, doc! {"b": 2}),
        (doc! {"a": {"$gt": 1, "$eq": 5}}, doc! {"a": 5}),
        (doc! {"a": {"$in": [1, 2]}}, doc! {}),
        (doc! {"a": {"$in": [7]}}, doc! {"a": 7}),
        (doc! {"$or": [{"a": 1}, {"b": 2}]}, doc! {}),
        (doc! {"$or": [{"a": 1}]}, doc! {"a": 1}),
        (doc! {"$nor": [{"a": 1}]}, doc! {}),
        (
            doc! {"$and": [{"a": 1}, {"b": {"$eq": 2}}, {"c": {"$lt": 3}}]},
            doc! {"a": 1, "b": 2},
        ),
        // Dotted paths become embedded documents.
        (doc! {"a.b": 1, "a.c": 2}, doc! {"a": {"b": 1, "c": 2}}),
        (doc! {"x.y.z": "v"}, doc! {"x": {"y": {"z": "v"}}}),
        // Equalities are added in sorted order of their paths.
        (doc! {"b": 1, "a": 2, "_id": 3}, doc! {"_id": 3, "a": 2, "b": 1}),
        (doc! {"a": {"b": 1}}, doc! {"a": {"b": 1}}),
        (doc! {"a": Bson::Null}, doc! {"a": Bson::Null}),
        (doc! {"a": {"$exists": true}, "$comment": "c"}, doc! {}),
    ];
    for (filter, expected) in cases {
        let seed = upsert_seed(filter).unwrap_or_else(|e| panic!("{filter}: {}", e.reason()));
        assert_eq!(bytes(&seed), bytes(expected), "{filter}: got {seed}");
    }
}

#[test]
fn seed_conflicts() {
    for filter in [
        doc! {"a": 1, "$and": [{"a": 2}]},
        doc! {"a": {"b": 1}, "a.b": 1},
        doc! {"a.b": 1, "$and": [{"a": {"b": 1}}]},
    ] {
        let err = upsert_seed(&filter).unwrap_err();
        assert_eq!(err.code().code(), 54, "{filter}: {}", err.reason());
    }
}

#[test]
fn upsert_documents() {
    let now = DateTime::from_millis(5);
    let cases: &[(Document, Document, Document)] = &[
        (
            doc! {"_id": 7, "a": 1},
            doc! {"$set": {"b": 2}, "$setOnInsert": {"c": 3}},
            doc! {"_id": 7, "a": 1, "b": 2, "c": 3},
        ),
        (doc! {"_id": 7}, doc! {"$inc": {"n": 1}}, doc! {"_id": 7, "n": 1}),
        // A replacement takes only _id from the query.
        (doc! {"_id": 7, "a": 1}, doc! {"x": 1}, doc! {"_id": 7, "x": 1}),
        // An update may set _id when the query does not fix it; it is moved first.
        (doc! {"a": 1}, doc! {"$set": {"_id": 5}}, doc! {"_id": 5, "a": 1}),
        (doc! {"a": 1}, doc! {"x": 2, "_id": 9}, doc! {"_id": 9, "x": 2}),
        (
            doc! {"_id": 1, "a.b": 1},
            doc! {"$set": {"a.c": 2}},
            doc! {"_id": 1, "a": {"b": 1, "c": 2}},
        ),
    ];
    for (filter, update, expected) in cases {
        let spec = UpdateSpec::parse(update).unwrap();
        let doc = spec
            .upsert_document(filter, now)
            .unwrap_or_else(|e| panic!("{filter} {update}: {}", e.reason()));
        assert_eq!(bytes(&doc), bytes(expected), "{filter} {update}: got {doc}");
    }
}

#[test]
fn upsert_generates_an_object_id_first() {
    let spec = UpdateSpec::parse(&doc! {"$set": {"b": 1}}).unwrap();
    let doc = spec.upsert_document(&doc! {"a": 1}, DateTime::now()).unwrap();
    let keys: Vec<&String> = doc.keys().collect();
    assert_eq!(keys, ["_id", "a", "b"]);
    assert!(matches!(doc.get("_id"), Some(Bson::ObjectId(_))));
}

#[test]
fn upsert_errors() {
    let now = DateTime::from_millis(0);
    let cases: &[(Document, Document, i32)] = &[
        // The query fixes _id; the update may not change it.
        (doc! {"_id": 1}, doc! {"$set": {"_id": 2}}, 66),
        (doc! {"_id": 1}, doc! {"_id": 2, "a": 1}, 66),
        (doc! {"_id.x": 1}, doc! {"a": 1}, 111),
        (doc! {"a": 1, "a.b": 2}, doc! {"$set": {"c": 1}}, 54),
    ];
    for (filter, update, code) in cases {
        let spec = UpdateSpec::parse(update).unwrap();
        let err = spec.upsert_document(filter, now).unwrap_err();
        assert_eq!(err.code().code(), *code, "{filter} {update}: {}", err.reason());
    }
}
