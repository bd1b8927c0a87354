//! mongod's BSON comparison order: first by canonical type (numbers of every kind compare as one type,
//! as do strings and symbols), then by value. Used by sorts, range matching, $min/$max, index keys and
//! anything else that orders values.

use std::cmp::Ordering;

use bson::{Bson, Document};

/// The canonical type rank (mongod's `canonicalizeBSONType`): MinKey < undefined < null < numbers <
/// strings/symbols < objects < arrays < binary < ObjectId < booleans < dates < timestamps < regexes <
/// DBPointer < JavaScript < JavaScript with scope < MaxKey.
pub fn canonical_type_rank(value: &Bson) -> u8 {
    match value {
        Bson::MinKey => 0,
        // mongod ranks undefined (and a missing field) below null; its matcher special-cases the pair.
        Bson::Undefined => 2,
        Bson::Null => 5,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => 10,
        Bson::String(_) | Bson::Symbol(_) => 15,
        Bson::Document(_) => 20,
        Bson::Array(_) => 25,
        Bson::Binary(_) => 30,
        Bson::ObjectId(_) => 35,
        Bson::Boolean(_) => 40,
        Bson::DateTime(_) => 45,
        Bson::Timestamp(_) => 47,
        Bson::RegularExpression(_) => 50,
        Bson::DbPointer(_) => 55,
        Bson::JavaScriptCode(_) => 60,
        Bson::JavaScriptCodeWithScope(_) => 65,
        Bson::MaxKey => 100,
    }
}

/// Compares two values in mongod's order.
pub fn compare_bson(a: &Bson, b: &Bson) -> Ordering {
    let (ra, rb) = (canonical_type_rank(a), canonical_type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Bson::String(x) | Bson::Symbol(x), Bson::String(y) | Bson::Symbol(y)) => {
            x.as_bytes().cmp(y.as_bytes())
        }
        (Bson::Document(x), Bson::Document(y)) => compare_documents(x, y),
        (Bson::Array(x), Bson::Array(y)) => compare_arrays(x, y),
        (Bson::Binary(x), Bson::Binary(y)) => {
            // mongod: length first, then subtype, then bytes.
            x.bytes
                .len()
                .cmp(&y.bytes.len())
                .then_with(|| u8::from(x.subtype).cmp(&u8::from(y.subtype)))
                .then_with(|| x.bytes.cmp(&y.bytes))
        }
        (Bson::ObjectId(x), Bson::ObjectId(y)) => x.bytes().cmp(&y.bytes()),
        (Bson::Boolean(x), Bson::Boolean(y)) => x.cmp(y),
        (Bson::DateTime(x), Bson::DateTime(y)) => x.timestamp_millis().cmp(&y.timestamp_millis()),
        (Bson::Timestamp(x), Bson::Timestamp(y)) => (x.time, x.increment).cmp(&(y.time, y.increment)),
        (Bson::RegularExpression(x), Bson::RegularExpression(y)) => x
            .pattern
            .as_str()
            .cmp(y.pattern.as_str())
            .then_with(|| x.options.as_str().cmp(y.options.as_str())),
        (Bson::JavaScriptCode(x), Bson::JavaScriptCode(y)) => x.cmp(y),
        (Bson::JavaScriptCodeWithScope(x), Bson::JavaScriptCodeWithScope(y)) => x
            .code
            .cmp(&y.code)
            .then_with(|| compare_documents(&x.scope, &y.scope)),
        (Bson::DbPointer(_), Bson::DbPointer(_)) => format!("{a:?}").cmp(&format!("{b:?}")),
        _ if ra == 10 => compare_numbers(a, b),
        // MinKey, MaxKey, null and undefined each equal their own kind.
        _ => Ordering::Equal,
    }
}

/// Whether two values are equal in mongod's sense (`1 == 1.0 == NumberLong(1)`).
pub fn bson_equal(a: &Bson, b: &Bson) -> bool {
    compare_bson(a, b) == Ordering::Equal
}

