//! Property tests of the index key encoding: byte order equals mongod's BSON order (compare_bson),
//! for single values of every type (numbers of all kinds interleaved), descending and compound keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;

use bson::{Binary, Bson, Document, Regex, Timestamp, oid::ObjectId, spec::BinarySubtype};
use docwire_db::query::compare::compare_bson;
use docwire_db::storage::key::{encode, encode_component};
use proptest::prelude::*;

/// Integers near the places where f64 loses precision, plus small ones, so int/long/double collide.
fn interesting_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        -3i64..=3,
        Just(i64::MAX),
        Just(i64::MAX - 1),
        Just(i64::MIN),
        Just(i64::MIN + 1),
        Just(1 << 53),
        Just((1 << 53) + 1),
        Just(-(1 << 53) - 1),
        (-1_100i64..1_100).prop_map(|d| i64::MAX - 1_100 + d.abs()),
        any::<i64>(),
    ]
}

fn number() -> impl Strategy<Value = Bson> {
    prop_oneof![
        interesting_i64().prop_map(Bson::Int64),
        interesting_i64().prop_map(|i| Bson::Int32(i as i32)),
        interesting_i64().prop_map(|i| Bson::Double(i as f64)),
        (-4i32..4).prop_map(|i| Bson::Double(f64::from(i) + 0.5)),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(9_223_372_036_854_775_808.0),
            Just(-9_223_372_036_854_775_808.0),
            any::<f64>(),
        ]
        .prop_map(Bson::Double),
    ]
}

fn short_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![Just('\0'), Just('a'), Just('b'), Just('\u{ff}'), Just('é')],
        0..4,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn leaf() -> impl Strategy<Value = Bson> {
    prop_oneof![
        Just(Bson::MinKey),
        Just(Bson::MaxKey),
        Just(Bson::Null),
        Just(Bson::Undefined),
        number(),
        number(),
        short_string().prop_map(Bson::String),
        short_string().prop_map(Bson::Symbol),
        (prop::collection::vec(0u8..3, 0..3), 0u8..2).prop_map(|(bytes, st)| Bson::Binary(Binary {
            subtype: if st == 0 {
                BinarySubtype::Generic
            } else {
                BinarySubtype::UserDefined(0x80)
            },
            bytes,
        })),
        prop::array::uniform12(0u8..2).prop_map(|b| Bson::ObjectId(ObjectId::from_bytes(b))),
        any::<bool>().prop_map(Bson::Boolean),
        interesting_i64().prop_map(|ms| Bson::DateTime(bson::DateTime::from_millis(ms))),
        (0u32..3, 0u32..3).prop_map(|(time, increment)| Bson::Timestamp(Timestamp { time, increment })),
        (
            prop_oneof![Just("a"), Just("b")],
            prop_oneof![Just(""), Just("i")]
        )
            .prop_map(|(p, o)| Bson::RegularExpression(Regex {
                pattern: p.try_into().unwrap(),
                options: o.try_into().unwrap()
            })),
        short_string().prop_map(Bson::JavaScriptCode),
    ]
}

fn value() -> impl Strategy<Value = Bson> {
    leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Bson::Array),
            prop::collection::vec((prop_oneof![Just("a"), Just("b"), Just("")], inner), 0..3).prop_map(
                |fields| {
                    let mut d = Document::new();
                    for (k, v) in fields {
                        d.insert(k, v);
                    }
                    Bson::Document(d)
                }
            ),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn byte_order_is_bson_order(a in value(), b in value()) {
        let expected = compare_bson(&a, &b);
        prop_assert_eq!(encode(&a).cmp(&encode(&b)), expected, "{:?} vs {:?}", a, b);
    }

    #[test]
    fn numbers_interleave_exactly(a in number(), b in number()) {
        prop_assert_eq!(encode(&a).cmp(&encode(&b)), compare_bson(&a, &b), "{:?} vs {:?}", a, b);
        prop_assert_eq!(encode(&a) == encode(&b), compare_bson(&a, &b) == Ordering::Equal);
    }

    #[test]
    fn descending_components_reverse(a in value(), b in value()) {
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        encode_component(&a, true, &mut ea);
        encode_component(&b, true, &mut eb);
        prop_assert_eq!(ea.cmp(&eb), compare_bson(&a, &b).reverse());
    }

    #[test]
    fn compound_keys_compare_componentwise(
        a1 in value(), a2 in value(), b1 in value(), b2 in value(), desc in any::<bool>()
    ) {
        let key = |x: &Bson, y: &Bson| {
            let mut out = Vec::new();
            encode_component(x, false, &mut out);
            encode_component(y, desc, &mut out);
            out
        };
        let second = if desc { compare_bson(&a2, &b2).reverse() } else { compare_bson(&a2, &b2) };
        let expected = compare_bson(&a1, &b1).then(second);
        prop_assert_eq!(key(&a1, &a2).cmp(&key(&b1, &b2)), expected);
    }
}
