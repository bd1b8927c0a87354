//! Aggregation expressions, table-driven from MongoDB's documented behaviour: field paths through
//! arrays, variables, each operator's results and type promotion, and its error codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, DateTime, Document, doc};
use docwire_db::pipeline::expression::Expression;

fn eval(doc: &Document, expr: Bson) -> Option<Bson> {
    let parsed = Expression::parse(&expr).unwrap_or_else(|e| panic!("parse {expr}: {}", e.reason()));
    parsed
        .evaluate_on(doc)
        .unwrap_or_else(|e| panic!("evaluate {expr}: {} ({})", e.reason(), e.code().code()))
}

fn error_code(doc: &Document, expr: Bson) -> i32 {
    match Expression::parse(&expr).and_then(|e| e.evaluate_on(doc)) {
        Ok(v) => panic!("{expr} should fail, gave {v:?}"),
        Err(e) => e.code().code(),
    }
}

/// Compares with types (Int32(1) differs from Int64(1) and from Double(1.0)).
fn check(doc: &Document, cases: Vec<(Bson, Option<Bson>)>) {
    for (expr, expected) in cases {
        let got = eval(doc, expr.clone());
        assert_eq!(format!("{got:?}"), format!("{expected:?}"), "{expr} on {doc}");
    }
}

fn date(iso: &str) -> Bson {
    Bson::DateTime(DateTime::parse_rfc3339_str(iso).unwrap())
}

#[test]
fn field_paths_and_variables() {
    let d = doc! {
        "a": [{"b": 1}, {"b": 2}, {"c": 3}, 5, [{"b": 9}]],
        "n": {"x": {"y": "deep"}},
        "nested": [{"b": [{"c": 1}, {"c": 2}]}, {"b": {"c": 3}}],
        "s": "str",
    };
    check(
        &d,
        vec![
            // Through an array: each element document's value, missing and non-documents skipped.
            (Bson::from("$a.b"), Some(Bson::Array(vec![1.into(), 2.into()]))),
            (Bson::from("$n.x.y"), Some("deep".into())),
            (Bson::from("$missing"), None),
            (Bson::from("$s.x"), None),
            // Arrays inside arrays come back nested.
            (
                Bson::from("$nested.b.c"),
                Some(Bson::Array(vec![Bson::Array(vec![1.into(), 2.into()]), 3.into()])),
            ),
            // Numeric components are field names in aggregation, not indexes.
            (Bson::from("$a.0"), Some(Bson::Array(vec![]))),
            (Bson::from("$$ROOT.s"), Some("str".into())),
            (
                Bson::from("$$CURRENT.n.x"),
                Some(Bson::Document(doc! {"y": "deep"})),
            ),
            (Bson::from("$$REMOVE"), None),
            (Bson::from("plain"), Some("plain".into())),
            (Bson::Document(doc! {"$literal": "$s"}), Some("$s".into())),
            (
                Bson::Document(doc! {"$literal": {"$add": [1, 2]}}),
                Some(Bson::Document(doc! {"$add": [1, 2]})),
            ),
            // Object literals leave missing fields out; array literals turn them into null.
            (
                Bson::Document(doc! {"k": "$s", "m": "$missing"}),
                Some(Bson::Document(doc! {"k": "str"})),
            ),
            (
                Bson::Array(vec!["$s".into(), "$missing".into()]),
                Some(Bson::Array(vec!["str".into(), Bson::Null])),
            ),
        ],
    );
    assert_eq!(eval(&d, Bson::from("$$ROOT")), Some(Bson::Document(d.clone())));
}

