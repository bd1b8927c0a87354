//! Projection tables: (projection, input, expected output) rows from MongoDB's documented
//! find-projection behaviour, and mongod's errors for mixed modes and path collisions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Document, doc};
use docwire_db::query::projection::Projection;

/// Parses `spec`, applies it to `input`, and expects `expected` exactly (field order included).
fn check(spec: Document, input: &Document, expected: Document) {
    let projection = Projection::parse(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let got = projection.apply(input);
    assert_eq!(
        got.iter().collect::<Vec<_>>(),
        expected.iter().collect::<Vec<_>>(),
        "projection {spec}"
    );
}

fn journal() -> Document {
    doc! {
        "_id": 1,
        "item": "journal",
        "status": "A",
        "size": {"h": 14, "w": 21, "uom": "cm"},
        "instock": [{"warehouse": "A", "qty": 5}, {"warehouse": "C", "qty": 15}],
    }
}

#[test]
fn documented_projections() {
    let d = journal();
    check(doc! {}, &d, d.clone());
    check(
        doc! {"item": 1, "status": 1},
        &d,
        doc! {"_id": 1, "item": "journal", "status": "A"},
    );
    check(
        doc! {"status": 1, "item": 1},
        &d,
        doc! {"_id": 1, "item": "journal", "status": "A"},
    );
    check(
        doc! {"item": 1, "status": 1, "_id": 0},
        &d,
        doc! {"item": "journal", "status": "A"},
    );
    check(doc! {"_id": 0, "item": true}, &d, doc! {"item": "journal"});
    check(
        doc! {"status": 0, "instock": 0},
        &d,
        doc! {"_id": 1, "item": "journal", "size": {"h": 14, "w": 21, "uom": "cm"}},
    );
    check(
        doc! {"item": 1, "status": 1, "size.uom": 1},
        &d,
        doc! {"_id": 1, "item": "journal", "status": "A", "size": {"uom": "cm"}},
    );
    check(
        doc! {"size.uom": 0, "instock": false},
        &d,
        doc! {"_id": 1, "item": "journal", "status": "A", "size": {"h": 14, "w": 21}},
    );
    check(
        doc! {"item": 1, "status": 1, "instock.qty": 1},
        &d,
        doc! {"_id": 1, "item": "journal", "status": "A", "instock": [{"qty": 5}, {"qty": 15}]},
    );
    check(
        doc! {"instock.warehouse": 0, "size": 0, "item": 0, "status": 0},
        &d,
        doc! {"_id": 1, "instock": [{"qty": 5}, {"qty": 15}]},
    );
}

#[test]
fn id_handling() {
    let d = journal();
    check(doc! {"_id": 1}, &d, doc! {"_id": 1});
    let mut without_id = d.clone();
    without_id.remove("_id");
    check(doc! {"_id": 0}, &d, without_id);
    // _id: 1 is allowed in an exclusion projection and keeps _id.
    check(
        doc! {"_id": 1, "size": 0, "instock": 0},
        &d,
        doc! {"_id": 1, "item": "journal", "status": "A"},
    );
    check(doc! {"nothing": 1}, &d, doc! {"_id": 1});
}

#[test]
fn arrays_and_scalars_under_dotted_paths() {
    let d = doc! {"_id": 1, "a": [1, {"b": 2, "c": 3}, [{"b": 4, "c": 5}], {"c": 6}], "s": 5, "e": {"x": 1}};
    // Inclusion keeps the array's documents, projected, and drops its scalars.
    check(
        doc! {"a.b": 1},
        &d,
        doc! {"_id": 1, "a": [{"b": 2}, [{"b": 4}], {}]},
    );
    // A scalar has no subfield, so it disappears; a document without it becomes empty.
    check(doc! {"s.x": 1, "e.y": 1}, &d, doc! {"_id": 1, "e": {}});
    // Exclusion keeps scalars and removes the subfield wherever it is.
    check(
        doc! {"a.b": 0, "s.x": 0},
        &d,
        doc! {"_id": 1, "a": [1, {"c": 3}, [{"c": 5}], {"c": 6}], "s": 5, "e": {"x": 1}},
    );
    check(
        doc! {"a": 5},
        &d,
        doc! {"_id": 1, "a": [1, {"b": 2, "c": 3}, [{"b": 4, "c": 5}], {"c": 6}]},
    );
}

fn check_error(spec: Document, code: i32, message: &str) {
    let err = Projection::parse(&spec).expect_err(&format!("{spec} should not parse"));
    assert_eq!(err.code().code(), code, "{spec}: {err}");
    assert!(err.reason().starts_with(message), "{spec}: {:?}", err.reason());
}

#[test]
fn errors() {
    check_error(
        doc! {"a": 1, "b": 0},
        31254,
        "Cannot do exclusion on field b in inclusion projection",
    );
    check_error(
        doc! {"a": 0, "b": 1},
        31253,
        "Cannot do inclusion on field b in exclusion projection",
    );
    check_error(doc! {"a": 1, "a.b": 1}, 31249, "Path collision at a.b");
    check_error(doc! {"a.b": 1, "a": 1}, 31250, "Path collision at a");
    check_error(doc! {"a.b.c": 0, "a.b": 0}, 31250, "Path collision at a.b");
    check_error(
        doc! {"a.": 1},
        15998,
        "FieldPath field names may not be empty strings.",
    );
    check_error(
        doc! {"$a": 1},
        16410,
        "FieldPath field names may not start with '$'",
    );
    assert!(Projection::parse(&doc! {"a": "literal"}).is_err());
    assert!(Projection::parse(&doc! {"a.$": 1}).is_err());
}
