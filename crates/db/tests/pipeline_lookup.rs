//! `$lookup` through a fake `CollectionSource`: the equality form (arrays, null and missing, dotted
//! paths), the pipeline form with `let` and `$expr`, the two combined, and nesting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::collections::HashMap;

use bson::{Bson, Document, doc};
use docwire_db::pipeline::{CollectionSource, Pipeline};
use docwire_rpc::{ErrorCode, Status, StatusResult};

/// A database of named collections that counts how often it is read.
struct FakeDb {
    collections: HashMap<String, Vec<Document>>,
    reads: Cell<usize>,
}

impl FakeDb {
    fn new(collections: Vec<(&str, Vec<Document>)>) -> FakeDb {
        FakeDb {
            collections: collections.into_iter().map(|(n, d)| (n.to_owned(), d)).collect(),
            reads: Cell::new(0),
        }
    }
}

impl CollectionSource for FakeDb {
    fn documents(&self, collection: &str) -> StatusResult<Vec<Document>> {
        self.reads.set(self.reads.get() + 1);
        if collection == "broken" {
            return Err(Status::new(ErrorCode::InternalError, "read failed"));
        }
        Ok(self.collections.get(collection).cloned().unwrap_or_default())
    }
}

fn run(db: &FakeDb, input: &[Document], pipeline: &[Document]) -> StatusResult<Vec<Document>> {
    Pipeline::parse(pipeline)?.run(input.to_vec(), db, &mut || Ok(()))
}

fn assert_docs(got: &[Document], want: &[Document]) {
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

#[test]
fn equality_form_documented_example() {
    // MongoDB's orders / inventory example, including an order without an item.
    let inventory = vec![
        doc! {"_id": 1, "sku": "almonds", "description": "product 1", "instock": 120},
        doc! {"_id": 2, "sku": "bread", "description": "product 2", "instock": 80},
        doc! {"_id": 3, "sku": "cashews", "description": "product 3", "instock": 60},
        doc! {"_id": 4, "sku": "pecans", "description": "product 4", "instock": 70},
        doc! {"_id": 5, "sku": Bson::Null, "description": "Incomplete"},
        doc! {"_id": 6},
    ];
    let db = FakeDb::new(vec![("inventory", inventory.clone())]);
    let orders = vec![
        doc! {"_id": 1, "item": "almonds", "price": 12, "quantity": 2},
        doc! {"_id": 2, "item": "pecans", "price": 20, "quantity": 1},
        doc! {"_id": 3},
    ];
    let got = run(
        &db,
        &orders,
        &[doc! {"$lookup": {"from": "inventory", "localField": "item", "foreignField": "sku", "as": "inventory_docs"}}],
    )
    .unwrap();
    assert_docs(
        &got,
        &[
            doc! {"_id": 1, "item": "almonds", "price": 12, "quantity": 2, "inventory_docs": [inventory[0].clone()]},
            doc! {"_id": 2, "item": "pecans", "price": 20, "quantity": 1, "inventory_docs": [inventory[3].clone()]},
            doc! {"_id": 3, "inventory_docs": [inventory[4].clone(), inventory[5].clone()]},
        ],
    );
    // The foreign collection is read once per run, not once per document.
    assert_eq!(db.reads.get(), 1);
}

#[test]
fn equality_form_with_arrays_and_paths() {
    // MongoDB's classes / members example: an array localField matches any element.
    let members = vec![
        doc! {"_id": 1, "name": "artie", "status": "A"},
        doc! {"_id": 2, "name": "giraffe", "status": "D"},
        doc! {"_id": 3, "name": "giraffe1", "status": "A"},
        doc! {"_id": 4, "name": "panda", "status": "A"},
        doc! {"_id": 5, "name": "pandabear", "status": "A"},
        doc! {"_id": 6, "name": "giraffe2", "status": "D"},
    ];
    let db = FakeDb::new(vec![("members", members.clone())]);
    let classes = vec![
        doc! {"_id": 1, "title": "Reading is ...", "enrollmentlist": ["giraffe2", "pandabear", "artie"]},
        doc! {"_id": 2, "title": "But Writing ...", "enrollmentlist": ["giraffe1", "artie"]},
    ];
    let got = run(
        &db,
        &classes,
        &[
            doc! {"$lookup": {"from": "members", "localField": "enrollmentlist", "foreignField": "name", "as": "enrollee_info"}},
            doc! {"$project": {"ids": "$enrollee_info._id"}},
        ],
    )
    .unwrap();
    // Results come in the foreign collection's order.
    assert_docs(
        &got,
        &[doc! {"_id": 1, "ids": [1, 5, 6]}, doc! {"_id": 2, "ids": [1, 3]}],
    );

    // A foreign array field matches when it holds the local value; dotted paths on both sides; an
    // `as` path that overwrites and nests; no matches give an empty array.
    let db = FakeDb::new(vec![(
        "tags",
        vec![
            doc! {"_id": "t1", "meta": {"names": ["red", "blue"]}},
            doc! {"_id": "t2", "meta": {"names": ["green"]}},
        ],
    )]);
    let got = run(
        &db,
        &[doc! {"_id": 1, "style": {"color": "blue"}, "out": 5}, doc! {"_id": 2, "style": {"color": "pink"}}],
        &[doc! {"$lookup": {"from": "tags", "localField": "style.color", "foreignField": "meta.names", "as": "out.found"}}],
    )
    .unwrap();
    assert_docs(
        &got,
        &[
            doc! {"_id": 1, "style": {"color": "blue"}, "out": {"found": [{"_id": "t1", "meta": {"names": ["red", "blue"]}}]}},
            doc! {"_id": 2, "style": {"color": "pink"}, "out": {"found": []}},
        ],
    );
    // A collection that does not exist joins nothing.
    let got = run(
        &db,
        &[doc! {"_id": 1, "a": 1}],
        &[doc! {"$lookup": {"from": "none", "localField": "a", "foreignField": "a", "as": "x"}}],
    )
    .unwrap();
    assert_docs(&got, &[doc! {"_id": 1, "a": 1, "x": []}]);
}

fn warehouses() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "stock_item": "almonds", "warehouse": "A", "instock": 120},
        doc! {"_id": 2, "stock_item": "pecans", "warehouse": "A", "instock": 80},
        doc! {"_id": 3, "stock_item": "almonds", "warehouse": "B", "instock": 60},
        doc! {"_id": 4, "stock_item": "cookies", "warehouse": "B", "instock": 40},
        doc! {"_id": 5, "stock_item": "cookies", "warehouse": "A", "instock": 80},
    ]
}