#[test]
fn arithmetic() {
    let d = doc! {
        "price": 10, "fee": 2, "hours": 80, "tasks": 7, "f": 1.5, "l": 5_i64, "nul": Bson::Null,
        "date": date("2014-03-01T08:00:00Z"), "end": date("2014-03-01T09:00:00Z"),
        "start": 5, "stop": 8,
    };
    check(
        &d,
        vec![
            // MongoDB's $add examples: numbers, and a date plus milliseconds.
            (
                Bson::Document(doc! {"$add": ["$price", "$fee"]}),
                Some(Bson::Int32(12)),
            ),
            (
                Bson::Document(doc! {"$add": ["$date", 3 * 24 * 60 * 60000]}),
                Some(date("2014-03-04T08:00:00Z")),
            ),
            (
                Bson::Document(doc! {"$add": ["$price", "$f"]}),
                Some(Bson::Double(11.5)),
            ),
            (
                Bson::Document(doc! {"$add": ["$price", "$l"]}),
                Some(Bson::Int64(15)),
            ),
            (
                Bson::Document(doc! {"$add": [i32::MAX, 1]}),
                Some(Bson::Int64(2_147_483_648)),
            ),
            (
                Bson::Document(doc! {"$add": [i64::MAX, 1_i64]}),
                Some(Bson::Double(9_223_372_036_854_775_808.0)),
            ),
            (
                Bson::Document(doc! {"$add": ["$price", "$nul"]}),
                Some(Bson::Null),
            ),
            (
                Bson::Document(doc! {"$add": ["$price", "$missing"]}),
                Some(Bson::Null),
            ),
            (Bson::Document(doc! {"$add": []}), Some(Bson::Int32(0))),
            // $subtract: numbers, dates (milliseconds as a long), a date minus milliseconds.
            (
                Bson::Document(doc! {"$subtract": ["$price", "$fee"]}),
                Some(Bson::Int32(8)),
            ),
            (
                Bson::Document(doc! {"$subtract": ["$end", "$date"]}),
                Some(Bson::Int64(3_600_000)),
            ),
            (
                Bson::Document(doc! {"$subtract": ["$date", 5 * 60 * 1000]}),
                Some(date("2014-03-01T07:55:00Z")),
            ),
            (
                Bson::Document(doc! {"$subtract": [i32::MIN, 1]}),
                Some(Bson::Int64(-2_147_483_649)),
            ),
            (Bson::Document(doc! {"$subtract": ["$nul", 1]}), Some(Bson::Null)),
            (
                Bson::Document(doc! {"$multiply": ["$price", "$fee"]}),
                Some(Bson::Int32(20)),
            ),
            (
                Bson::Document(doc! {"$multiply": [65536, 65536]}),
                Some(Bson::Int64(4_294_967_296)),
            ),
            (
                Bson::Document(doc! {"$multiply": ["$price", "$f"]}),
                Some(Bson::Double(15.0)),
            ),
            (
                Bson::Document(doc! {"$multiply": ["$price", "$missing"]}),
                Some(Bson::Null),
            ),
            // $divide always gives a double; $mod keeps the operands' type and the dividend's sign.
            (
                Bson::Document(doc! {"$divide": ["$hours", 8]}),
                Some(Bson::Double(10.0)),
            ),
            (Bson::Document(doc! {"$divide": [1, 4]}), Some(Bson::Double(0.25))),
            (
                Bson::Document(doc! {"$divide": ["$missing", 4]}),
                Some(Bson::Null),
            ),
            (
                Bson::Document(doc! {"$mod": ["$hours", "$tasks"]}),
                Some(Bson::Int32(3)),
            ),
            (Bson::Document(doc! {"$mod": [-5, 3]}), Some(Bson::Int32(-2))),
            (Bson::Document(doc! {"$mod": [5_i64, 3]}), Some(Bson::Int64(2))),
            (Bson::Document(doc! {"$mod": [5.5, 2]}), Some(Bson::Double(1.5))),
            (
                Bson::Document(doc! {"$abs": {"$subtract": ["$start", "$stop"]}}),
                Some(Bson::Int32(3)),
            ),
            (Bson::Document(doc! {"$abs": "$nul"}), Some(Bson::Null)),
            (Bson::Document(doc! {"$abs": [-2.5]}), Some(Bson::Double(2.5))),
            (
                Bson::Document(doc! {"$abs": i32::MIN}),
                Some(Bson::Int64(2_147_483_648)),
            ),
            (Bson::Document(doc! {"$ceil": 1.2}), Some(Bson::Double(2.0))),
            (Bson::Document(doc! {"$floor": -1.2}), Some(Bson::Double(-2.0))),
            (Bson::Document(doc! {"$floor": 7}), Some(Bson::Int32(7))),
        ],
    );
}

