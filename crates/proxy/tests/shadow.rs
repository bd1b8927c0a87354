//! Shadow-mode reply comparison on replies shaped like mongod's: what counts as a difference, and the
//! path each difference is reported at.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, Document, doc, oid::ObjectId};
use docwire_proxy::shadow::{IGNORED_FIELDS, MAX_DIFFERENCES, ReplyDifference, compare_replies};

fn find_reply(cursor_id: i64, batch: Vec<Document>) -> Document {
    doc! {
        "cursor": { "firstBatch": batch, "id": cursor_id, "ns": "shop.orders" },
        "ok": 1.0,
    }
}

fn orders(n: i32) -> Vec<Document> {
    (0..n)
        .map(|i| doc! { "_id": i, "item": format!("item{i}"), "qty": i * 10 })
        .collect()
}

fn paths(differences: &[ReplyDifference]) -> Vec<&str> {
    differences.iter().map(|d| d.path.as_str()).collect()
}

#[test]
fn identical_replies_have_no_differences() {
    let reply = find_reply(0, orders(5));
    assert!(compare_replies(&reply, &reply.clone()).is_empty());
}

#[test]
fn fields_that_differ_between_servers_are_ignored() {
    let mut primary = find_reply(0, orders(2));
    primary.insert(
        "$clusterTime",
        doc! { "clusterTime": bson::Timestamp { time: 1, increment: 1 } },
    );
    primary.insert(
        "operationTime",
        bson::Timestamp {
            time: 1,
            increment: 1,
        },
    );
    primary.insert("electionId", ObjectId::new());
    primary.insert("localTime", bson::DateTime::from_millis(1));
    primary.insert("connectionId", 7);
    primary.insert(
        "topologyVersion",
        doc! { "processId": ObjectId::new(), "counter": 0i64 },
    );
    let mut shadow = find_reply(0, orders(2));
    shadow.insert(
        "$clusterTime",
        doc! { "clusterTime": bson::Timestamp { time: 2, increment: 9 } },
    );
    shadow.insert(
        "operationTime",
        bson::Timestamp {
            time: 2,
            increment: 9,
        },
    );
    shadow.insert("electionId", ObjectId::new());
    shadow.insert("localTime", bson::DateTime::from_millis(2));
    shadow.insert("connectionId", 8);
    shadow.insert(
        "lastWrite",
        doc! { "majorityWriteDate": bson::DateTime::from_millis(2) },
    );
    shadow.insert("$gleStats", doc! {});
    shadow.insert("$replData", doc! {});
    assert_eq!(compare_replies(&primary, &shadow), vec![]);
    assert!(IGNORED_FIELDS.contains(&"$oplogQueryData") && IGNORED_FIELDS.contains(&"lastCommittedOpTime"));
}

#[test]
fn ignored_names_are_compared_below_the_top_level() {
    let primary = find_reply(0, vec![doc! { "_id": 1, "localTime": 1 }]);
    let shadow = find_reply(0, vec![doc! { "_id": 1, "localTime": 2 }]);
    assert_eq!(
        paths(&compare_replies(&primary, &shadow)),
        ["cursor.firstBatch.0.localTime"]
    );
}

#[test]
fn a_changed_value_deep_in_first_batch_is_reported_at_its_path() {
    let primary = find_reply(0, orders(5));
    let mut batch = orders(5);
    batch[3].insert("qty", 31);
    let shadow = find_reply(0, batch);
    assert_eq!(
        compare_replies(&primary, &shadow),
        vec![ReplyDifference {
            path: "cursor.firstBatch.3.qty".to_owned(),
            primary: Some(Bson::Int32(30)),
            shadow: Some(Bson::Int32(31)),
        }]
    );
}

