//! Table-driven matcher tests: (filter, documents, expected _ids) rows written from MongoDB's
//! documented query semantics (null vs missing, arrays, type bracketing, dotted paths into arrays),
//! plus the parse errors mongod reports for malformed filters. Every row also runs on the raw bytes
//! (`matches_raw`, what scans use).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, Document, doc};
use docwire_db::query::matcher::Matcher;

/// Parses `filter`, runs it over `docs`, and compares the matching `_id`s (in document order).
fn check(filter: Document, docs: &[Document], expected: &[i32]) {
    let matcher = Matcher::parse(&filter).unwrap_or_else(|e| panic!("{filter} failed to parse: {e}"));
    let got: Vec<i32> = docs
        .iter()
        .filter(|d| matcher.matches(d))
        .map(|d| d.get_i32("_id").unwrap())
        .collect();
    assert_eq!(got, expected, "filter {filter}");
    // Scans match stored bytes in place: that path must agree on every row too.
    for d in docs {
        let raw = bson::RawDocumentBuf::try_from(d).unwrap();
        let in_place = matcher.matches_raw(&raw).unwrap();
        assert_eq!(in_place, matcher.matches(d), "raw path: filter {filter} on {d}");
    }
}

fn re(pattern: &str, options: &str) -> Bson {
    Bson::RegularExpression(bson::Regex {
        pattern: pattern.try_into().unwrap(),
        options: options.try_into().unwrap(),
    })
}

fn nulls() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "a": null},
        doc! {"_id": 2},
        doc! {"_id": 3, "a": 1},
        doc! {"_id": 4, "a": [1, null]},
        doc! {"_id": 5, "a": []},
        doc! {"_id": 6, "a": {"b": null}},
        doc! {"_id": 7, "a": Bson::Undefined},
    ]
}

#[test]
fn null_and_missing() {
    let d = nulls();
    // {field: null} matches null, a missing field, and an array holding null; since 8.0 not undefined.
    check(doc! {"a": null}, &d, &[1, 2, 4]);
    check(doc! {"a": {"$eq": null}}, &d, &[1, 2, 4]);
    check(doc! {"a": {"$ne": null}}, &d, &[3, 5, 6, 7]);
    check(doc! {"a": {"$in": [null]}}, &d, &[1, 2, 4]);
    check(doc! {"a": {"$in": [null, 1]}}, &d, &[1, 2, 3, 4]);
    check(doc! {"a": {"$nin": [null]}}, &d, &[3, 5, 6, 7]);
    check(doc! {"a": {"$exists": false}}, &d, &[2]);
    check(doc! {"a": {"$exists": true}}, &d, &[1, 3, 4, 5, 6, 7]);
    check(doc! {"a": {"$exists": 0}}, &d, &[2]);
    // $type: "null" matches only stored nulls (including array elements), never a missing field.
    check(doc! {"a": {"$type": "null"}}, &d, &[1, 4]);
    check(doc! {"a": {"$type": 10}}, &d, &[1, 4]);
    check(doc! {"a": {"$gte": null}}, &d, &[1, 2, 4]);
    check(doc! {"a": {"$lte": null}}, &d, &[1, 2, 4]);
    check(doc! {"a": {"$gt": null}}, &d, &[]);
    check(doc! {"a": {"$lt": null}}, &d, &[]);
    // "a.b": null matches a non-document a (missing b), a subdocument with null/missing b, and an
    // array holding a document without b; an array of scalars has no "a.b" at all.
    check(doc! {"a.b": null}, &d, &[1, 2, 3, 6, 7]);
    check(doc! {"a.b": {"$exists": true}}, &d, &[6]);
    check(doc! {"a": {"$not": {"$type": "null"}}}, &d, &[2, 3, 5, 6, 7]);
}

fn dotted() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "a": [{"b": 1}, {"b": 2}]},
        doc! {"_id": 2, "a": [{"b": 3}, {"c": 1}]},
        doc! {"_id": 3, "a": {"b": [1, 5]}},
        doc! {"_id": 4, "a": [[{"b": 1}]]},
        doc! {"_id": 5, "a": [1, 2]},
        doc! {"_id": 6, "a": {"b": 1}},
    ]
}

