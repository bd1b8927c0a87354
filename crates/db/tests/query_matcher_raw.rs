//! Property tests of the in-place matcher: on random documents (repeated keys, nested documents and
//! arrays, every scalar kind scans meet) and random filters (comparisons, $in/$nin, $exists, $type,
//! $regex, $size, $elemMatch, $all, $mod, $not, $and/$or/$nor, dotted and numeric paths),
//! `matches_raw` on the stored bytes gives the decoded matcher's answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::raw::CStr;
use bson::{Bson, Document, RawBson, RawDocumentBuf, Regex, doc, oid::ObjectId};
use docwire_db::query::matcher::Matcher;
use proptest::prelude::*;

const KEYS: &[&str] = &["a", "b", "c", "0", "1"];
const PATHS: &[&str] = &[
    "a", "b", "c", "a.b", "a.0", "a.1", "a.b.c", "a.0.b", "b.a", "a.c.0",
];

fn scalar() -> impl Strategy<Value = Bson> {
    prop_oneof![
        (-3i32..4).prop_map(Bson::Int32),
        (-3i64..4).prop_map(Bson::Int64),
        prop_oneof![
            Just(f64::NAN),
            Just(-0.0),
            Just(1.5),
            Just(2.0),
            Just(f64::INFINITY)
        ]
        .prop_map(Bson::Double),
        prop_oneof![Just(""), Just("a"), Just("ab"), Just("b"), Just("B")]
            .prop_map(|s| Bson::String(s.into())),
        Just(Bson::Symbol("a".into())),
        Just(Bson::Null),
        Just(Bson::Undefined),
        any::<bool>().prop_map(Bson::Boolean),
        Just(Bson::MinKey),
        Just(Bson::MaxKey),
        Just(Bson::ObjectId(ObjectId::from_bytes([7; 12]))),
        (0i64..3).prop_map(|ms| Bson::DateTime(bson::DateTime::from_millis(ms))),
        Just(Bson::RegularExpression(Regex {
            pattern: "^a".try_into().unwrap(),
            options: "".try_into().unwrap(),
        })),
    ]
}

fn value() -> impl Strategy<Value = Bson> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Bson::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(|fields| {
                let mut d = Document::new();
                for (k, v) in fields {
                    d.insert(k, v);
                }
                Bson::Document(d)
            }),
        ]
    })
}

/// A stored document built field by field, so a key may repeat (decoding keeps its last value).
fn stored() -> impl Strategy<Value = RawDocumentBuf> {
    prop::collection::vec((prop::sample::select(KEYS), value()), 0..6).prop_map(|fields| {
        let mut raw = RawDocumentBuf::new();
        for (k, v) in fields {
            let key = <&CStr>::try_from(k).unwrap();
            raw.append(key, RawBson::try_from(v).unwrap());
        }
        raw
    })
}

fn operator() -> impl Strategy<Value = Document> {
    let v = value;
    prop_oneof![
        (
            prop::sample::select(&["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"][..]),
            v()
        )
            .prop_map(|(op, x)| doc! {op: x}),
        (
            prop::sample::select(&["$in", "$nin"][..]),
            prop::collection::vec(v(), 0..4)
        )
            .prop_map(|(op, xs)| doc! {op: xs}),
        any::<bool>().prop_map(|b| doc! {"$exists": b}),
        prop::sample::select(
            &[
                "string", "number", "null", "array", "object", "int", "double", "minKey"
            ][..]
        )
        .prop_map(|t| doc! {"$type": t}),
        prop::sample::select(&["^a", "b$", "^$", "A"][..]).prop_map(|p| doc! {"$regex": p, "$options": "i"}),
        (0i32..3).prop_map(|n| doc! {"$size": n}),
        v().prop_map(|x| doc! {"$elemMatch": {"$gte": x}}),
        (prop::sample::select(KEYS), v()).prop_map(|(k, x)| doc! {"$elemMatch": {k: x}}),
        prop::collection::vec(v(), 0..3).prop_map(|xs| doc! {"$all": xs}),
        (1i32..3, 0i32..2).prop_map(|(d, r)| doc! {"$mod": [d, r]}),
        v().prop_map(|x| doc! {"$not": {"$lt": x}}),
        (v(), v()).prop_map(|(x, y)| doc! {"$gt": x, "$lte": y}),
    ]
}

fn field_filter() -> impl Strategy<Value = Document> {
    (
        prop::sample::select(PATHS),
        prop_oneof![value(), operator().prop_map(Bson::Document)],
    )
        .prop_map(|(path, v)| doc! {path: v})
}

fn filter() -> impl Strategy<Value = Document> {
    field_filter().prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            (
                prop::sample::select(&["$and", "$or", "$nor"][..]),
                prop::collection::vec(inner.clone(), 1..3)
            )
                .prop_map(|(op, fs)| doc! {op: fs}),
            (inner.clone(), inner).prop_map(|(mut a, b)| {
                a.extend(b);
                a
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn raw_and_decoded_matchers_agree(docs in prop::collection::vec(stored(), 1..4), filter in filter()) {
        // Random operator arguments can be invalid ($size of a string...): those filters do not parse.
        let Ok(matcher) = Matcher::parse(&filter) else {
            return Ok(());
        };
        for raw in &docs {
            let decoded = Document::try_from(raw.as_ref()).unwrap();
            prop_assert_eq!(
                matcher.matches_raw(raw).unwrap(),
                matcher.matches(&decoded),
                "filter {} on {}",
                filter,
                decoded
            );
        }
    }
}

#[test]
fn a_malformed_document_is_an_error_not_an_answer() {
    let mut bytes = RawDocumentBuf::try_from(&doc! {"a": "xyz"}).unwrap().into_bytes();
    // The string's length prefix now runs past the end of the document.
    bytes[7] = 0x7f;
    let raw = bson::RawDocument::from_bytes(&bytes).unwrap();
    let matcher = Matcher::parse(&doc! {"a": "xyz"}).unwrap();
    assert!(matcher.matches_raw(raw).is_err());
    assert!(Document::try_from(raw).is_err());
}
