//! Sort tables: (sort spec, documents, expected _id order) rows from MongoDB's documented sort
//! semantics (BSON type order, arrays by smallest/largest element, missing as null, empty arrays
//! first), and the $sort specification errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, Document, doc};
use docwire_db::query::sort::SortSpec;

/// Sorts `docs` stably by `spec` and compares the resulting `_id` order.
fn check(spec: Document, docs: &[Document], expected: &[i32]) {
    let sort = SortSpec::parse(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let mut sorted = docs.to_vec();
    sorted.sort_by(|a, b| sort.compare(a, b));
    let ids: Vec<i32> = sorted.iter().map(|d| d.get_i32("_id").unwrap()).collect();
    assert_eq!(ids, expected, "sort {spec}");
    // Precomputed keys order the same way.
    let mut keyed: Vec<(Vec<Bson>, i32)> = docs
        .iter()
        .map(|d| (sort.key(d), d.get_i32("_id").unwrap()))
        .collect();
    keyed.sort_by(|a, b| sort.compare_keys(&a.0, &b.0));
    let key_ids: Vec<i32> = keyed.into_iter().map(|(_, id)| id).collect();
    assert_eq!(key_ids, expected, "sort keys {spec}");
}

fn arrays() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "a": 2},
        doc! {"_id": 2, "a": [1, 5]},
        doc! {"_id": 3},
        doc! {"_id": 4, "a": null},
        doc! {"_id": 5, "a": []},
        doc! {"_id": 6, "a": "x"},
        doc! {"_id": 7, "a": [3]},
    ]
}

#[test]
fn arrays_missing_and_null() {
    let d = arrays();
    // Ascending uses each array's smallest element, descending its largest; missing sorts as
    // null, and an empty array below both.
    check(doc! {"a": 1}, &d, &[5, 3, 4, 2, 1, 7, 6]);
    check(doc! {"a": -1}, &d, &[6, 2, 7, 1, 3, 4, 5]);
    check(doc! {"a": 1.0}, &d, &[5, 3, 4, 2, 1, 7, 6]);
    check(doc! {"a": -1_i64}, &d, &[6, 2, 7, 1, 3, 4, 5]);
}

#[test]
fn bson_type_order_and_numbers() {
    let oid = bson::oid::ObjectId::from_bytes([7; 12]);
    let d = vec![
        doc! {"_id": 1, "v": "a"},
        doc! {"_id": 2, "v": 1},
        doc! {"_id": 3, "v": {}},
        doc! {"_id": 4, "v": true},
        doc! {"_id": 5, "v": oid},
        doc! {"_id": 6, "v": null},
        doc! {"_id": 7, "v": 1.5},
        doc! {"_id": 8, "v": 2_i64},
        doc! {"_id": 9, "v": bson::DateTime::from_millis(0)},
        doc! {"_id": 10, "v": Bson::MinKey},
        doc! {"_id": 11, "v": Bson::MaxKey},
        doc! {"_id": 12, "v": "B"},
    ];
    check(doc! {"v": 1}, &d, &[10, 6, 2, 7, 8, 12, 1, 3, 5, 4, 9, 11]);
    check(doc! {"v": -1}, &d, &[11, 9, 4, 5, 3, 1, 12, 8, 7, 2, 6, 10]);
}

#[test]
fn compound_and_dotted_keys() {
    let d = vec![
        doc! {"_id": 1, "a": 1, "b": 1},
        doc! {"_id": 2, "a": 1, "b": 2},
        doc! {"_id": 3, "a": 0, "b": 5},
        doc! {"_id": 4, "a": 1},
    ];
    check(doc! {"a": 1, "b": -1}, &d, &[3, 2, 1, 4]);
    check(doc! {"a": -1, "b": 1}, &d, &[4, 1, 2, 3]);
    let d = vec![
        doc! {"_id": 1, "x": [{"y": 5}, {"y": 1}]},
        doc! {"_id": 2, "x": {"y": 3}},
        doc! {"_id": 3, "x": [{"y": 2}, {}]},
    ];
    // A document in the array without the field contributes null.
    check(doc! {"x.y": 1}, &d, &[3, 1, 2]);
    check(doc! {"x.y": -1}, &d, &[1, 2, 3]);
    // Equal keys keep input order (the caller's sort is stable).
    check(doc! {"missing": 1}, &d, &[1, 2, 3]);
}

fn check_error(spec: Document, code: i32, message: &str) {
    let err = SortSpec::parse(&spec).expect_err(&format!("{spec} should not parse"));
    assert_eq!(err.code().code(), code, "{spec}: {err}");
    assert!(err.reason().starts_with(message), "{spec}: {:?}", err.reason());
}

#[test]
fn errors() {
    check_error(
        doc! {"a": 2},
        15975,
        "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
    );
    check_error(doc! {"a": 0}, 15975, "$sort key ordering must be 1");
    check_error(doc! {"a": "x"}, 15974, "Illegal key in $sort specification: a");
    check_error(doc! {}, 15976, "$sort stage must have at least one sort key");
    check_error(
        doc! {"": 1},
        15998,
        "FieldPath field names may not be empty strings.",
    );
    check_error(
        doc! {"$a": 1},
        16410,
        "FieldPath field names may not start with '$'",
    );
    check_error(
        doc! {"a": {"b": 1}},
        17312,
        "$meta is the only expression supported by $sort",
    );
    // find's sort may be empty: no sort.
    assert!(SortSpec::parse_find(&doc! {}).unwrap().is_empty());
}