#[test]
fn dotted_paths_into_arrays() {
    let d = dotted();
    check(doc! {"a.b": 1}, &d, &[1, 3, 6]);
    check(doc! {"a.b": {"$ne": 1}}, &d, &[2, 4, 5]);
    check(doc! {"a.b": null}, &d, &[2]);
    check(doc! {"a.b": {"$exists": false}}, &d, &[4, 5]);
    check(doc! {"a.b": {"$gt": 2}}, &d, &[2, 3]);
    check(doc! {"a.b": {"$in": [2, 5]}}, &d, &[1, 3]);
    check(doc! {"a.b": {"$size": 2}}, &d, &[3]);
    check(doc! {"a.c": 1}, &d, &[2]);
    check(doc! {"a": {"$size": 2}}, &d, &[1, 2, 5]);
    check(doc! {"a.1": 2}, &d, &[5]);
    check(doc! {"a.1.b": 2}, &d, &[1]);
    check(doc! {"a.b": {"$elemMatch": {"$gt": 4}}}, &d, &[3]);
    check(doc! {"a": {"$elemMatch": {"b": {"$gte": 2}}}}, &d, &[1, 2]);
    check(doc! {"a": {"b": 1}}, &d, &[1, 6]);
}

#[test]
fn numeric_path_components() {
    let d = vec![
        doc! {"_id": 1, "a": [{"b": 1}, {"b": 2}]},
        doc! {"_id": 2, "a": [{"b": 2}, {"b": 1}]},
        doc! {"_id": 3, "a": {"0": {"b": 1}}},
        doc! {"_id": 4, "a": [5, 6]},
    ];
    check(doc! {"a.0.b": 1}, &d, &[1, 3]);
    check(doc! {"a.1": 6}, &d, &[4]);
    check(doc! {"a.0": {"$gt": 4}}, &d, &[4]);
    check(doc! {"a.b": 2}, &d, &[1, 2]);
    check(doc! {"a.2": {"$exists": true}}, &d, &[]);
}

fn tags() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "tags": ["red", "blank"]},
        doc! {"_id": 2, "tags": ["blank", "red"]},
        doc! {"_id": 3, "tags": ["red", "blank", "plain"]},
        doc! {"_id": 4, "tags": ["blank"]},
        doc! {"_id": 5, "tags": "red"},
        doc! {"_id": 6, "tags": [["red", "blank"]]},
        doc! {"_id": 7, "tags": []},
    ]
}

#[test]
fn arrays() {
    let d = tags();
    // Whole-array equality is exact (order included), and also matches an element equal to it.
    check(doc! {"tags": ["red", "blank"]}, &d, &[1, 6]);
    check(doc! {"tags": {"$eq": ["blank", "red"]}}, &d, &[2]);
    check(doc! {"tags": []}, &d, &[7]);
    check(doc! {"tags": "red"}, &d, &[1, 2, 3, 5]);
    check(doc! {"tags": {"$all": ["red", "blank"]}}, &d, &[1, 2, 3]);
    check(doc! {"tags": {"$all": [["red", "blank"]]}}, &d, &[1, 6]);
    check(doc! {"tags": {"$all": ["red"]}}, &d, &[1, 2, 3, 5]);
    check(doc! {"tags": {"$all": []}}, &d, &[]);
    check(doc! {"tags": {"$size": 1}}, &d, &[4, 6]);
    check(doc! {"tags": {"$size": 0}}, &d, &[7]);
    check(doc! {"tags": {"$in": ["plain", "nothing"]}}, &d, &[3]);
    check(doc! {"tags": {"$in": [["blank"]]}}, &d, &[4]);
    check(doc! {"tags": {"$nin": ["red"]}}, &d, &[4, 6, 7]);
    check(doc! {"tags": {"$ne": "red"}}, &d, &[4, 6, 7]);
    check(doc! {"tags": {"$type": "array"}}, &d, &[1, 2, 3, 4, 6, 7]);
    check(doc! {"tags": {"$type": "string"}}, &d, &[1, 2, 3, 4, 5]);
    check(doc! {"tags.0": "red"}, &d, &[1, 3]);
    check(doc! {"tags": {"$elemMatch": {"$eq": "plain"}}}, &d, &[3]);
    check(doc! {"tags": {"$elemMatch": {"$size": 2}}}, &d, &[6]);
    check(doc! {"tags": {"$gt": "q"}}, &d, &[1, 2, 3, 5]);
}

