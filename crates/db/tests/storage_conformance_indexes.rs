//! The storage conformance suite's index cases, run against both engines: unique, compound,
//! descending and multikey indexes, missing fields, builds over existing documents, index management.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod storage_common;

use std::ops::Bound;

use bson::{Bson, Document, doc, rawdoc};
use docwire_db::query::compare::compare_bson;
use docwire_db::storage::{Direction, IndexRef, StorageEngine};
use docwire_rpc::ErrorCode;
use storage_common::*;

suite!(
    unique_secondary_index,
    compound_and_descending_index_scans,
    multikey_index,
    missing_fields_index_as_null,
    index_build_over_existing_documents,
    index_management,
);

fn unique_secondary_index(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1, "a": 5}, doc! {"_id": 2, "a": 6}]);
    let mut w = engine.begin_write().unwrap();
    assert!(
        w.create_index(NS, &doc! {"key": {"a": 1}, "unique": true})
            .unwrap()
    );
    let err = w.insert(NS, &rawdoc! {"_id": 3, "a": 5}).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateKey);
    assert_eq!(
        err.reason(),
        "E11000 duplicate key error collection: test.c index: a_1 dup key: { a: 5 }"
    );
    assert_eq!(
        err.extra_info(),
        Some(&doc! {"keyPattern": {"a": 1}, "keyValue": {"a": 5}})
    );
    // Updating into a taken key fails and leaves the document as it was.
    let err = w.replace(NS, &rawdoc! {"_id": 2, "a": 5.0}).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateKey);
    assert_eq!(
        to_doc(&w.find_by_id(NS, &Bson::Int32(2)).unwrap().unwrap()),
        doc! {"_id": 2, "a": 6}
    );
    // Replacing a document with its own key is fine; deleting frees the key.
    assert!(w.replace(NS, &rawdoc! {"_id": 1, "a": 5, "b": true}).unwrap());
    assert!(w.delete(NS, &Bson::Int32(1)).unwrap());
    w.insert(NS, &rawdoc! {"_id": 3, "a": 5}).unwrap();
    // Two documents missing the field collide on null, as in mongod.
    w.insert(NS, &rawdoc! {"_id": 4}).unwrap();
    let err = w.insert(NS, &rawdoc! {"_id": 5}).unwrap_err();
    assert_eq!(
        err.extra_info(),
        Some(&doc! {"keyPattern": {"a": 1}, "keyValue": {"a": null}})
    );
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    let all = index_ids(&*r, "a_1", Bound::Unbounded, Bound::Unbounded, Direction::Forward);
    assert_eq!(all, ints(&[4, 3, 2]));
}

