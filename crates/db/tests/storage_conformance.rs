//! One conformance suite run against both storage engines (redb in a temp dir, and inMemory): CRUD by
//! _id, scans, snapshots, rollback, atomic batches, DuplicateKey, secondary indexes, catalog, stats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use bson::{Bson, Document, RawDocumentBuf, doc, rawdoc};
use docwire_db::query::compare::compare_bson;
use docwire_db::storage::{
    Direction, IndexRef, MemoryEngine, ReadTxn, RedbEngine, StorageEngine, WriteTxn, ensure_id,
};
use docwire_rpc::ErrorCode;

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, AtomicOrdering::Relaxed);
        let path = std::env::temp_dir().join(format!("docwire-storage-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs each named test against both engines.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { super::$name(&docwire_db::storage::MemoryEngine::new()); })*
        }
        mod redb {
            $(#[test] fn $name() {
                let dir = super::TempDir::new();
                super::$name(&docwire_db::storage::RedbEngine::open(&dir.0.join("data")).unwrap());
            })*
        }
    };
}

suite!(
    crud_by_id,
    ordered_scans,
    snapshot_isolation,
    rollback_on_drop,
    atomic_batch,
    duplicate_key_shape,
    unique_secondary_index,
    compound_and_descending_index_scans,
    multikey_index,
    missing_fields_index_as_null,
    index_build_over_existing_documents,
    index_management,
    catalog_operations,
    stats,
    writer_sees_its_own_writes,
    failed_calls_leave_no_trace,
);

const NS: &str = "test.c";

fn raw(d: Document) -> RawDocumentBuf {
    RawDocumentBuf::try_from(&d).unwrap()
}

fn to_doc(r: &RawDocumentBuf) -> Document {
    Document::try_from(r).unwrap()
}

/// Inserts `docs` into NS (created if needed) and commits.
fn seed(engine: &dyn StorageEngine, docs: Vec<Document>) {
    let mut w = engine.begin_write().unwrap();
    w.ensure_collection(NS).unwrap();
    for d in docs {
        w.insert(NS, &raw(d)).unwrap();
    }
    w.commit().unwrap();
}

fn ids(iter: docwire_db::storage::RecordIter<'_>) -> Vec<Bson> {
    iter.map(|r| to_doc(&r.unwrap().doc).get("_id").unwrap().clone())
        .collect()
}

fn scan_ids(r: &dyn ReadTxn, direction: Direction) -> Vec<Bson> {
    ids(r.scan(NS, Bound::Unbounded, direction).unwrap())
}

fn index_ids(
    r: &dyn ReadTxn,
    index: &str,
    lower: Bound<&Bson>,
    upper: Bound<&Bson>,
    direction: Direction,
) -> Vec<Bson> {
    ids(r.index_scan(NS, index, lower, upper, direction).unwrap())
}

fn ints(v: &[i32]) -> Vec<Bson> {
    v.iter().map(|i| Bson::Int32(*i)).collect()
}

fn crud_by_id(engine: &dyn StorageEngine) {
    let mut w = engine.begin_write().unwrap();
    let missing = w.insert(NS, &rawdoc! {"_id": 1}).unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NamespaceNotFound);
    assert!(w.ensure_collection(NS).unwrap());
    assert!(!w.ensure_collection(NS).unwrap());
    w.insert(NS, &rawdoc! {"_id": 1, "x": "one"}).unwrap();
    w.insert(NS, &rawdoc! {"_id": "s", "x": "str"}).unwrap();
    let (with_id, oid) = ensure_id(&rawdoc! {"x": "generated"}).unwrap();
    assert!(matches!(oid, Bson::ObjectId(_)));
    w.insert(NS, &with_id).unwrap();
    w.commit().unwrap();

    let r = engine.begin_read().unwrap();
    // _id 1 is found as 1.0 and NumberLong(1): mongod's equality.
    for id in [Bson::Int32(1), Bson::Double(1.0), Bson::Int64(1)] {
        assert_eq!(
            to_doc(&r.find_by_id(NS, &id).unwrap().unwrap()),
            doc! {"_id": 1, "x": "one"}
        );
    }
    assert_eq!(
        r.find_by_id(NS, &oid).unwrap().map(|d| to_doc(&d)),
        Some(doc! {"_id": oid.clone(), "x": "generated"})
    );
    assert!(r.find_by_id(NS, &Bson::Int32(2)).unwrap().is_none());
    assert!(r.find_by_id("test.nope", &Bson::Int32(1)).unwrap().is_none());
    drop(r);

    let mut w = engine.begin_write().unwrap();
    assert!(w.replace(NS, &rawdoc! {"_id": 1.0, "x": "uno"}).unwrap());
    assert!(!w.replace(NS, &rawdoc! {"_id": 99, "x": "none"}).unwrap());
    assert!(w.delete(NS, &Bson::String("s".into())).unwrap());
    assert!(!w.delete(NS, &Bson::String("s".into())).unwrap());
    w.commit().unwrap();

    let r = engine.begin_read().unwrap();
    assert_eq!(
        to_doc(&r.find_by_id(NS, &Bson::Int32(1)).unwrap().unwrap()),
        doc! {"_id": 1.0, "x": "uno"}
    );
    assert!(r.find_by_id(NS, &Bson::Int32(99)).unwrap().is_none());
    assert!(r.find_by_id(NS, &Bson::String("s".into())).unwrap().is_none());
    assert_eq!(r.collection_stats(NS).unwrap().count, 2);
}