#[test]
fn arithmetic_errors() {
    let d = doc! {"s": "x", "z": 0};
    for (expr, code) in [
        (doc! {"$divide": [1, "$z"]}, 2),
        (doc! {"$divide": [1, 0.0]}, 2),
        (doc! {"$divide": ["$s", 1]}, 16609),
        (doc! {"$mod": [1, 0]}, 16610),
        (doc! {"$mod": ["$s", 1]}, 16611),
        (doc! {"$add": [1, "$s"]}, 16554),
        (
            doc! {"$add": [Bson::DateTime(DateTime::from_millis(0)), Bson::DateTime(DateTime::from_millis(0))]},
            16612,
        ),
        (doc! {"$subtract": ["$s", 1]}, 16556),
        (doc! {"$subtract": [1]}, 16020),
        (doc! {"$multiply": [2, "$s"]}, 16555),
        (doc! {"$abs": "$s"}, 28765),
        (doc! {"$abs": i64::MIN}, 28680),
    ] {
        assert_eq!(error_code(&d, Bson::Document(expr.clone())), code, "{expr}");
    }
}

#[test]
fn comparison_and_boolean() {
    let d = doc! {"qty": 250, "s": "abc", "nul": Bson::Null, "zero": 0, "arr": []};
    check(
        &d,
        vec![
            (Bson::Document(doc! {"$cmp": ["$qty", 250]}), Some(Bson::Int32(0))),
            (
                Bson::Document(doc! {"$cmp": ["$qty", 300]}),
                Some(Bson::Int32(-1)),
            ),
            (Bson::Document(doc! {"$cmp": ["$qty", 200]}), Some(Bson::Int32(1))),
            (Bson::Document(doc! {"$eq": ["$qty", 250.0]}), Some(true.into())),
            (Bson::Document(doc! {"$eq": ["$qty", 250_i64]}), Some(true.into())),
            (Bson::Document(doc! {"$ne": ["$qty", 250]}), Some(false.into())),
            (Bson::Document(doc! {"$gt": ["$qty", 250]}), Some(false.into())),
            (Bson::Document(doc! {"$gte": ["$qty", 250]}), Some(true.into())),
            (Bson::Document(doc! {"$lt": ["$qty", 300]}), Some(true.into())),
            (Bson::Document(doc! {"$lte": ["$qty", 200]}), Some(false.into())),
            // Across types, BSON order: strings sort above numbers.
            (Bson::Document(doc! {"$gt": ["$s", 1000]}), Some(true.into())),
            // Missing is not null in aggregation: it sorts below it.
            (
                Bson::Document(doc! {"$eq": ["$missing", Bson::Null]}),
                Some(false.into()),
            ),
            (
                Bson::Document(doc! {"$lt": ["$missing", Bson::Null]}),
                Some(true.into()),
            ),
            (
                Bson::Document(doc! {"$eq": ["$nul", Bson::Null]}),
                Some(true.into()),
            ),
            (Bson::Document(doc! {"$and": [1, "green"]}), Some(true.into())),
            (Bson::Document(doc! {"$and": []}), Some(true.into())),
            (
                Bson::Document(doc! {"$and": [Bson::Null, true]}),
                Some(false.into()),
            ),
            (Bson::Document(doc! {"$and": ["$zero", true]}), Some(false.into())),
            (Bson::Document(doc! {"$and": ["$arr", true]}), Some(true.into())),
            (Bson::Document(doc! {"$or": [true, false]}), Some(true.into())),
            (
                Bson::Document(doc! {"$or": [Bson::Null, false, "$missing"]}),
                Some(false.into()),
            ),
            (Bson::Document(doc! {"$or": []}), Some(false.into())),
            (Bson::Document(doc! {"$not": [true]}), Some(false.into())),
            (Bson::Document(doc! {"$not": [[false]]}), Some(false.into())),
            (Bson::Document(doc! {"$not": [Bson::Null]}), Some(true.into())),
            (Bson::Document(doc! {"$not": ["$missing"]}), Some(true.into())),
            // $and and $or stop at the first deciding argument.
            (
                Bson::Document(doc! {"$and": [false, {"$divide": [1, 0]}]}),
                Some(false.into()),
            ),
            (
                Bson::Document(doc! {"$or": [true, {"$divide": [1, 0]}]}),
                Some(true.into()),
            ),
        ],
    );
}