fn compound_and_descending_index_scans(engine: &dyn StorageEngine) {
    let docs = [
        (1, 1, "x"),
        (2, 1, "y"),
        (3, 2, "x"),
        (4, 2, "z"),
        (5, 3, "y"),
        (6, 4, "x"),
    ];
    seed(
        engine,
        docs.iter()
            .map(|(id, a, b)| doc! {"_id": id, "a": a, "b": b})
            .collect(),
    );
    let mut w = engine.begin_write().unwrap();
    w.create_index(NS, &doc! {"key": {"a": 1, "b": -1}}).unwrap();
    w.create_index(NS, &doc! {"key": {"a": -1}, "name": "a_desc"})
        .unwrap();
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    let two = Bson::Int32(2);
    let three = Bson::Int32(3);
    // a ascending, then b descending within equal a.
    assert_eq!(
        index_ids(
            &*r,
            "a_1_b_-1",
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Forward
        ),
        ints(&[2, 1, 4, 3, 5, 6])
    );
    assert_eq!(
        index_ids(
            &*r,
            "a_1_b_-1",
            Bound::Included(&two),
            Bound::Included(&three),
            Direction::Forward
        ),
        ints(&[4, 3, 5])
    );
    assert_eq!(
        index_ids(
            &*r,
            "a_1_b_-1",
            Bound::Excluded(&two),
            Bound::Unbounded,
            Direction::Forward
        ),
        ints(&[5, 6])
    );
    assert_eq!(
        index_ids(
            &*r,
            "a_1_b_-1",
            Bound::Unbounded,
            Bound::Excluded(&two),
            Direction::Backward
        ),
        ints(&[1, 2])
    );
    // A descending index walks values high to low; bounds are still value bounds.
    let desc = |lo, hi, dir| {
        let mut got = index_ids(&*r, "a_desc", lo, hi, dir);
        if dir == Direction::Forward {
            got.retain(|_| true);
        }
        got.into_iter().map(|b| b.as_i32().unwrap()).collect::<Vec<_>>()
    };
    let ids_of_a = |ids: Vec<i32>| ids.iter().map(|id| docs[*id as usize - 1].1).collect::<Vec<_>>();
    assert_eq!(
        ids_of_a(desc(Bound::Unbounded, Bound::Unbounded, Direction::Forward)),
        vec![4, 3, 2, 2, 1, 1]
    );
    assert_eq!(
        ids_of_a(desc(
            Bound::Included(&two),
            Bound::Included(&three),
            Direction::Forward
        )),
        vec![3, 2, 2]
    );
    assert_eq!(
        ids_of_a(desc(
            Bound::Excluded(&two),
            Bound::Excluded(&Bson::Int32(4)),
            Direction::Forward
        )),
        vec![3]
    );
    assert_eq!(
        ids_of_a(desc(Bound::Included(&two), Bound::Unbounded, Direction::Backward)),
        vec![2, 2, 3, 4]
    );
    // Numbers of other kinds bound the same way (2.0 == 2, 2.5 between 2 and 3).
    assert_eq!(
        index_ids(
            &*r,
            "a_1_b_-1",
            Bound::Excluded(&Bson::Double(2.5)),
            Bound::Included(&Bson::Int64(3)),
            Direction::Forward
        ),
        ints(&[5])
    );
    assert_eq!(
        index_ids(
            &*r,
            "a_1_b_-1",
            Bound::Included(&Bson::Double(2.0)),
            Bound::Included(&Bson::Double(2.0)),
            Direction::Forward
        ),
        ints(&[4, 3])
    );
    // An inverted range is empty, not an error.
    assert!(
        index_ids(
            &*r,
            "a_1_b_-1",
            Bound::Included(&three),
            Bound::Included(&two),
            Direction::Forward
        )
        .is_empty()
    );
    // The _id index scans too.
    assert_eq!(
        index_ids(
            &*r,
            "_id_",
            Bound::Included(&two),
            Bound::Excluded(&Bson::Int32(4)),
            Direction::Forward
        ),
        ints(&[2, 3])
    );
    assert_eq!(
        r.index_scan(NS, "nope", Bound::Unbounded, Bound::Unbounded, Direction::Forward)
            .err()
            .unwrap()
            .code(),
        ErrorCode::IndexNotFound
    );
}