fn quantities() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "qty": 5},
        doc! {"_id": 2, "qty": 5.0},
        doc! {"_id": 3, "qty": 5_i64},
        doc! {"_id": 4, "qty": "5"},
        doc! {"_id": 5, "qty": 20},
        doc! {"_id": 6, "qty": [1, 25]},
        doc! {"_id": 7, "qty": f64::NAN},
        doc! {"_id": 8, "qty": null},
        doc! {"_id": 9, "qty": [15]},
        doc! {"_id": 10, "qty": true},
    ]
}

#[test]
fn comparisons_and_type_bracketing() {
    let d = quantities();
    // All numeric types compare as one; strings, booleans and null never meet a numeric bound.
    check(doc! {"qty": 5}, &d, &[1, 2, 3]);
    check(doc! {"qty": 5.0}, &d, &[1, 2, 3]);
    check(doc! {"qty": {"$gt": 4}}, &d, &[1, 2, 3, 5, 6, 9]);
    check(doc! {"qty": {"$gte": 20}}, &d, &[5, 6]);
    check(doc! {"qty": {"$lt": 6}}, &d, &[1, 2, 3, 6]);
    check(doc! {"qty": {"$lte": 1}}, &d, &[6]);
    check(doc! {"qty": {"$gt": "4"}}, &d, &[4]);
    check(doc! {"qty": {"$gt": false}}, &d, &[10]);
    check(doc! {"qty": true}, &d, &[10]);
    check(doc! {"qty": 1}, &d, &[6]);
    // Each condition may be met by a different element; $elemMatch needs one element for all.
    check(doc! {"qty": {"$gt": 10, "$lt": 20}}, &d, &[6, 9]);
    check(doc! {"qty": {"$elemMatch": {"$gt": 10, "$lt": 20}}}, &d, &[9]);
    // NaN equals NaN and is neither above nor below any number.
    check(doc! {"qty": f64::NAN}, &d, &[7]);
    check(doc! {"qty": {"$gte": f64::NAN}}, &d, &[7]);
    check(doc! {"qty": {"$lt": f64::NAN}}, &d, &[]);
    check(doc! {"qty": {"$gt": f64::NEG_INFINITY}}, &d, &[1, 2, 3, 5, 6, 9]);
    check(doc! {"qty": {"$mod": [4, 1]}}, &d, &[1, 2, 3, 6]);
    check(doc! {"qty": {"$mod": [10, 5.5]}}, &d, &[1, 2, 3, 6, 9]);
    check(doc! {"qty": {"$in": [5, 15]}}, &d, &[1, 2, 3, 9]);
    check(doc! {"qty": {"$nin": [5, 15]}}, &d, &[4, 5, 6, 7, 8, 10]);
    // $not matches what the inner expression does not, including non-numbers.
    check(doc! {"qty": {"$not": {"$gt": 4}}}, &d, &[4, 7, 8, 10]);
    check(
        doc! {"qty": {"$not": {"$gt": 4, "$lt": 10}}},
        &d,
        &[4, 5, 7, 8, 9, 10],
    );
}