#[test]
fn conditionals() {
    let high = doc! {"qty": 300, "description": Bson::Null, "alt": "x"};
    let low = doc! {"qty": 100, "description": "product"};
    let cond = Bson::Document(doc! {"$cond": {"if": {"$gte": ["$qty", 250]}, "then": 30, "else": 20}});
    let cond_array = Bson::Document(doc! {"$cond": [{"$gte": ["$qty", 250]}, 30, 20]});
    check(
        &high,
        vec![
            (cond.clone(), Some(30.into())),
            (cond_array.clone(), Some(30.into())),
        ],
    );
    check(&low, vec![(cond, Some(20.into())), (cond_array, Some(20.into()))]);
    let if_null = Bson::Document(doc! {"$ifNull": ["$description", "Unspecified"]});
    check(&high, vec![(if_null.clone(), Some("Unspecified".into()))]);
    check(&low, vec![(if_null, Some("product".into()))]);
    check(
        &high,
        vec![
            (
                Bson::Document(doc! {"$ifNull": ["$missing", "$description", "$alt"]}),
                Some("x".into()),
            ),
            (Bson::Document(doc! {"$ifNull": ["$missing", "$also"]}), None),
        ],
    );
    let switch = Bson::Document(doc! {"$switch": {
        "branches": [
            {"case": {"$gte": ["$qty", 250]}, "then": "many"},
            {"case": {"$gte": ["$qty", 50]}, "then": "some"},
        ],
        "default": "few",
    }});
    check(&high, vec![(switch.clone(), Some("many".into()))]);
    check(&low, vec![(switch.clone(), Some("some".into()))]);
    check(&doc! {"qty": 1}, vec![(switch, Some("few".into()))]);
    let no_default = Bson::Document(doc! {"$switch": {"branches": [{"case": false, "then": 1}]}});
    assert_eq!(error_code(&low, no_default), 40066);
}