fn multikey_index(engine: &dyn StorageEngine) {
    seed(
        engine,
        vec![
            doc! {"_id": 1, "t": [1, 2, 3]},
            doc! {"_id": 2, "t": [3, 4]},
            doc! {"_id": 3, "t": 2},
        ],
    );
    let mut w = engine.begin_write().unwrap();
    w.create_index(NS, &doc! {"key": {"t": 1}}).unwrap();
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    assert!(r.list_indexes(NS).unwrap()[1].multikey);
    let all = index_ids(&*r, "t_1", Bound::Unbounded, Bound::Unbounded, Direction::Forward);
    assert_eq!(all, ints(&[1, 3, 2]), "each document once, at its first key");
    let (one, three) = (Bson::Int32(1), Bson::Int32(3));
    assert_eq!(
        index_ids(
            &*r,
            "t_1",
            Bound::Included(&three),
            Bound::Included(&three),
            Direction::Forward
        ),
        ints(&[1, 2])
    );
    let mut in_range = index_ids(
        &*r,
        "t_1",
        Bound::Included(&one),
        Bound::Included(&three),
        Direction::Forward,
    );
    in_range.sort_by(compare_bson);
    assert_eq!(in_range, ints(&[1, 2, 3]));
    drop(r);

    // Deleting a multikey document removes all of its entries; unique multikey indexes collide per element.
    let mut w = engine.begin_write().unwrap();
    w.delete(NS, &Bson::Int32(1)).unwrap();
    w.create_index(NS, &doc! {"key": {"u": 1}, "unique": true, "sparse": true})
        .unwrap();
    w.insert(NS, &rawdoc! {"_id": 10, "u": [7, 8, 7]}).unwrap();
    let err = w.insert(NS, &rawdoc! {"_id": 11, "u": [9, 8]}).unwrap_err();
    assert_eq!(
        err.extra_info(),
        Some(&doc! {"keyPattern": {"u": 1}, "keyValue": {"u": 8}})
    );
    let err = w
        .insert(NS, &rawdoc! {"_id": 12, "t": [1], "u": [[1]], "v": 1})
        .err();
    assert!(err.is_none(), "one array field is fine: {err:?}");
    w.create_index(NS, &doc! {"key": {"t": 1, "w": 1}}).unwrap();
    let parallel = w
        .insert(NS, &rawdoc! {"_id": 13, "t": [1], "w": [2]})
        .unwrap_err();
    assert_eq!(parallel.code(), ErrorCode::CannotIndexParallelArrays);
    assert!(w.find_by_id(NS, &Bson::Int32(13)).unwrap().is_none());
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    assert_eq!(
        index_ids(&*r, "t_1", Bound::Unbounded, Bound::Unbounded, Direction::Forward),
        ints(&[10, 12, 3, 2])
    );
}

fn missing_fields_index_as_null(engine: &dyn StorageEngine) {
    seed(
        engine,
        vec![
            doc! {"_id": 1, "a": 1},
            doc! {"_id": 2},
            doc! {"_id": 3, "a": null},
            doc! {"_id": 4, "a": {"b": 5}},
        ],
    );
    let mut w = engine.begin_write().unwrap();
    w.create_index(NS, &doc! {"key": {"a": 1}}).unwrap();
    w.create_index(NS, &doc! {"key": {"a.b": 1}}).unwrap();
    w.create_index(NS, &doc! {"key": {"a": -1}, "name": "sparse_a", "sparse": true})
        .unwrap();
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    let null = Bson::Null;
    assert_eq!(
        index_ids(
            &*r,
            "a_1",
            Bound::Included(&null),
            Bound::Included(&null),
            Direction::Forward
        ),
        ints(&[2, 3])
    );
    assert_eq!(
        index_ids(
            &*r,
            "a.b_1",
            Bound::Included(&null),
            Bound::Included(&null),
            Direction::Forward
        ),
        ints(&[1, 2, 3])
    );
    assert_eq!(
        index_ids(
            &*r,
            "a.b_1",
            Bound::Excluded(&null),
            Bound::Unbounded,
            Direction::Forward
        ),
        ints(&[4])
    );
    assert_eq!(
        index_ids(
            &*r,
            "sparse_a",
            Bound::Unbounded,
            Bound::Unbounded,
            Direction::Forward
        ),
        ints(&[4, 1, 3])
    );
}