#[test]
fn type_operator() {
    let d = quantities();
    check(doc! {"qty": {"$type": "number"}}, &d, &[1, 2, 3, 5, 6, 7, 9]);
    check(doc! {"qty": {"$type": "double"}}, &d, &[2, 7]);
    check(doc! {"qty": {"$type": 1}}, &d, &[2, 7]);
    check(doc! {"qty": {"$type": 1.0}}, &d, &[2, 7]);
    check(doc! {"qty": {"$type": "long"}}, &d, &[3]);
    check(doc! {"qty": {"$type": 16}}, &d, &[1, 5, 6, 9]);
    check(doc! {"qty": {"$type": "int"}}, &d, &[1, 5, 6, 9]);
    check(doc! {"qty": {"$type": ["string", "null"]}}, &d, &[4, 8]);
    check(doc! {"qty": {"$type": "bool"}}, &d, &[10]);
    check(doc! {"qty": {"$type": "array"}}, &d, &[6, 9]);
    check(doc! {"missing": {"$type": "number"}}, &d, &[]);
}

#[test]
fn logical_operators() {
    let d = vec![
        doc! {"_id": 1, "a": 1, "b": 1},
        doc! {"_id": 2, "a": 1, "b": 2},
        doc! {"_id": 3, "a": 2, "b": 1},
        doc! {"_id": 4, "a": 2},
    ];
    check(doc! {}, &d, &[1, 2, 3, 4]);
    check(doc! {"a": 1, "b": 1}, &d, &[1]);
    check(doc! {"$or": [{"a": 1}, {"b": 1}]}, &d, &[1, 2, 3]);
    check(doc! {"$or": [{"a": 3}]}, &d, &[]);
    check(doc! {"$and": [{"a": 1}, {"b": 1}]}, &d, &[1]);
    check(doc! {"$and": [{"a": 2}, {"a": {"$exists": true}}]}, &d, &[3, 4]);
    check(doc! {"$nor": [{"a": 1}, {"b": 1}]}, &d, &[4]);
    check(doc! {"$nor": [{"b": {"$exists": true}}]}, &d, &[4]);
    check(doc! {"a": 1, "$or": [{"b": 2}, {"b": 3}]}, &d, &[2]);
    check(
        doc! {"$and": [{"$or": [{"a": 1}, {"a": 2}]}, {"$or": [{"b": 2}, {"b": {"$exists": false}}]}]},
        &d,
        &[2, 4],
    );
    check(doc! {"$comment": "why", "a": 2}, &d, &[3, 4]);
    check(doc! {"a": {"$not": {"$eq": 1}}}, &d, &[3, 4]);
    check(doc! {"b": {"$ne": 1}}, &d, &[2, 4]);
    check(doc! {"$alwaysFalse": 1}, &d, &[]);
    check(doc! {"$alwaysTrue": 1}, &d, &[1, 2, 3, 4]);
    check(
        doc! {"$or": [{"a": {"$gt": 1}}, {"b": {"$gt": 1}}], "b": {"$exists": true}},
        &d,
        &[2, 3],
    );
}

#[test]
fn embedded_documents() {
    let d = vec![
        doc! {"_id": 1, "size": {"h": 14, "w": 21, "uom": "cm"}},
        doc! {"_id": 2, "size": {"w": 21, "h": 14, "uom": "cm"}},
        doc! {"_id": 3, "size": {"h": 14, "w": 21}},
        doc! {"_id": 4, "size": {"h": 8.5, "w": 11, "uom": "in"}},
    ];
    // Whole-document equality is exact, field order included.
    check(doc! {"size": {"h": 14, "w": 21, "uom": "cm"}}, &d, &[1]);
    check(doc! {"size": {"$eq": {"h": 14, "w": 21}}}, &d, &[3]);
    check(doc! {"size.uom": "cm"}, &d, &[1, 2]);
    check(doc! {"size.h": {"$lt": 15}}, &d, &[1, 2, 3, 4]);
    check(doc! {"size.uom": {"$exists": false}}, &d, &[3]);
    check(doc! {"size": {"$type": "object"}}, &d, &[1, 2, 3, 4]);
    check(doc! {"size": {"$gt": {"h": 14}}}, &d, &[1, 2, 3]);
    check(doc! {"size": {"$in": [{"h": 14, "w": 21}, {"w": 21}]}}, &d, &[3]);
    // A first key without `$` makes the whole value a literal document.
    check(doc! {"size": {"h": {"$lt": 15}}}, &d, &[]);
}