fn ordered_scans(engine: &dyn StorageEngine) {
    let mut values: Vec<Bson> = vec![
        Bson::Int32(5),
        Bson::Double(2.5),
        Bson::Int64(-7),
        Bson::String("b".into()),
        Bson::String("a".into()),
        Bson::Document(doc! {"k": 1}),
        Bson::ObjectId(bson::oid::ObjectId::from_bytes([1; 12])),
        Bson::Boolean(false),
        Bson::Null,
        Bson::Int64(i64::MAX),
        Bson::Double(1e300),
    ];
    seed(engine, values.iter().map(|v| doc! {"_id": v.clone()}).collect());
    values.sort_by(compare_bson);
    let r = engine.begin_read().unwrap();
    assert_eq!(scan_ids(&*r, Direction::Forward), values);
    let mut reversed = values.clone();
    reversed.reverse();
    assert_eq!(scan_ids(&*r, Direction::Backward), reversed);

    // Resuming after a record key continues where a cursor left off.
    let records: Vec<_> = r
        .scan(NS, Bound::Unbounded, Direction::Forward)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let after = ids(r
        .scan(NS, Bound::Excluded(&records[3].key), Direction::Forward)
        .unwrap());
    assert_eq!(after, values[4..].to_vec());
    let before = ids(r
        .scan(NS, Bound::Excluded(&records[3].key), Direction::Backward)
        .unwrap());
    assert_eq!(before, reversed[reversed.len() - 3..].to_vec());
    assert!(
        r.scan("test.none", Bound::Unbounded, Direction::Forward)
            .unwrap()
            .next()
            .is_none()
    );
}

fn snapshot_isolation(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1}]);
    let before = engine.begin_read().unwrap();
    let mut w = engine.begin_write().unwrap();
    w.insert(NS, &rawdoc! {"_id": 2}).unwrap();
    w.delete(NS, &Bson::Int32(1)).unwrap();
    // Not visible while uncommitted...
    let during = engine.begin_read().unwrap();
    assert_eq!(scan_ids(&*during, Direction::Forward), ints(&[1]));
    w.commit().unwrap();
    // ...nor to snapshots taken before the commit, however long they live.
    assert_eq!(scan_ids(&*before, Direction::Forward), ints(&[1]));
    assert_eq!(scan_ids(&*during, Direction::Forward), ints(&[1]));
    assert!(before.find_by_id(NS, &Bson::Int32(2)).unwrap().is_none());
    let after = engine.begin_read().unwrap();
    assert_eq!(scan_ids(&*after, Direction::Forward), ints(&[2]));
}