#[test]
fn strings() {
    let d = doc! {"item": "ABC1", "description": "product 1", "quarter": "13Q1", "cafe": "café", "n": 5, "nul": Bson::Null};
    check(
        &d,
        vec![
            (
                Bson::Document(doc! {"$concat": ["$item", " - ", "$description"]}),
                Some("ABC1 - product 1".into()),
            ),
            (
                Bson::Document(doc! {"$concat": ["$item", "$nul"]}),
                Some(Bson::Null),
            ),
            (
                Bson::Document(doc! {"$concat": ["$item", "$missing"]}),
                Some(Bson::Null),
            ),
            (Bson::Document(doc! {"$concat": []}), Some("".into())),
            (Bson::Document(doc! {"$toLower": "$item"}), Some("abc1".into())),
            (
                Bson::Document(doc! {"$toUpper": "$description"}),
                Some("PRODUCT 1".into()),
            ),
            (Bson::Document(doc! {"$toUpper": "$nul"}), Some("".into())),
            (Bson::Document(doc! {"$toLower": "$n"}), Some("5".into())),
            (
                Bson::Document(doc! {"$substrCP": ["$quarter", 0, 2]}),
                Some("13".into()),
            ),
            (
                Bson::Document(doc! {"$substrCP": ["$quarter", 2, 10]}),
                Some("Q1".into()),
            ),
            (
                Bson::Document(doc! {"$substrCP": ["$cafe", 3, 1]}),
                Some("é".into()),
            ),
            (
                Bson::Document(doc! {"$substrCP": ["$missing", 0, 1]}),
                Some("".into()),
            ),
            (Bson::Document(doc! {"$strLenCP": "$cafe"}), Some(Bson::Int32(4))),
            (
                Bson::Document(doc! {"$strLenCP": "cafétéria"}),
                Some(Bson::Int32(9)),
            ),
            (Bson::Document(doc! {"$strLenCP": ""}), Some(Bson::Int32(0))),
        ],
    );
    for (expr, code) in [
        (doc! {"$concat": ["a", "$n"]}, 16702),
        (doc! {"$substrCP": ["abc", -1, 1]}, 34455),
        (doc! {"$substrCP": ["abc", 0, -1]}, 34454),
        (doc! {"$substrCP": ["abc", "x", 1]}, 34450),
        (doc! {"$substrCP": ["abc", 0, "x"]}, 34452),
        (doc! {"$substrCP": ["abc", 0.5, 1]}, 34451),
        (doc! {"$strLenCP": "$n"}, 34471),
        (doc! {"$strLenCP": "$missing"}, 34471),
        (doc! {"$toUpper": [[1]]}, 16007),
    ] {
        assert_eq!(error_code(&d, Bson::Document(expr.clone())), code, "{expr}");
    }
}

#[test]
fn arrays() {
    let d = doc! {
        "colors": ["blue", "black"],
        "favorites": ["chocolate", "cake", "butter", "apples"],
        "in_stock": ["apples", "oranges"],
        "items": [{"item_id": 43, "price": 110}, {"item_id": 2, "price": 1}, {"item_id": 23, "price": 100}],
        "quizzes": [5, 6, 7],
        "s": "x",
    };
    check(
        &d,
        vec![
            (Bson::Document(doc! {"$size": "$colors"}), Some(Bson::Int32(2))),
            (Bson::Document(doc! {"$size": [[]]}), Some(Bson::Int32(0))),
            (
                Bson::Document(doc! {"$arrayElemAt": ["$favorites", 0]}),
                Some("chocolate".into()),
            ),
            (
                Bson::Document(doc! {"$arrayElemAt": ["$favorites", -1]}),
                Some("apples".into()),
            ),
            (Bson::Document(doc! {"$arrayElemAt": ["$favorites", 10]}), None),
            (Bson::Document(doc! {"$arrayElemAt": ["$favorites", -5]}), None),
            (
                Bson::Document(doc! {"$arrayElemAt": ["$missing", 0]}),
                Some(Bson::Null),
            ),
            (
                Bson::Document(doc! {"$in": ["apples", "$in_stock"]}),
                Some(true.into()),
            ),
            (
                Bson::Document(doc! {"$in": ["bananas", "$in_stock"]}),
                Some(false.into()),
            ),
            (Bson::Document(doc! {"$in": [2.0, [1, 2, 3]]}), Some(true.into())),
            (Bson::Document(doc! {"$isArray": ["$colors"]}), Some(true.into())),
            (Bson::Document(doc! {"$isArray": "$s"}), Some(false.into())),
            (Bson::Document(doc! {"$isArray": "$missing"}), Some(false.into())),
            (
                Bson::Document(doc! {"$concatArrays": ["$colors", ["red"]]}),
                Some(Bson::Array(vec!["blue".into(), "black".into(), "red".into()])),
            ),
            (
                Bson::Document(doc! {"$concatArrays": ["$colors", "$missing"]}),
                Some(Bson::Null),
            ),
            // MongoDB's $filter example: items priced at 100 or more.
            (
                Bson::Document(doc! {"$filter": {
                    "input": "$items", "as": "item", "cond": {"$gte": ["$$item.price", 100]}
                }}),
                Some(Bson::Array(vec![
                    Bson::Document(doc! {"item_id": 43, "price": 110}),
                    Bson::Document(doc! {"item_id": 23, "price": 100}),
                ])),
            ),
            (
                Bson::Document(doc! {"$filter": {"input": [1, 2, 3, 4], "cond": {"$gt": ["$$this", 2]}}}),
                Some(Bson::Array(vec![3.into(), 4.into()])),
            ),
            (
                Bson::Document(doc! {"$filter": {"input": "$missing", "cond": true}}),
                Some(Bson::Null),
            ),
            // MongoDB's $map example: add 2 to each quiz score.
            (
                Bson::Document(
                    doc! {"$map": {"input": "$quizzes", "as": "grade", "in": {"$add": ["$$grade", 2]}}},
                ),
                Some(Bson::Array(vec![7.into(), 8.into(), 9.into()])),
            ),
            (
                Bson::Document(doc! {"$map": {"input": "$items", "in": "$$this.item_id"}}),
                Some(Bson::Array(vec![43.into(), 2.into(), 23.into()])),
            ),
            // Variables of outer scopes stay visible inside.
            (
                Bson::Document(
                    doc! {"$let": {"vars": {"k": 10}, "in": {"$map": {"input": [1, 2], "as": "x", "in": {"$multiply": ["$$x", "$$k"]}}}}},
                ),
                Some(Bson::Array(vec![10.into(), 20.into()])),
            ),
        ],
    );
    for (expr, code) in [
        (doc! {"$size": "$s"}, 17124),
        (doc! {"$size": "$missing"}, 17124),
        (doc! {"$arrayElemAt": ["$s", 0]}, 28689),
        (doc! {"$arrayElemAt": ["$colors", "x"]}, 28690),
        (doc! {"$arrayElemAt": ["$colors", 1.5]}, 28691),
        (doc! {"$in": [1, "$s"]}, 40081),
        (doc! {"$in": [1, "$missing"]}, 40081),
        (doc! {"$concatArrays": ["$colors", "$s"]}, 28664),
        (doc! {"$filter": {"input": "$s", "cond": true}}, 28651),
        (doc! {"$map": {"input": "$s", "in": 1}}, 16883),
    ] {
        assert_eq!(error_code(&d, Bson::Document(expr.clone())), code, "{expr}");
    }
}