fn skus() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "sku": "abc123"},
        doc! {"_id": 2, "sku": "abc789"},
        doc! {"_id": 3, "sku": "xyz456"},
        doc! {"_id": 4, "sku": "xyz789"},
        doc! {"_id": 5, "sku": "Abc789"},
        doc! {"_id": 6, "sku": ["x", "ABC1"]},
        doc! {"_id": 7, "sku": re("^abc", "")},
        doc! {"_id": 8, "sku": "multi\nline"},
        doc! {"_id": 9, "sku": 123},
    ]
}

#[test]
fn regular_expressions() {
    let d = skus();
    check(doc! {"sku": {"$regex": "789$"}}, &d, &[2, 4, 5]);
    check(
        doc! {"sku": {"$regex": "^ABC", "$options": "i"}},
        &d,
        &[1, 2, 5, 6],
    );
    check(
        doc! {"sku": {"$options": "i", "$regex": "^ABC"}},
        &d,
        &[1, 2, 5, 6],
    );
    check(doc! {"sku": {"$regex": re("^ABC", "i")}}, &d, &[1, 2, 5, 6]);
    // An implicit regex matches strings by pattern and a stored regex that is identical.
    check(doc! {"sku": re("^abc", "")}, &d, &[1, 2, 7]);
    // $eq with a regex only matches that regex value.
    check(doc! {"sku": {"$eq": re("^abc", "")}}, &d, &[7]);
    check(doc! {"sku": {"$in": [re("^xyz", ""), "abc123"]}}, &d, &[1, 3, 4]);
    check(doc! {"sku": {"$nin": [re("^a", "i")]}}, &d, &[3, 4, 7, 8, 9]);
    check(doc! {"sku": {"$not": re("^a", "")}}, &d, &[3, 4, 5, 6, 7, 8, 9]);
    check(doc! {"sku": {"$not": {"$regex": "^x"}}}, &d, &[1, 2, 5, 7, 8, 9]);
    check(doc! {"sku": {"$all": [re("^x", ""), re("1$", "i")]}}, &d, &[6]);
    check(doc! {"sku": {"$regex": "^line", "$options": "m"}}, &d, &[8]);
    check(doc! {"sku": {"$regex": "^line"}}, &d, &[]);
    check(doc! {"sku": {"$regex": "multi.line", "$options": "s"}}, &d, &[8]);
    check(doc! {"sku": {"$regex": "multi.line"}}, &d, &[]);
    check(
        doc! {"sku": {"$regex": "a b c 1 # comment", "$options": "x"}},
        &d,
        &[1],
    );
    // Regexes only match strings (and symbols): the number 123 is not "123".
    check(doc! {"sku": {"$regex": "^1"}}, &d, &[]);
    check(doc! {"sku": {"$elemMatch": {"$regex": "^A"}}}, &d, &[6]);
}