fn index_build_over_existing_documents(engine: &dyn StorageEngine) {
    seed(
        engine,
        (0..1200).map(|i| doc! {"_id": i, "k": i % 600, "n": i}).collect(),
    );
    let mut w = engine.begin_write().unwrap();
    let err = w
        .create_index(NS, &doc! {"key": {"k": 1}, "unique": true})
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateKey);
    assert_eq!(
        err.extra_info(),
        Some(&doc! {"keyPattern": {"k": 1}, "keyValue": {"k": 0}})
    );
    assert_eq!(
        w.list_indexes(NS).unwrap().len(),
        1,
        "the failed build left no index"
    );
    assert!(
        w.create_index(NS, &doc! {"key": {"n": -1}, "unique": true})
            .unwrap()
    );
    w.create_index(NS, &doc! {"key": {"k": 1}}).unwrap();
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    let five = Bson::Int32(5);
    assert_eq!(
        index_ids(
            &*r,
            "k_1",
            Bound::Included(&five),
            Bound::Included(&five),
            Direction::Forward
        ),
        ints(&[5, 605])
    );
    let top = index_ids(
        &*r,
        "n_-1",
        Bound::Unbounded,
        Bound::Unbounded,
        Direction::Forward,
    );
    assert_eq!(top.len(), 1200);
    assert_eq!(top[0], Bson::Int32(1199));
    assert_eq!(r.collection_stats(NS).unwrap().nindexes, 3);
}

fn index_management(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1, "a": 1, "b": 1}]);
    let mut w = engine.begin_write().unwrap();
    assert!(w.create_index(NS, &doc! {"key": {"a": 1, "b": -1}}).unwrap());
    assert!(
        !w.create_index(NS, &doc! {"key": {"a": 1, "b": -1}}).unwrap(),
        "identical: nothing to do"
    );
    assert!(!w.create_index(NS, &doc! {"key": {"_id": 1}}).unwrap());
    let conflict = w
        .create_index(NS, &doc! {"key": {"a": 1, "b": -1}, "name": "other"})
        .unwrap_err();
    assert_eq!(conflict.code(), ErrorCode::IndexOptionsConflict);
    let conflict = w
        .create_index(NS, &doc! {"key": {"b": 1}, "name": "a_1_b_-1"})
        .unwrap_err();
    assert_eq!(conflict.code(), ErrorCode::IndexKeySpecsConflict);
    assert_eq!(
        w.create_index(NS, &doc! {"key": {"a": 0}}).unwrap_err().code(),
        ErrorCode::CannotCreateIndex
    );
    assert_eq!(
        w.create_index("test.none", &doc! {"key": {"a": 1}})
            .unwrap_err()
            .code(),
        ErrorCode::NamespaceNotFound
    );
    w.create_index(NS, &doc! {"key": {"b": 1}, "name": "by_b", "unique": true})
        .unwrap();
    let specs: Vec<Document> = w.list_indexes(NS).unwrap().into_iter().map(|i| i.spec).collect();
    assert_eq!(
        specs,
        vec![
            doc! {"v": 2, "key": {"_id": 1}, "name": "_id_"},
            doc! {"v": 2, "key": {"a": 1, "b": -1}, "name": "a_1_b_-1"},
            doc! {"v": 2, "key": {"b": 1}, "name": "by_b", "unique": true},
        ]
    );
    let err = w.drop_index(NS, IndexRef::Name("_id_")).unwrap_err();
    assert_eq!(
        (err.code(), err.reason()),
        (ErrorCode::InvalidOptions, "cannot drop _id index")
    );
    assert_eq!(
        w.drop_index(NS, IndexRef::KeyPattern(&doc! {"_id": 1}))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidOptions
    );
    assert_eq!(
        w.drop_index(NS, IndexRef::Name("zzz")).unwrap_err().code(),
        ErrorCode::IndexNotFound
    );
    assert_eq!(
        w.drop_index(NS, IndexRef::KeyPattern(&doc! {"z": 1}))
            .unwrap_err()
            .code(),
        ErrorCode::IndexNotFound
    );
    w.drop_index(NS, IndexRef::KeyPattern(&doc! {"a": 1, "b": -1}))
        .unwrap();
    w.drop_index(NS, IndexRef::Name("by_b")).unwrap();
    assert_eq!(w.list_indexes(NS).unwrap().len(), 1);
    // After dropping a unique index its constraint is gone.
    w.insert(NS, &rawdoc! {"_id": 2, "b": 1}).unwrap();
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    assert_eq!(r.list_indexes(NS).unwrap().len(), 1);
    assert_eq!(
        r.list_indexes("test.none").unwrap_err().code(),
        ErrorCode::NamespaceNotFound
    );
}
