//! One conformance suite run against both storage engines (redb in a temp dir, and inMemory): CRUD by
//! _id, scans, snapshots, rollback, atomic batches, DuplicateKey, catalog, stats. Indexes are in
//! storage_conformance_indexes.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod storage_common;

use std::ops::Bound;

use bson::{Bson, Document, doc, rawdoc};
use docwire_db::query::compare::compare_bson;
use docwire_db::storage::{Direction, MemoryEngine, RedbEngine, StorageEngine, WriteTxn, ensure_id};
use docwire_rpc::ErrorCode;
use storage_common::*;

suite!(
    crud_by_id,
    ordered_scans,
    snapshot_isolation,
    rollback_on_drop,
    atomic_batch,
    duplicate_key_shape,
    catalog_operations,
    stats,
    writer_sees_its_own_writes,
    failed_calls_leave_no_trace,
);

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