#[test]
fn elem_match() {
    let d = vec![
        doc! {"_id": 1, "results": [{"product": "abc", "score": 10}, {"product": "xyz", "score": 5}]},
        doc! {"_id": 2, "results": [{"product": "abc", "score": 8}, {"product": "xyz", "score": 7}]},
        doc! {"_id": 3, "results": [{"product": "abc", "score": 7}, {"product": "xyz", "score": 8}]},
        doc! {"_id": 4, "results": [{"product": "abc", "score": 7}, {"product": "def", "score": 8}]},
        doc! {"_id": 5, "results": [82, 85, 88]},
        doc! {"_id": 6, "results": [75, 88, 89]},
    ];
    check(
        doc! {"results": {"$elemMatch": {"product": "xyz", "score": {"$gte": 8}}}},
        &d,
        &[3],
    );
    // Without $elemMatch the two conditions may hold on different elements.
    check(
        doc! {"results.product": "xyz", "results.score": {"$gte": 8}},
        &d,
        &[1, 2, 3],
    );
    check(
        doc! {"results": {"$elemMatch": {"$gte": 80, "$lt": 85}}},
        &d,
        &[5],
    );
    check(
        doc! {"results": {"$elemMatch": {"product": {"$ne": "xyz"}}}},
        &d,
        &[1, 2, 3, 4],
    );
    check(doc! {"results": {"$elemMatch": {}}}, &d, &[1, 2, 3, 4]);
    check(
        doc! {"results": {"$elemMatch": {"$or": [{"score": 5}, {"product": "def"}]}}},
        &d,
        &[1, 4],
    );
    check(
        doc! {"results": {"$all": [{"$elemMatch": {"product": "xyz"}}, {"$elemMatch": {"score": 8}}]}},
        &d,
        &[2, 3],
    );
    check(doc! {"results": {"$elemMatch": {"$in": [75, 85]}}}, &d, &[5, 6]);
    check(
        doc! {"results": {"$elemMatch": {"$not": {"$lt": 85}}}},
        &d,
        &[1, 2, 3, 4, 5, 6],
    );
    check(doc! {"results": {"$size": 3}}, &d, &[5, 6]);
    check(doc! {"results.score": {"$elemMatch": {"$gt": 1}}}, &d, &[]);
    check(
        doc! {"results": {"$not": {"$elemMatch": {"$lt": 80}}}},
        &d,
        &[1, 2, 3, 4, 5],
    );
}

#[test]
fn miscellaneous_types_and_edges() {
    let oid = bson::oid::ObjectId::from_bytes([1; 12]);
    let early = bson::DateTime::from_millis(1_000);
    let late = bson::DateTime::from_millis(2_000);
    let d = vec![
        doc! {"_id": 1, "x": oid, "when": late, "flag": true},
        doc! {"_id": 2, "x": "s", "when": early, "flag": 1},
        doc! {"_id": 3, "x": {"$ref": "c", "$id": 5}, "when": 1_500},
    ];
    check(doc! {"x": oid}, &d, &[1]);
    check(doc! {"when": {"$gt": early}}, &d, &[1]);
    check(doc! {"when": {"$gte": early}}, &d, &[1, 2]);
    check(doc! {"when": {"$gt": 1_000}}, &d, &[3]);
    check(doc! {"flag": true}, &d, &[1]);
    check(doc! {"flag": 1}, &d, &[2]);
    check(doc! {"x": {"$ref": "c", "$id": 5}}, &d, &[3]);
    check(doc! {"x": {"$lt": Bson::MaxKey}}, &d, &[1, 2, 3]);
    check(doc! {"x": {"$gt": Bson::MinKey}}, &d, &[1, 2, 3]);
    check(doc! {"x": {"$type": "objectId"}}, &d, &[1]);
    check(doc! {"when": {"$type": "date"}}, &d, &[1, 2]);
    check(doc! {"_id": {"$in": [3, 1]}}, &d, &[1, 3]);
}

/// Parses `filter` and expects mongod's error code and message (a prefix of it).
fn check_error(filter: Document, code: i32, message: &str) {
    let err = Matcher::parse(&filter).expect_err(&format!("{filter} should not parse"));
    assert_eq!(err.code().code(), code, "{filter}: {err}");
    assert!(
        err.reason().starts_with(message),
        "{filter}: {:?} vs {message:?}",
        err.reason()
    );
}

