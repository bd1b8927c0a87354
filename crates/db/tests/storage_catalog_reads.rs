//! Catalog reads through the engines' decoded-entry cache, on both engines: a snapshot keeps the
//! catalog it began with, and the next snapshot sees every committed catalog change (a new index, a
//! dropped and recreated collection, a rename) even though the entry it replaced was cached.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod storage_common;

use std::ops::Bound;

use bson::{Bson, doc};
use docwire_db::storage::{Direction, StorageEngine};
use storage_common::*;

suite!(
    a_new_index_is_seen_by_the_next_snapshot,
    a_recreated_collection_is_a_new_collection,
    a_renamed_collection_reads_under_its_new_name,
);

fn index_names(engine: &dyn StorageEngine) -> Vec<String> {
    let read = engine.begin_read().unwrap();
    read.list_indexes(NS)
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect()
}

fn a_new_index_is_seen_by_the_next_snapshot(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1, "x": 5}, doc! {"_id": 2, "x": 6}]);
    assert_eq!(index_names(engine), ["_id_"]);
    let before = engine.begin_read().unwrap();
    assert!(before.collection_exists(NS).unwrap());

    let mut w = engine.begin_write().unwrap();
    w.create_index(NS, &doc! {"key": {"x": 1}, "name": "x_1"})
        .unwrap();
    w.commit().unwrap();

    assert_eq!(index_names(engine), ["_id_", "x_1"]);
    let after = engine.begin_read().unwrap();
    let x = Bson::Int32(6);
    let found: Vec<_> = after
        .index_scan(
            NS,
            "x_1",
            Bound::Included(&x),
            Bound::Included(&x),
            Direction::Forward,
        )
        .unwrap()
        .map(|r| to_doc(&r.unwrap().doc))
        .collect();
    assert_eq!(found, [doc! {"_id": 2, "x": 6}]);
    // The snapshot taken before the index keeps its catalog.
    let listed: Vec<String> = before
        .list_indexes(NS)
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(listed, ["_id_"]);
    assert!(
        before
            .index_scan(NS, "x_1", Bound::Unbounded, Bound::Unbounded, Direction::Forward)
            .is_err()
    );
}

fn a_recreated_collection_is_a_new_collection(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1}]);
    let first = engine.begin_read().unwrap().collection(NS).unwrap().unwrap().uuid;

    let mut w = engine.begin_write().unwrap();
    assert!(w.drop_collection(NS).unwrap());
    w.commit().unwrap();
    let read = engine.begin_read().unwrap();
    assert!(!read.collection_exists(NS).unwrap());
    assert_eq!(read.find_by_id(NS, &Bson::Int32(1)).unwrap(), None);
    drop(read);

    seed(engine, vec![doc! {"_id": 2}]);
    let read = engine.begin_read().unwrap();
    assert_ne!(read.collection(NS).unwrap().unwrap().uuid, first);
    assert_eq!(read.find_by_id(NS, &Bson::Int32(1)).unwrap(), None);
    assert!(read.find_by_id(NS, &Bson::Int32(2)).unwrap().is_some());
}

fn a_renamed_collection_reads_under_its_new_name(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1, "v": "a"}]);
    assert!(
        engine
            .begin_read()
            .unwrap()
            .find_by_id(NS, &Bson::Int32(1))
            .unwrap()
            .is_some()
    );

    let mut w = engine.begin_write().unwrap();
    w.rename_collection(NS, "test.renamed", false).unwrap();
    w.commit().unwrap();

    let read = engine.begin_read().unwrap();
    assert!(!read.collection_exists(NS).unwrap());
    assert_eq!(read.find_by_id(NS, &Bson::Int32(1)).unwrap(), None);
    let moved = read.find_by_id("test.renamed", &Bson::Int32(1)).unwrap().unwrap();
    assert_eq!(to_doc(&moved), doc! {"_id": 1, "v": "a"});
}