fn rollback_on_drop(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1, "v": 1}]);
    {
        let mut w = engine.begin_write().unwrap();
        w.insert(NS, &rawdoc! {"_id": 2}).unwrap();
        w.replace(NS, &rawdoc! {"_id": 1, "v": 2}).unwrap();
        w.create_collection("test.other", &Document::new()).unwrap();
        w.create_index(NS, &doc! {"key": {"v": 1}}).unwrap();
        // Dropped without commit.
    }
    let r = engine.begin_read().unwrap();
    assert_eq!(scan_ids(&*r, Direction::Forward), ints(&[1]));
    assert_eq!(
        to_doc(&r.find_by_id(NS, &Bson::Int32(1)).unwrap().unwrap()),
        doc! {"_id": 1, "v": 1}
    );
    assert!(r.collection("test.other").unwrap().is_none());
    assert_eq!(r.list_indexes(NS).unwrap().len(), 1);
    assert_eq!(r.collection_stats(NS).unwrap().count, 1);
    drop(r);
    // And the next writer is not blocked by the abandoned one.
    let w = engine.begin_write().unwrap();
    w.commit().unwrap();
}

fn atomic_batch(engine: &dyn StorageEngine) {
    seed(engine, vec![]);
    {
        let mut w = engine.begin_write().unwrap();
        w.insert(NS, &rawdoc! {"_id": 1}).unwrap();
        w.insert(NS, &rawdoc! {"_id": 2}).unwrap();
        assert_eq!(
            w.insert(NS, &rawdoc! {"_id": 1, "again": true})
                .unwrap_err()
                .code(),
            ErrorCode::DuplicateKey
        );
        w.insert(NS, &rawdoc! {"_id": 3}).unwrap();
        // Not committed: nothing of the batch is left.
    }
    let r = engine.begin_read().unwrap();
    assert!(scan_ids(&*r, Direction::Forward).is_empty());
    assert_eq!(r.collection_stats(NS).unwrap().count, 0);
    drop(r);

    // Committed: the documents around the failed one are all there, the failed one left no trace.
    let mut w = engine.begin_write().unwrap();
    w.insert(NS, &rawdoc! {"_id": 1}).unwrap();
    assert!(w.insert(NS, &rawdoc! {"_id": 1, "again": true}).is_err());
    w.insert(NS, &rawdoc! {"_id": 2}).unwrap();
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    assert_eq!(scan_ids(&*r, Direction::Forward), ints(&[1, 2]));
    assert_eq!(
        to_doc(&r.find_by_id(NS, &Bson::Int32(1)).unwrap().unwrap()),
        doc! {"_id": 1}
    );
    let s = r.collection_stats(NS).unwrap();
    assert_eq!(s.count, 2);
    assert_eq!(s.size, 2 * rawdoc! {"_id": 1}.as_bytes().len() as u64);
}

fn duplicate_key_shape(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1}]);
    let mut w = engine.begin_write().unwrap();
    let err = w.insert(NS, &rawdoc! {"_id": 1.0, "x": 1}).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateKey);
    assert_eq!(err.code().code(), 11000);
    assert_eq!(
        err.reason(),
        "E11000 duplicate key error collection: test.c index: _id_ dup key: { _id: 1.0 }"
    );
    assert_eq!(
        err.extra_info(),
        Some(&doc! {"keyPattern": {"_id": 1}, "keyValue": {"_id": 1.0}})
    );
    let err = w.insert(NS, &rawdoc! {"_id": 1}).unwrap_err();
    assert_eq!(
        err.reason(),
        "E11000 duplicate key error collection: test.c index: _id_ dup key: { _id: 1 }"
    );
    assert_eq!(
        err.extra_info(),
        Some(&doc! {"keyPattern": {"_id": 1}, "keyValue": {"_id": 1}})
    );
}

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