#[test]
fn a_field_missing_on_either_side_is_reported() {
    let primary = find_reply(0, orders(2));
    let mut batch = orders(2);
    batch[1].remove("item");
    batch[0].insert("extra", true);
    let shadow = find_reply(0, batch);
    assert_eq!(
        compare_replies(&primary, &shadow),
        vec![
            ReplyDifference {
                path: "cursor.firstBatch.0.extra".to_owned(),
                primary: None,
                shadow: Some(Bson::Boolean(true)),
            },
            ReplyDifference {
                path: "cursor.firstBatch.1.item".to_owned(),
                primary: Some(Bson::String("item1".to_owned())),
                shadow: None,
            },
        ]
    );
    let mut no_ok = primary.clone();
    no_ok.remove("ok");
    assert_eq!(paths(&compare_replies(&primary, &no_ok)), ["ok"]);
}

#[test]
fn numbers_compare_by_value_across_types() {
    let primary = doc! { "n": 5, "nModified": 5i64, "ok": 1 };
    let shadow = doc! { "n": 5.0, "nModified": 5, "ok": 1.0 };
    assert!(compare_replies(&primary, &shadow).is_empty());

    let shadow = doc! { "n": 5.5, "nModified": 6.0, "ok": "1" };
    assert_eq!(
        paths(&compare_replies(&primary, &shadow)),
        ["n", "nModified", "ok"]
    );
    // Large int64s are compared exactly, not through a rounding double.
    let big = doc! { "v": 9_007_199_254_740_993i64 };
    assert_eq!(
        paths(&compare_replies(&big, &doc! { "v": 9_007_199_254_740_992.0 })),
        ["v"]
    );
}

#[test]
fn documents_compare_regardless_of_field_order() {
    let primary = doc! { "a": 1, "b": { "x": 1, "y": 2 }, "ok": 1 };
    let shadow = doc! { "ok": 1, "b": { "y": 2, "x": 1 }, "a": 1 };
    assert!(compare_replies(&primary, &shadow).is_empty());
}

#[test]
fn cursor_ids_only_need_to_agree_on_being_zero() {
    let open = find_reply(123_456_789, orders(2));
    assert!(compare_replies(&open, &find_reply(987_654_321, orders(2))).is_empty());
    assert!(compare_replies(&find_reply(0, orders(2)), &find_reply(0, orders(2))).is_empty());

    let closed = find_reply(0, orders(2));
    assert_eq!(
        compare_replies(&closed, &open),
        vec![ReplyDifference {
            path: "cursor.id".to_owned(),
            primary: Some(Bson::Int64(0)),
            shadow: Some(Bson::Int64(123_456_789)),
        }]
    );
}

#[test]
fn an_array_length_difference_is_one_difference_with_the_lengths() {
    let primary = find_reply(0, orders(4));
    let mut batch = orders(3);
    batch[0].insert("qty", -1);
    let shadow = find_reply(0, batch);
    assert_eq!(
        compare_replies(&primary, &shadow),
        vec![
            ReplyDifference {
                path: "cursor.firstBatch".to_owned(),
                primary: Some(Bson::Int64(4)),
                shadow: Some(Bson::Int64(3)),
            },
            ReplyDifference {
                path: "cursor.firstBatch.0.qty".to_owned(),
                primary: Some(Bson::Int32(0)),
                shadow: Some(Bson::Int32(-1)),
            },
        ]
    );
}

#[test]
fn the_number_of_differences_is_bounded() {
    let primary = find_reply(0, orders(100));
    let batch = orders(100).into_iter().map(|mut d| {
        d.insert("qty", -1);
        d
    });
    let shadow = find_reply(0, batch.collect());
    let differences = compare_replies(&primary, &shadow);
    assert_eq!(differences.len(), MAX_DIFFERENCES);
    // Every order differs; the report is the first MAX_DIFFERENCES of them, in order.
    assert_eq!(differences[0].path, "cursor.firstBatch.0.qty");
    assert_eq!(
        differences[MAX_DIFFERENCES - 1].path,
        format!("cursor.firstBatch.{}.qty", MAX_DIFFERENCES - 1)
    );
}

#[test]
fn a_difference_reads_as_path_and_both_sides() {
    let difference = ReplyDifference {
        path: "ok".to_owned(),
        primary: Some(Bson::Double(1.0)),
        shadow: None,
    };
    assert_eq!(difference.to_string(), "ok: primary 1 shadow (missing)");
}
