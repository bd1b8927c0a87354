//! `$group`: grouping by expressions (null, documents, 1 == 1.0), every accumulator, and mongod's
//! `$sum` type promotion (int32 → int64 → double), table-driven.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, Document, doc};
use docwire_db::pipeline::{NoCollections, Pipeline};

fn run(input: &[Document], pipeline: &[Document]) -> Vec<Document> {
    Pipeline::parse(pipeline)
        .unwrap_or_else(|e| panic!("parse {pipeline:?}: {}", e.reason()))
        .run(input.to_vec(), &NoCollections, &mut || Ok(()))
        .unwrap_or_else(|e| panic!("run {pipeline:?}: {}", e.reason()))
}

/// Groups come out in an unspecified order: sort by _id, then compare with types.
fn assert_groups(mut got: Vec<Document>, want: Vec<Document>) {
    let key = |d: &Document| format!("{:?}", d.get("_id"));
    got.sort_by_key(key);
    let mut want = want;
    want.sort_by_key(key);
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

fn sales() -> Vec<Document> {
    let date = |s: &str| Bson::DateTime(bson::DateTime::parse_rfc3339_str(s).unwrap());
    vec![
        doc! {"_id": 1, "item": "abc", "price": 10, "quantity": 2, "date": date("2014-03-01T08:00:00Z")},
        doc! {"_id": 2, "item": "jkl", "price": 20, "quantity": 1, "date": date("2014-03-01T09:00:00Z")},
        doc! {"_id": 3, "item": "xyz", "price": 5, "quantity": 10, "date": date("2014-03-15T09:00:00Z")},
        doc! {"_id": 4, "item": "xyz", "price": 5, "quantity": 20, "date": date("2014-04-04T11:21:39.736Z")},
        doc! {"_id": 5, "item": "abc", "price": 10, "quantity": 10, "date": date("2014-04-04T21:23:13.331Z")},
    ]
}

#[test]
fn documented_examples() {
    // MongoDB's $group examples over the sales collection.
    assert_groups(
        run(
            &sales(),
            &[
                doc! {"$group": {"_id": "$item", "totalSaleAmount": {"$sum": {"$multiply": ["$price", "$quantity"]}}}},
            ],
        ),
        vec![
            doc! {"_id": "abc", "totalSaleAmount": 120},
            doc! {"_id": "jkl", "totalSaleAmount": 20},
            doc! {"_id": "xyz", "totalSaleAmount": 150},
        ],
    );
    assert_groups(
        run(
            &sales(),
            &[doc! {"$group": {
                "_id": Bson::Null,
                "totalSaleAmount": {"$sum": {"$multiply": ["$price", "$quantity"]}},
                "averageQuantity": {"$avg": "$quantity"},
                "count": {"$sum": 1},
            }}],
        ),
        vec![doc! {"_id": Bson::Null, "totalSaleAmount": 290, "averageQuantity": 8.6, "count": 5}],
    );
    // Distinct values: group by the field alone.
    assert_groups(
        run(&sales(), &[doc! {"$group": {"_id": "$item"}}]),
        vec![doc! {"_id": "abc"}, doc! {"_id": "jkl"}, doc! {"_id": "xyz"}],
    );
    // A document _id of expressions, and a $match on the groups (MongoDB's "having" example).
    assert_groups(
        run(
            &sales(),
            &[
                doc! {"$group": {"_id": {"month": {"$month": "$date"}, "year": {"$year": "$date"}}, "n": {"$sum": 1}}},
                doc! {"$match": {"n": {"$gt": 2}}},
            ],
        ),
        vec![doc! {"_id": {"month": 3, "year": 2014}, "n": 3}],
    );
    // $group on an empty input produces nothing, even with _id null.
    assert!(run(&[], &[doc! {"$group": {"_id": Bson::Null, "n": {"$sum": 1}}}]).is_empty());
}

#[test]
fn accumulators() {
    let input = vec![
        doc! {"_id": 1, "g": "a", "v": 3, "s": "x"},
        doc! {"_id": 2, "g": "a", "v": 1, "s": "y"},
        doc! {"_id": 3, "g": "a", "s": "x"},
        doc! {"_id": 4, "g": "a", "v": Bson::Null, "s": "x"},
        doc! {"_id": 5, "g": "a", "v": 2.5, "s": "z"},
    ];
    let cases: Vec<(Document, Bson)> = vec![
        (doc! {"$sum": "$v"}, Bson::Double(6.5)),
        (doc! {"$avg": "$v"}, Bson::Double(6.5 / 3.0)),
        (doc! {"$min": "$v"}, Bson::Int32(1)),
        (doc! {"$max": "$v"}, Bson::Int32(3)),
        (doc! {"$min": "$s"}, Bson::String("x".into())),
        (doc! {"$first": "$v"}, Bson::Int32(3)),
        (doc! {"$last": "$v"}, Bson::Double(2.5)),
        (doc! {"$first": "$nothing"}, Bson::Null),
        (doc! {"$last": "$nothing"}, Bson::Null),
        // $push keeps nulls but skips missing values.
        (
            doc! {"$push": "$v"},
            Bson::Array(vec![3.into(), 1.into(), Bson::Null, 2.5.into()]),
        ),
        (
            doc! {"$push": {"id": "$_id", "v": "$v"}},
            Bson::Array(vec![
                Bson::Document(doc! {"id": 1, "v": 3}),
                Bson::Document(doc! {"id": 2, "v": 1}),
                Bson::Document(doc! {"id": 3}),
                Bson::Document(doc! {"id": 4, "v": Bson::Null}),
                Bson::Document(doc! {"id": 5, "v": 2.5}),
            ]),
        ),
        (
            doc! {"$addToSet": "$s"},
            Bson::Array(vec!["x".into(), "y".into(), "z".into()]),
        ),
        (doc! {"$addToSet": "$nothing"}, Bson::Array(vec![])),
        (doc! {"$count": {}}, Bson::Int32(5)),
        (doc! {"$sum": "$s"}, Bson::Int32(0)),
        (doc! {"$avg": "$s"}, Bson::Null),
        (doc! {"$max": "$nothing"}, Bson::Null),
    ];
    for (acc, want) in cases {
        let got = run(&input, &[doc! {"$group": {"_id": "$g", "r": acc.clone()}}]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            format!("{:?}", got[0].get("r")),
            format!("{:?}", Some(&want)),
            "{acc}"
        );
    }
}

#[test]
fn sum_promotes_int32_int64_double() {
    let cases: Vec<(Vec<Bson>, Bson)> = vec![
        (vec![1.into(), 2.into()], Bson::Int32(3)),
        (vec![i32::MAX.into(), 1.into()], Bson::Int64(2_147_483_648)),
        // The total decides: back within int32 range after an overflow is an int32 again.
        (
            vec![i32::MAX.into(), 1.into(), (-1).into()],
            Bson::Int32(i32::MAX),
        ),
        (vec![1.into(), Bson::Int64(2)], Bson::Int64(3)),
        (vec![1.into(), Bson::Int64(2), 0.5.into()], Bson::Double(3.5)),
        (
            vec![Bson::Int64(i64::MAX), Bson::Int64(1)],
            Bson::Double(9_223_372_036_854_775_808.0),
        ),
        (
            vec![1.into(), "text".into(), Bson::Null, true.into()],
            Bson::Int32(1),
        ),
        (vec![], Bson::Int32(0)),
    ];
    for (values, want) in cases {
        let input: Vec<Document> = values.iter().map(|v| doc! {"v": v.clone()}).collect();
        let got = run(
            &input,
            &[doc! {"$group": {"_id": Bson::Null, "s": {"$sum": "$v"}, "n": {"$sum": 1}}}],
        );
        if input.is_empty() {
            assert!(got.is_empty());
            continue;
        }
        assert_eq!(
            format!("{:?}", got[0].get("s")),
            format!("{:?}", Some(&want)),
            "{values:?}"
        );
    }
    // $sum: 1 counts; $sum of a long constant counts in longs.
    let input: Vec<Document> = (0..3).map(|i| doc! {"_id": i}).collect();
    let got = run(
        &input,
        &[doc! {"$group": {"_id": Bson::Null, "a": {"$sum": 1}, "b": {"$sum": 2_i64}, "c": {"$sum": 0.5}}}],
    );
    assert_eq!(
        format!("{got:?}"),
        format!(
            "{:?}",
            vec![doc! {"_id": Bson::Null, "a": 3, "b": 6_i64, "c": 1.5}]
        )
    );
}

#[test]
fn grouping_keys() {
    let input = vec![
        doc! {"_id": 1, "k": 1},
        doc! {"_id": 2, "k": 1.0},
        doc! {"_id": 3, "k": 1_i64},
        doc! {"_id": 4, "k": Bson::Null},
        doc! {"_id": 5},
        doc! {"_id": 6, "k": "1"},
        doc! {"_id": 7, "k": {"a": 1, "b": 2}},
        doc! {"_id": 8, "k": {"a": 1.0, "b": 2}},
        doc! {"_id": 9, "k": {"b": 2, "a": 1}},
        doc! {"_id": 10, "k": [1, 2]},
    ];
    // Numbers group by value whatever their type (the first seen key is kept); null and missing
    // share a group; documents with different field order are different keys.
    assert_groups(
        run(
            &input,
            &[doc! {"$group": {"_id": "$k", "ids": {"$push": "$_id"}}}],
        ),
        vec![
            doc! {"_id": 1, "ids": [1, 2, 3]},
            doc! {"_id": Bson::Null, "ids": [4, 5]},
            doc! {"_id": "1", "ids": [6]},
            doc! {"_id": {"a": 1, "b": 2}, "ids": [7, 8]},
            doc! {"_id": {"b": 2, "a": 1}, "ids": [9]},
            doc! {"_id": [1, 2], "ids": [10]},
        ],
    );
    // A document _id leaves missing fields out.
    assert_groups(
        run(
            &input[..2],
            &[doc! {"$group": {"_id": {"k": "$k", "m": "$missing"}, "n": {"$sum": 1}}}],
        ),
        vec![doc! {"_id": {"k": 1}, "n": 2}],
    );
    // A constant _id puts everything in one group.
    assert_groups(
        run(&input, &[doc! {"$group": {"_id": "all", "n": {"$sum": 1}}}]),
        vec![doc! {"_id": "all", "n": 10}],
    );
    // $addToSet compares like $group: 1 and 1.0 are one value.
    let got = run(
        &input[..3],
        &[doc! {"$group": {"_id": Bson::Null, "s": {"$addToSet": "$k"}}}],
    );
    assert_eq!(got[0].get_array("s").unwrap().len(), 1);
}