fn catalog_operations(engine: &dyn StorageEngine) {
    let mut w = engine.begin_write().unwrap();
    w.create_collection("app.users", &doc! {"capped": false}).unwrap();
    let exists = w.create_collection("app.users", &Document::new()).unwrap_err();
    assert_eq!(exists.code(), ErrorCode::NamespaceExists);
    assert_eq!(exists.code().code(), 48);
    assert_eq!(
        w.create_collection("bad db.x", &Document::new())
            .unwrap_err()
            .code(),
        ErrorCode::InvalidNamespace
    );
    w.create_collection("app.orders", &Document::new()).unwrap();
    w.create_collection("other.things", &Document::new()).unwrap();
    w.insert("app.users", &rawdoc! {"_id": 1, "name": "ann"}).unwrap();
    w.create_index("app.users", &doc! {"key": {"name": 1}}).unwrap();
    w.insert("app.orders", &rawdoc! {"_id": 1}).unwrap();
    w.commit().unwrap();

    let r = engine.begin_read().unwrap();
    assert_eq!(
        r.list_database_names().unwrap(),
        vec!["app".to_string(), "other".to_string()]
    );
    let colls = r.list_collections("app").unwrap();
    assert_eq!(
        colls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        vec!["orders", "users"]
    );
    assert_eq!(colls[1].options, doc! {"capped": false});
    assert_eq!(colls[1].indexes.len(), 2);
    let uuid = colls[1].uuid;
    assert_ne!(colls[0].uuid, uuid);
    drop(r);

    let mut w = engine.begin_write().unwrap();
    assert_eq!(
        w.rename_collection("app.users", "app.orders", false)
            .unwrap_err()
            .code(),
        ErrorCode::NamespaceExists
    );
    assert_eq!(
        w.rename_collection("app.nope", "app.x", false)
            .unwrap_err()
            .code(),
        ErrorCode::NamespaceNotFound
    );
    assert_eq!(
        w.rename_collection("app.users", "app.users", false)
            .unwrap_err()
            .code(),
        ErrorCode::IllegalOperation
    );
    w.rename_collection("app.users", "app.people", false).unwrap();
    w.rename_collection("app.people", "app.orders", true).unwrap();
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    let orders = r.collection("app.orders").unwrap().unwrap();
    assert_eq!(orders.uuid, uuid, "rename keeps the collection");
    assert_eq!(orders.indexes.len(), 2);
    assert_eq!(
        to_doc(&r.find_by_id("app.orders", &Bson::Int32(1)).unwrap().unwrap()),
        doc! {"_id": 1, "name": "ann"}
    );
    let name = Bson::String("ann".into());
    assert_eq!(
        ids(r
            .index_scan(
                "app.orders",
                "name_1",
                Bound::Included(&name),
                Bound::Included(&name),
                Direction::Forward
            )
            .unwrap()),
        ints(&[1])
    );
    assert!(r.collection("app.users").unwrap().is_none() && r.collection("app.people").unwrap().is_none());
    assert_eq!(r.collection_stats("app.orders").unwrap().count, 1);
    drop(r);

    let mut w = engine.begin_write().unwrap();
    assert!(w.drop_collection("other.things").unwrap());
    assert!(!w.drop_collection("other.things").unwrap());
    w.create_collection("app.more", &Document::new()).unwrap();
    assert_eq!(w.drop_database("app").unwrap(), 2);
    assert_eq!(w.drop_database("app").unwrap(), 0);
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    assert!(r.list_database_names().unwrap().is_empty());
    assert!(r.find_by_id("app.orders", &Bson::Int32(1)).unwrap().is_none());
    assert_eq!(r.database_stats("app").unwrap().objects, 0);
    drop(r);
    // A collection re-created under a dropped name starts empty.
    seed(engine, vec![]);
    let mut w = engine.begin_write().unwrap();
    w.create_collection("app.orders", &Document::new()).unwrap();
    assert!(w.find_by_id("app.orders", &Bson::Int32(1)).unwrap().is_none());
    assert_eq!(w.collection_stats("app.orders").unwrap().count, 0);
}

fn stats(engine: &dyn StorageEngine) {
    let docs: Vec<Document> = (0..10)
        .map(|i| doc! {"_id": i, "pad": "x".repeat(i as usize)})
        .collect();
    let total: u64 = docs.iter().map(|d| raw(d.clone()).as_bytes().len() as u64).sum();
    seed(engine, docs);
    let mut w = engine.begin_write().unwrap();
    w.create_index(NS, &doc! {"key": {"pad": 1}}).unwrap();
    w.create_collection("test.empty", &Document::new()).unwrap();
    // A writer sees its own pending counts.
    w.delete(NS, &Bson::Int32(9)).unwrap();
    assert_eq!(w.collection_stats(NS).unwrap().count, 9);
    w.commit().unwrap();
    let removed = raw(doc! {"_id": 9, "pad": "x".repeat(9)}).as_bytes().len() as u64;
    let r = engine.begin_read().unwrap();
    let s = r.collection_stats(NS).unwrap();
    assert_eq!((s.ns.as_str(), s.count, s.size), (NS, 9, total - removed));
    assert_eq!(s.avg_obj_size, (total - removed) / 9);
    assert_eq!(s.nindexes, 2);
    assert!(s.storage_size >= s.size);
    assert!(s.total_index_size > 0);
    assert_eq!(
        s.index_sizes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        vec!["_id_", "pad_1"]
    );
    assert_eq!(
        s.total_index_size,
        s.index_sizes.iter().map(|(_, n)| n).sum::<u64>()
    );
    let d = r.database_stats("test").unwrap();
    assert_eq!(
        (d.collections, d.objects, d.data_size, d.indexes),
        (2, 9, s.size, 3)
    );
    assert_eq!(d.index_size, s.total_index_size);
    assert_eq!(r.collection_stats("test.none").unwrap().count, 0);
}