fn orders() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "item": "almonds", "price": 12, "ordered": 2},
        doc! {"_id": 2, "item": "pecans", "price": 20, "ordered": 1},
        doc! {"_id": 3, "item": "cookies", "price": 10, "ordered": 60},
    ]
}

#[test]
fn pipeline_form_with_let_documented_example() {
    let db = FakeDb::new(vec![("warehouses", warehouses())]);
    let got = run(
        &db,
        &orders(),
        &[doc! {"$lookup": {
            "from": "warehouses",
            "let": {"order_item": "$item", "order_qty": "$ordered"},
            "pipeline": [
                {"$match": {"$expr": {"$and": [
                    {"$eq": ["$stock_item", "$$order_item"]},
                    {"$gte": ["$instock", "$$order_qty"]},
                ]}}},
                {"$project": {"stock_item": 0, "_id": 0}},
            ],
            "as": "stockdata",
        }}],
    )
    .unwrap();
    assert_docs(
        &got,
        &[
            doc! {"_id": 1, "item": "almonds", "price": 12, "ordered": 2,
            "stockdata": [{"warehouse": "A", "instock": 120}, {"warehouse": "B", "instock": 60}]},
            doc! {"_id": 2, "item": "pecans", "price": 20, "ordered": 1, "stockdata": [{"warehouse": "A", "instock": 80}]},
            doc! {"_id": 3, "item": "cookies", "price": 10, "ordered": 60, "stockdata": [{"warehouse": "A", "instock": 80}]},
        ],
    );
}