/// Documents compare field by field: each element's type rank, then its name, then its value; a prefix
/// sorts first.
pub fn compare_documents(a: &Document, b: &Document) -> Ordering {
    let mut ia = a.iter();
    let mut ib = b.iter();
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((ka, va)), Some((kb, vb))) => {
                let by_type = canonical_type_rank(va).cmp(&canonical_type_rank(vb));
                let ord = by_type
                    .then_with(|| ka.as_bytes().cmp(kb.as_bytes()))
                    .then_with(|| compare_bson(va, vb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

fn compare_arrays(a: &[Bson], b: &[Bson]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = compare_bson(x, y);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// A number widened for comparison: integers stay exact; doubles compare as doubles (NaN lowest, as in
/// mongod); decimals are compared through their string form when mixed with others.
fn compare_numbers(a: &Bson, b: &Bson) -> Ordering {
    if let (Some(x), Some(y)) = (as_i64(a), as_i64(b)) {
        return x.cmp(&y);
    }
    let (x, y) = (as_f64(a), as_f64(b));
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // Integers beyond 2^53 lose precision as doubles; compare exactly when one side is integral.
        _ => match (as_i64(a), as_i64(b)) {
            (Some(i), None) => compare_i64_f64(i, y),
            (None, Some(j)) => compare_i64_f64(j, x).reverse(),
            _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        },
    }
}

fn compare_i64_f64(i: i64, f: f64) -> Ordering {
    // 2^63 as f64: every i64 is below it.
    if f >= 9_223_372_036_854_775_808.0 {
        return Ordering::Less;
    }
    if f < -9_223_372_036_854_775_808.0 {
        return Ordering::Greater;
    }
    let truncated = f.trunc() as i64;
    i.cmp(&truncated).then_with(|| {
        let frac = f - f.trunc();
        if frac > 0.0 {
            Ordering::Less
        } else if frac < 0.0 {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    })
}

fn as_i64(v: &Bson) -> Option<i64> {
    match v {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        _ => None,
    }
}

/// A numeric value as f64 (decimals through their string form; non-numbers as NaN).
pub fn as_f64(v: &Bson) -> f64 {
    match v {
        Bson::Int32(i) => f64::from(*i),
        Bson::Int64(i) => *i as f64,
        Bson::Double(d) => *d,
        Bson::Decimal128(d) => d.to_string().parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{doc, oid::ObjectId};

    #[test]
    fn types_order_canonically() {
        let ordered = [
            Bson::MinKey,
            Bson::Null,
            Bson::Int32(-5),
            Bson::Double(1.5),
            Bson::Int64(2),
            Bson::String("a".into()),
            Bson::Document(doc! {}),
            Bson::Array(vec![]),
            Bson::ObjectId(ObjectId::from_bytes([0; 12])),
            Bson::Boolean(false),
            Bson::Boolean(true),
            Bson::DateTime(bson::DateTime::from_millis(0)),
            Bson::MaxKey,
        ];
        for w in ordered.windows(2) {
            assert_eq!(
                compare_bson(&w[0], &w[1]),
                Ordering::Less,
                "{:?} < {:?}",
                w[0],
                w[1]
            );
        }
    }

    #[test]
    fn numbers_compare_across_kinds() {
        assert!(bson_equal(&Bson::Int32(1), &Bson::Double(1.0)));
        assert!(bson_equal(&Bson::Int64(1), &Bson::Int32(1)));
        assert_eq!(
            compare_bson(&Bson::Int64(i64::MAX), &Bson::Double(9.3e18)),
            Ordering::Less
        );
        assert_eq!(
            compare_bson(&Bson::Int64(3), &Bson::Double(2.5)),
            Ordering::Greater
        );
        assert_eq!(
            compare_bson(&Bson::Double(f64::NAN), &Bson::Int32(i32::MIN)),
            Ordering::Less
        );
        assert_eq!(compare_bson(&Bson::Undefined, &Bson::Null), Ordering::Less);
    }

    #[test]
    fn documents_and_arrays_compare_elementwise() {
        assert_eq!(
            compare_documents(&doc! {"a": 1}, &doc! {"a": 1, "b": 0}),
            Ordering::Less
        );
        assert_eq!(compare_documents(&doc! {"a": 2}, &doc! {"b": 1}), Ordering::Less);
        assert_eq!(
            compare_documents(&doc! {"a": "x"}, &doc! {"a": 5}),
            Ordering::Greater
        );
        assert_eq!(
            compare_bson(
                &Bson::Array(vec![1.into(), 2.into()]),
                &Bson::Array(vec![1.into(), 3.into()])
            ),
            Ordering::Less
        );
    }
}