fn writer_sees_its_own_writes(engine: &dyn StorageEngine) {
    let mut w = engine.begin_write().unwrap();
    w.create_collection(NS, &Document::new()).unwrap();
    w.create_index(NS, &doc! {"key": {"a": 1}}).unwrap();
    for i in 0..600 {
        w.insert(NS, &raw(doc! {"_id": i, "a": 600 - i})).unwrap();
    }
    assert_eq!(
        w.find_by_id(NS, &Bson::Int32(5)).unwrap().map(|d| to_doc(&d)),
        Some(doc! {"_id": 5, "a": 595})
    );
    let scanned = scan_ids(&*w, Direction::Backward);
    assert_eq!(scanned.len(), 600);
    assert_eq!(scanned[0], Bson::Int32(599));
    let low = index_ids(
        &*w,
        "a_1",
        Bound::Unbounded,
        Bound::Included(&Bson::Int32(2)),
        Direction::Forward,
    );
    assert_eq!(low, ints(&[599, 598]));
    assert_eq!(w.list_collections("test").unwrap().len(), 1);
    w.commit().unwrap();
}

fn failed_calls_leave_no_trace(engine: &dyn StorageEngine) {
    seed(engine, vec![doc! {"_id": 1, "u": 1}]);
    let mut w = engine.begin_write().unwrap();
    w.create_index(NS, &doc! {"key": {"u": 1}, "unique": true})
        .unwrap();
    w.create_index(NS, &doc! {"key": {"m": 1}}).unwrap();
    // The unique index rejects _id 2 after its document was written: the document must be gone too.
    assert!(w.insert(NS, &rawdoc! {"_id": 2, "u": 1, "m": 1}).is_err());
    assert!(w.find_by_id(NS, &Bson::Int32(2)).unwrap().is_none());
    let one = Bson::Int32(1);
    assert!(
        index_ids(
            &*w,
            "m_1",
            Bound::Included(&one),
            Bound::Included(&one),
            Direction::Forward
        )
        .is_empty()
    );
    assert_eq!(w.collection_stats(NS).unwrap().count, 1);
    w.commit().unwrap();
    let r = engine.begin_read().unwrap();
    assert_eq!(r.collection_stats(NS).unwrap().count, 1);
    assert_eq!(scan_ids(&*r, Direction::Forward), ints(&[1]));
}

#[test]
fn engines_report_their_names() {
    let dir = TempDir::new();
    let redb = RedbEngine::open(&dir.0).unwrap();
    assert_eq!((redb.name(), redb.persistent()), ("redb", true));
    let mem = MemoryEngine::new();
    assert_eq!((mem.name(), mem.persistent()), ("inMemory", false));
    let _: &dyn WriteTxn = &*mem.begin_write().unwrap();
}

#[test]
fn engine_is_a_service_context_decoration() {
    use std::sync::Arc;
    let engine: Arc<dyn StorageEngine> = Arc::new(MemoryEngine::new());
    let mut builder = docwire_service::ServiceContext::builder();
    let key = docwire_db::storage::declare(&mut builder, engine.clone());
    let service = builder.build().unwrap();
    let found = service.decoration(key).unwrap();
    assert!(Arc::ptr_eq(found, &engine));
    seed(&**found, vec![doc! {"_id": 1}]);
    assert_eq!(
        engine.begin_read().unwrap().collection_stats(NS).unwrap().count,
        1
    );
}