#[test]
fn pipeline_form_variants() {
    let db = FakeDb::new(vec![("warehouses", warehouses()), ("orders", orders())]);
    // Uncorrelated: the same sub-pipeline result for every document.
    let got = run(
        &db,
        &[doc! {"_id": "x"}],
        &[doc! {"$lookup": {"from": "warehouses", "pipeline": [{"$match": {"warehouse": "B"}}, {"$count": "n"}], "as": "b"}}],
    )
    .unwrap();
    assert_docs(&got, &[doc! {"_id": "x", "b": [{"n": 2}]}]);
    // Equality and pipeline together (MongoDB 5.0): the pipeline sees only the equal documents.
    let got = run(
        &db,
        &orders()[..1],
        &[doc! {"$lookup": {
            "from": "warehouses", "localField": "item", "foreignField": "stock_item",
            "let": {"need": "$ordered"},
            "pipeline": [{"$project": {"_id": 0, "warehouse": 1, "spare": {"$subtract": ["$instock", "$$need"]}}}],
            "as": "w",
        }}],
    )
    .unwrap();
    assert_docs(
        &got,
        &[doc! {"_id": 1, "item": "almonds", "price": 12, "ordered": 2,
        "w": [{"warehouse": "A", "spare": 118}, {"warehouse": "B", "spare": 58}]}],
    );
    // Nested: an inner $lookup's pipeline still sees the outer let variables.
    let got = run(
        &db,
        &[doc! {"_id": "q", "want": "cookies"}],
        &[doc! {"$lookup": {
            "from": "orders",
            "let": {"want": "$want"},
            "pipeline": [
                {"$match": {"$expr": {"$eq": ["$item", "$$want"]}}},
                {"$lookup": {
                    "from": "warehouses",
                    "let": {"qty": "$ordered"},
                    "pipeline": [
                        {"$match": {"$expr": {"$and": [{"$eq": ["$stock_item", "$$want"]}, {"$gte": ["$instock", "$$qty"]}]}}},
                        {"$project": {"_id": 1}},
                    ],
                    "as": "from",
                }},
                {"$project": {"_id": 1, "from": 1}},
            ],
            "as": "orders",
        }}],
    )
    .unwrap();
    assert_docs(
        &got,
        &[doc! {"_id": "q", "want": "cookies", "orders": [{"_id": 3, "from": [{"_id": 5}]}]}],
    );
    // The source's error ends the run.
    let err = run(
        &db,
        &[doc! {"_id": 1}],
        &[doc! {"$lookup": {"from": "broken", "pipeline": [], "as": "x"}}],
    )
    .unwrap_err();
    assert_eq!(err.code().code(), 1);
    // A variable the sub-pipeline does not define.
    let err = run(
        &db,
        &[doc! {"_id": 1}],
        &[doc! {"$lookup": {"from": "orders", "pipeline": [{"$match": {"$expr": "$$nope"}}], "as": "x"}}],
    )
    .unwrap_err();
    assert_eq!(err.code().code(), 17276);
}

#[test]
fn parse_errors() {
    let cases: Vec<(Document, i32)> = vec![
        (doc! {"$lookup": 1}, 9),
        (
            doc! {"$lookup": {"localField": "a", "foreignField": "b", "as": "c"}},
            9,
        ),
        (
            doc! {"$lookup": {"from": "x", "localField": "a", "foreignField": "b"}},
            9,
        ),
        (doc! {"$lookup": {"from": "x", "localField": "a", "as": "c"}}, 9),
        (doc! {"$lookup": {"from": "x", "as": "c"}}, 9),
        (
            doc! {"$lookup": {"from": "x", "let": {"a": 1}, "localField": "a", "foreignField": "b", "as": "c"}},
            9,
        ),
        (
            doc! {"$lookup": {"from": "x", "pipeline": [], "localField": "a", "as": "c"}},
            9,
        ),
        (doc! {"$lookup": {"from": 1, "pipeline": [], "as": "c"}}, 9),
        (
            doc! {"$lookup": {"from": "x", "pipeline": [], "as": "c", "extra": 1}},
            9,
        ),
        (doc! {"$lookup": {"from": "x", "pipeline": {}, "as": "c"}}, 9),
        (doc! {"$lookup": {"from": "x", "pipeline": [1], "as": "c"}}, 9),
        (
            doc! {"$lookup": {"from": "x", "pipeline": [], "let": 1, "as": "c"}},
            9,
        ),
        (
            doc! {"$lookup": {"from": "x", "pipeline": [], "let": {"Bad": 1}, "as": "c"}},
            16867,
        ),
        (
            doc! {"$lookup": {"from": "x", "pipeline": [{"$bogus": 1}], "as": "c"}},
            40324,
        ),
        (doc! {"$lookup": {"from": "x", "pipeline": [], "as": "$c"}}, 16410),
    ];
    for (stage, code) in cases {
        let got = Pipeline::parse(std::slice::from_ref(&stage))
            .err()
            .map(|e| e.code().code());
        assert_eq!(got, Some(code), "{stage}");
    }
}