#[test]
fn parse_errors() {
    check_error(doc! {"a": {"$foo": 1}}, 2, "unknown operator: $foo");
    check_error(doc! {"a": {"$gt": 1, "b": 1}}, 2, "unknown operator: b");
    check_error(doc! {"$foo": 1}, 2, "unknown top level operator: $foo");
    check_error(doc! {"$not": {"a": 1}}, 2, "unknown top level operator: $not");
    check_error(doc! {"$and": []}, 2, "$and/$or/$nor must be a nonempty array");
    check_error(doc! {"$or": []}, 2, "$and/$or/$nor must be a nonempty array");
    check_error(doc! {"$or": 1}, 2, "$or must be an array");
    check_error(
        doc! {"$nor": [1]},
        2,
        "$or/$and/$nor entries need to be full objects",
    );
    check_error(doc! {"a": {"$in": 1}}, 2, "$in needs an array");
    check_error(doc! {"a": {"$nin": "x"}}, 2, "$nin needs an array");
    check_error(doc! {"a": {"$in": [{"$gt": 1}]}}, 2, "cannot nest $ under $in");
    check_error(doc! {"a": {"$size": "2"}}, 2, "$size needs a number");
    check_error(doc! {"a": {"$size": -1}}, 2, "$size may not be negative");
    check_error(doc! {"a": {"$size": 2.5}}, 2, "$size must be a whole number");
    check_error(
        doc! {"a": {"$regex": "("}},
        51091,
        "Regular expression is invalid",
    );
    check_error(
        doc! {"a": {"$regex": "a", "$options": "z"}},
        51108,
        "invalid flag in regex options: z",
    );
    check_error(doc! {"a": re("a", "z")}, 51108, "invalid flag in regex options");
    check_error(doc! {"a": {"$options": "i"}}, 2, "$options needs a $regex");
    check_error(doc! {"a": {"$regex": 5}}, 2, "$regex has to be a string");
    check_error(
        doc! {"a": {"$regex": re("a", "i"), "$options": "m"}},
        51075,
        "options set in both",
    );
    check_error(
        doc! {"a": {"$options": "m", "$regex": re("a", "i")}},
        51074,
        "options set in both",
    );
    check_error(doc! {"a": {"$not": 5}}, 2, "$not needs a regex or a document");
    check_error(doc! {"a": {"$not": {}}}, 2, "$not cannot be empty");
    check_error(doc! {"a": {"$all": 1}}, 2, "$all needs an array");
    check_error(
        doc! {"a": {"$all": [{"$elemMatch": {"b": 1}}, 5]}},
        2,
        "$all/$elemMatch has to be consistent",
    );
    check_error(doc! {"a": {"$all": [{"$gt": 1}]}}, 2, "no $ expressions in $all");
    check_error(doc! {"a": {"$elemMatch": 1}}, 2, "$elemMatch needs an Object");
    check_error(
        doc! {"a": {"$ne": re("x", "")}},
        2,
        "Can't have regex as arg to $ne.",
    );
    check_error(
        doc! {"a": {"$gt": re("x", "")}},
        2,
        "Can't have RegEx as arg to predicate",
    );
    check_error(doc! {"a": {"$type": "foo"}}, 2, "Unknown type name alias: foo");
    check_error(doc! {"a": {"$type": 100}}, 2, "Invalid numerical type code");
    check_error(doc! {"a": {"$type": []}}, 9, "a must match at least one type");
    check_error(
        doc! {"a": {"$type": {}}},
        14,
        "type must be represented as a number or a string",
    );
    check_error(doc! {"a": {"$mod": [0, 1]}}, 2, "divisor cannot be 0");
    check_error(doc! {"a": {"$mod": [1]}}, 2, "malformed mod, not enough elements");
    check_error(
        doc! {"a": {"$mod": [1, 2, 3]}},
        2,
        "malformed mod, too many elements",
    );
    check_error(doc! {"a": {"$mod": 5}}, 2, "malformed mod, needs to be an array");
    check_error(
        doc! {"$alwaysTrue": 2},
        9,
        "$alwaysTrue must be an integer value of 1",
    );
    check_error(
        doc! {"a": {"$elemMatch": {"b": {"$bad": 1}}}},
        2,
        "unknown operator: $bad",
    );
    check_error(doc! {"$or": [{"a": {"$bad": 1}}]}, 2, "unknown operator: $bad");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let mut filter = doc! {"a": 1};
    for _ in 0..500 {
        filter = doc! {"$and": [filter]};
    }
    let err = Matcher::parse(&filter).unwrap_err();
    assert_eq!(err.code().code(), 2);
}

#[test]
fn emptiness() {
    assert!(Matcher::parse(&doc! {}).unwrap().is_empty());
    assert!(Matcher::parse(&doc! {"$comment": "x"}).unwrap().is_empty());
    assert!(!Matcher::parse(&doc! {"a": 1}).unwrap().is_empty());
}