#[test]
fn let_variables() {
    // MongoDB's $let example.
    let d = doc! {"price": 10, "tax": 0.50, "applyDiscount": true};
    let expr = Bson::Document(doc! {"$let": {
        "vars": {
            "total": {"$add": ["$price", "$tax"]},
            "discounted": {"$cond": {"if": "$applyDiscount", "then": 0.9, "else": 1}},
        },
        "in": {"$multiply": ["$$total", "$$discounted"]},
    }});
    assert_eq!(eval(&d, expr), Some(Bson::Double(10.5 * 0.9)));
    assert_eq!(error_code(&d, Bson::from("$$undefinedVar")), 17276);
    assert_eq!(error_code(&d, Bson::from("$$UNKNOWN")), 17276);
}

#[test]
fn types_and_conversions() {
    let oid = bson::oid::ObjectId::parse_str("5ab9cbfa31c2ab715d42129e").unwrap();
    let d = doc! {
        "s": "a", "i": 1, "l": 2_i64, "f": 2.5, "b": true, "o": {}, "a": [], "n": Bson::Null,
        "oid": oid, "d": date("2018-03-27T16:58:51.538Z"),
    };
    let ty = |field: &str| Bson::Document(doc! {"$type": format!("${field}")});
    check(
        &d,
        vec![
            (ty("s"), Some("string".into())),
            (ty("i"), Some("int".into())),
            (ty("l"), Some("long".into())),
            (ty("f"), Some("double".into())),
            (ty("b"), Some("bool".into())),
            (ty("o"), Some("object".into())),
            (ty("a"), Some("array".into())),
            (ty("n"), Some("null".into())),
            (ty("oid"), Some("objectId".into())),
            (ty("d"), Some("date".into())),
            (ty("missing"), Some("missing".into())),
            (Bson::Document(doc! {"$toString": "$i"}), Some("1".into())),
            (Bson::Document(doc! {"$toString": "$f"}), Some("2.5".into())),
            (Bson::Document(doc! {"$toString": "$b"}), Some("true".into())),
            (
                Bson::Document(doc! {"$toString": "$oid"}),
                Some("5ab9cbfa31c2ab715d42129e".into()),
            ),
            (
                Bson::Document(doc! {"$toString": "$d"}),
                Some("2018-03-27T16:58:51.538Z".into()),
            ),
            (Bson::Document(doc! {"$toString": "$missing"}), Some(Bson::Null)),
            (Bson::Document(doc! {"$toInt": "5"}), Some(Bson::Int32(5))),
            (Bson::Document(doc! {"$toInt": 5.7}), Some(Bson::Int32(5))),
            (Bson::Document(doc! {"$toInt": -5.7}), Some(Bson::Int32(-5))),
            (Bson::Document(doc! {"$toInt": true}), Some(Bson::Int32(1))),
            (Bson::Document(doc! {"$toInt": "$l"}), Some(Bson::Int32(2))),
            (Bson::Document(doc! {"$toInt": "$n"}), Some(Bson::Null)),
            (
                Bson::Document(doc! {"$toLong": "$d"}),
                Some(Bson::Int64(1_522_169_931_538)),
            ),
            (Bson::Document(doc! {"$toDouble": "2.5"}), Some(Bson::Double(2.5))),
            (Bson::Document(doc! {"$toDouble": false}), Some(Bson::Double(0.0))),
            (Bson::Document(doc! {"$toBool": 0}), Some(false.into())),
            (Bson::Document(doc! {"$toBool": "false"}), Some(true.into())),
        ],
    );
    for expr in [
        doc! {"$toInt": "abc"},
        doc! {"$toInt": "1.5"},
        doc! {"$toInt": 3e10},
        doc! {"$toInt": "$o"},
        doc! {"$toString": "$o"},
    ] {
        assert_eq!(error_code(&d, Bson::Document(expr.clone())), 241, "{expr}");
    }
}

