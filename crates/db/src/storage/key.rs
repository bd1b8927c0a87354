//! Order-preserving key bytes for BSON values: `encode(a).cmp(&encode(b)) == compare_bson(a, b)`.
//!
//! Every value is its canonical type rank plus one (so 0 can end a container), then a body:
//! - numbers (all kinds interleaved): 8 bytes of the value as a sortable f64 (NaN lowest, -0 as 0), then
//!   2 bytes of `exact - rounded` for integers that f64 cannot hold (|i64| > 2^53), so large longs keep
//!   their exact order against each other and against doubles;
//! - strings, symbols, code, regex parts: bytes with 0x00 escaped as 00 FF, ended by 00 00;
//! - documents: per element its type byte, escaped name, body; then 00. Arrays: per element its full
//!   encoding; then 00. A prefix therefore sorts first, as in compare_bson;
//! - binary: length (u32), subtype, bytes; dates and timestamps as big-endian sortable integers.
//!
//! Each encoding is prefix-free, so concatenations (compound keys, then the record id) compare
//! component by component, and a descending component is its encoding with every byte inverted.

use bson::{Bson, Document};

use crate::query::compare::{as_f64, canonical_type_rank};

/// Appends the key bytes of `value` (ascending) to `out`.
pub fn encode_into(value: &Bson, out: &mut Vec<u8>) {
    out.push(canonical_type_rank(value) + 1);
    encode_body(value, out);
}

/// The key bytes of `value`, ascending.
pub fn encode(value: &Bson) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_into(value, &mut out);
    out
}

/// Appends the key bytes of `value` to `out`, inverted when `descending` so the order reverses.
pub fn encode_component(value: &Bson, descending: bool, out: &mut Vec<u8>) {
    let start = out.len();
    encode_into(value, out);
    if descending {
        for b in &mut out[start..] {
            *b = !*b;
        }
    }
}

/// The smallest byte string greater than every string that starts with `prefix`; `None` when there is
/// none (all 0xFF), meaning "unbounded".
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn encode_body(value: &Bson, out: &mut Vec<u8>) {
    match value {
        Bson::MinKey | Bson::MaxKey | Bson::Null | Bson::Undefined => {}
        Bson::Int32(i) => encode_integer(i64::from(*i), out),
        Bson::Int64(i) => encode_integer(*i, out),
        Bson::Double(d) => encode_double(*d, out),
        Bson::Decimal128(_) => encode_double(as_f64(value), out),
        Bson::String(s) | Bson::Symbol(s) | Bson::JavaScriptCode(s) => encode_bytes(s.as_bytes(), out),
        Bson::Document(d) => encode_document(d, out),
        Bson::Array(items) => {
            for item in items {
                encode_into(item, out);
            }
            out.push(0);
        }
        Bson::Binary(b) => {
            let len = u32::try_from(b.bytes.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.push(u8::from(b.subtype));
            out.extend_from_slice(&b.bytes);
        }
        Bson::ObjectId(oid) => out.extend_from_slice(&oid.bytes()),
        Bson::Boolean(b) => out.push(u8::from(*b)),
        Bson::DateTime(d) => out.extend_from_slice(&sortable_i64(d.timestamp_millis()).to_be_bytes()),
        Bson::Timestamp(t) => {
            out.extend_from_slice(&t.time.to_be_bytes());
            out.extend_from_slice(&t.increment.to_be_bytes());
        }
        Bson::RegularExpression(r) => {
            encode_bytes(r.pattern.as_str().as_bytes(), out);
            encode_bytes(r.options.as_str().as_bytes(), out);
        }
        // compare_bson orders DBPointers by their debug form; so do their keys.
        Bson::DbPointer(_) => encode_bytes(format!("{value:?}").as_bytes(), out),
        Bson::JavaScriptCodeWithScope(c) => {
            encode_bytes(c.code.as_bytes(), out);
            encode_document(&c.scope, out);
        }
    }
}

fn encode_document(doc: &Document, out: &mut Vec<u8>) {
    for (name, value) in doc {
        out.push(canonical_type_rank(value) + 1);
        encode_bytes(name.as_bytes(), out);
        encode_body(value, out);
    }
    out.push(0);
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn encode_integer(i: i64, out: &mut Vec<u8>) {
    // Rounding to nearest is monotonic, so (rounded, exact - rounded) orders exactly; the
    // difference is at most half an ulp at 2^63, well within an i16.
    let rounded = i as f64;
    let diff = i128::from(i) - rounded as i128;
    out.extend_from_slice(&sortable_f64(rounded).to_be_bytes());
    let diff = i16::try_from(diff).unwrap_or(0);
    out.extend_from_slice(&((diff as u16) ^ 0x8000).to_be_bytes());
}

fn encode_double(d: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(&sortable_f64(d).to_be_bytes());
    out.extend_from_slice(&0x8000u16.to_be_bytes());
}

/// f64 bits reordered so unsigned comparison is numeric order; NaN below -inf (mongod's order), -0 as 0.
fn sortable_f64(d: f64) -> u64 {
    if d.is_nan() {
        return 0;
    }
    let d = if d == 0.0 { 0.0 } else { d };
    let bits = d.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

fn sortable_i64(i: i64) -> u64 {
    (i as u64) ^ (1 << 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_carries_and_saturates() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn nan_is_below_negative_infinity() {
        assert!(encode(&Bson::Double(f64::NAN)) < encode(&Bson::Double(f64::NEG_INFINITY)));
        assert!(encode(&Bson::Null) < encode(&Bson::Double(f64::NAN)));
    }

    #[test]
    fn large_longs_keep_exact_order() {
        let a = encode(&Bson::Int64(i64::MAX));
        let b = encode(&Bson::Int64(i64::MAX - 1));
        let c = encode(&Bson::Double(9_223_372_036_854_775_808.0));
        assert!(b < a && a < c);
        assert_eq!(encode(&Bson::Int32(1)), encode(&Bson::Double(1.0)));
        assert_eq!(encode(&Bson::Double(-0.0)), encode(&Bson::Int64(0)));
    }
}
