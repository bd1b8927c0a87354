//! Index bounds: the key interval a filter allows on a top-level field, multikey-safe by default
//! and intersected for single-key indexes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Bound::{Excluded, Included};

use bson::{Bson, Document, doc};
use docwire_db::query::matcher::{Interval, Matcher};

fn bounds(filter: Document, field: &str) -> Option<Interval> {
    Matcher::parse(&filter).unwrap().index_bounds(field)
}

fn inf(sign: f64) -> Bson {
    Bson::Double(sign * f64::INFINITY)
}

#[test]
fn equality_and_ranges() {
    assert_eq!(bounds(doc! {"a": 5}, "a"), Some(Interval::point(Bson::Int32(5))));
    assert_eq!(
        bounds(doc! {"a": {"$eq": "x"}, "b": 1}, "a"),
        Some(Interval::point("x".into()))
    );
    assert_eq!(
        bounds(doc! {"a.b": 1}, "a.b"),
        Some(Interval::point(Bson::Int32(1)))
    );
    assert_eq!(
        bounds(doc! {"a": {"$gt": 5}}, "a"),
        Some(Interval {
            lower: Excluded(Bson::Int32(5)),
            upper: Included(inf(1.0))
        })
    );
    assert_eq!(
        bounds(doc! {"a": {"$lte": 5}}, "a"),
        Some(Interval {
            lower: Included(inf(-1.0)),
            upper: Included(Bson::Int32(5))
        })
    );
    assert_eq!(
        bounds(doc! {"a": {"$lt": "m"}}, "a"),
        Some(Interval {
            lower: Included("".into()),
            upper: Excluded("m".into())
        })
    );
    assert_eq!(
        bounds(doc! {"$and": [{"a": {"$gt": 1}}], "z": 0}, "a"),
        Some(Interval {
            lower: Excluded(Bson::Int32(1)),
            upper: Included(inf(1.0))
        })
    );
}

#[test]
fn multikey_safety_and_single_key_intersection() {
    let m = Matcher::parse(&doc! {"a": {"$gte": 1, "$lt": 5}}).unwrap();
    // On a multikey index {a: [0, 10]} matches with different elements, so only one side bounds.
    assert_eq!(
        m.index_bounds("a"),
        Some(Interval {
            lower: Included(Bson::Int32(1)),
            upper: Included(inf(1.0))
        })
    );
    assert_eq!(
        m.index_bounds_single_key("a"),
        Some(Interval {
            lower: Included(Bson::Int32(1)),
            upper: Excluded(Bson::Int32(5))
        })
    );
    let eq_and_range = Matcher::parse(&doc! {"a": 3, "$and": [{"a": {"$gt": 1}}]}).unwrap();
    assert_eq!(
        eq_and_range.index_bounds("a"),
        Some(Interval::point(Bson::Int32(3)))
    );
}

#[test]
fn in_lists() {
    let m = Matcher::parse(&doc! {"a": {"$in": [3, 1, 1.0]}}).unwrap();
    assert_eq!(
        m.index_intervals("a"),
        Some(vec![
            Interval::point(Bson::Int32(1)),
            Interval::point(Bson::Int32(3))
        ])
    );
    assert_eq!(
        m.index_bounds("a"),
        Some(Interval {
            lower: Included(Bson::Int32(1)),
            upper: Included(Bson::Int32(3))
        })
    );
}

#[test]
fn unusable_predicates() {
    assert_eq!(bounds(doc! {"a": null}, "a"), None);
    assert_eq!(bounds(doc! {"a": [1, 2]}, "a"), None);
    assert_eq!(bounds(doc! {"a": {"$ne": 1}}, "a"), None);
    assert_eq!(bounds(doc! {"a": {"$in": [1, null]}}, "a"), None);
    assert_eq!(bounds(doc! {"b": 1}, "a"), None);
    assert_eq!(bounds(doc! {"$or": [{"a": 1}, {"a": 2}]}, "a"), None);
    assert_eq!(bounds(doc! {"a": {"$regex": "^x"}}, "a"), None);
    assert_eq!(bounds(doc! {"a": {"$exists": true}}, "a"), None);
    assert_eq!(bounds(doc! {}, "a"), None);
}

#[test]
fn intervals_contain_values_in_bson_order() {
    let i = Interval {
        lower: Excluded(Bson::Int32(1)),
        upper: Included(Bson::Double(3.0)),
    };
    assert!(!i.contains(&Bson::Int64(1)));
    assert!(i.contains(&Bson::Double(1.5)));
    assert!(i.contains(&Bson::Int32(3)));
    assert!(!i.contains(&"2".into()));
    assert!(Interval::point(Bson::Int32(2)).is_point());
}