#[test]
fn date_parts() {
    // MongoDB's date operator example.
    let d = doc! {"date": date("2014-01-01T08:15:39.736Z"), "leap": date("2016-12-31T00:00:00Z")};
    check(
        &d,
        vec![
            (Bson::Document(doc! {"$year": "$date"}), Some(Bson::Int32(2014))),
            (Bson::Document(doc! {"$month": "$date"}), Some(Bson::Int32(1))),
            (
                Bson::Document(doc! {"$dayOfMonth": "$date"}),
                Some(Bson::Int32(1)),
            ),
            (Bson::Document(doc! {"$hour": "$date"}), Some(Bson::Int32(8))),
            (Bson::Document(doc! {"$minute": "$date"}), Some(Bson::Int32(15))),
            (Bson::Document(doc! {"$second": "$date"}), Some(Bson::Int32(39))),
            (
                Bson::Document(doc! {"$millisecond": "$date"}),
                Some(Bson::Int32(736)),
            ),
            (Bson::Document(doc! {"$dayOfYear": "$date"}), Some(Bson::Int32(1))),
            (Bson::Document(doc! {"$dayOfWeek": "$date"}), Some(Bson::Int32(4))),
            (
                Bson::Document(doc! {"$dayOfYear": "$leap"}),
                Some(Bson::Int32(366)),
            ),
            (
                Bson::Document(doc! {"$year": {"date": "$date"}}),
                Some(Bson::Int32(2014)),
            ),
            (Bson::Document(doc! {"$year": "$missing"}), Some(Bson::Null)),
        ],
    );
    assert_eq!(error_code(&d, Bson::Document(doc! {"$year": "x"})), 16006);
}

#[test]
fn objects_and_accumulator_forms() {
    let d = doc! {"homework": [10, 5, 10], "quiz": [10, 8], "pets": {"dogs": 2, "cats": 1}, "mixed": [1, "a", 2.5]};
    check(
        &d,
        vec![
            (Bson::Document(doc! {"$sum": "$homework"}), Some(Bson::Int32(25))),
            (Bson::Document(doc! {"$sum": [1, 2, 3_i64]}), Some(Bson::Int64(6))),
            (Bson::Document(doc! {"$sum": "$mixed"}), Some(Bson::Double(3.5))),
            (Bson::Document(doc! {"$sum": "$missing"}), Some(Bson::Int32(0))),
            (Bson::Document(doc! {"$avg": "$quiz"}), Some(Bson::Double(9.0))),
            (Bson::Document(doc! {"$avg": [Bson::Null]}), Some(Bson::Null)),
            (Bson::Document(doc! {"$max": "$homework"}), Some(Bson::Int32(10))),
            (
                Bson::Document(doc! {"$min": [4, Bson::Null, 2]}),
                Some(Bson::Int32(2)),
            ),
            (
                Bson::Document(doc! {"$mergeObjects": [{"dogs": 0, "cats": 0, "birds": 0}, "$pets"]}),
                Some(Bson::Document(doc! {"dogs": 2, "cats": 1, "birds": 0})),
            ),
        ],
    );
}

#[test]
fn parse_errors() {
    for (expr, code) in [
        (Bson::Document(doc! {"$foo": 1}), 168),
        (Bson::Document(doc! {"$add": [1], "$subtract": [1, 2]}), 15983),
        (Bson::Document(doc! {"a": 1, "$add": [1]}), 16410),
        (Bson::Document(doc! {"a.b": 1}), 16412),
        (Bson::from("$"), 16872),
        (Bson::from("$a..b"), 15998),
        (Bson::from("$$"), 16869),
        (Bson::from("$$1x"), 16870),
        (Bson::from("$$a-b"), 16871),
        (Bson::Document(doc! {"$eq": [1]}), 16020),
        (Bson::Document(doc! {"$cond": [1, 2]}), 16020),
        (Bson::Document(doc! {"$cond": {"if": true, "else": 1}}), 17081),
        (Bson::Document(doc! {"$cond": {"then": 1, "else": 1}}), 17080),
        (
            Bson::Document(doc! {"$cond": {"if": 1, "then": 1, "else": 1, "x": 1}}),
            17083,
        ),
        (Bson::Document(doc! {"$ifNull": ["$a"]}), 1_257_300),
        (Bson::Document(doc! {"$switch": 1}), 40060),
        (Bson::Document(doc! {"$switch": {"branches": 1}}), 40061),
        (Bson::Document(doc! {"$switch": {"branches": [1]}}), 40062),
        (
            Bson::Document(doc! {"$switch": {"branches": [{"case": true, "x": 1}]}}),
            40063,
        ),
        (
            Bson::Document(doc! {"$switch": {"branches": [{"then": 1}]}}),
            40064,
        ),
        (
            Bson::Document(doc! {"$switch": {"branches": [{"case": 1}]}}),
            40065,
        ),
        (Bson::Document(doc! {"$switch": {"branches": [], "x": 1}}), 40067),
        (Bson::Document(doc! {"$switch": {"branches": []}}), 40068),
        (Bson::Document(doc! {"$filter": {"cond": true}}), 28648),
        (Bson::Document(doc! {"$map": {"input": []}}), 16882),
        (
            Bson::Document(doc! {"$map": {"input": [], "in": 1, "x": 1}}),
            16879,
        ),
        (Bson::Document(doc! {"$let": {"in": 1}}), 16876),
        (
            Bson::Document(doc! {"$let": {"vars": {"Bad": 1}, "in": 1}}),
            16867,
        ),
    ] {
        let code_got = Expression::parse(&expr).err().map(|e| e.code().code());
        assert_eq!(code_got, Some(code), "{expr}");
    }
}
