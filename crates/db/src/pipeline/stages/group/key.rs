//! Hashing values consistently with mongod's equality (`1`, `1.0` and `NumberLong(1)` hash alike),
//! and a set of values built on it, for `$group` keys and `$addToSet`.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use bson::Bson;

use crate::query::compare::{as_f64, bson_equal, canonical_type_rank};

fn hash_into(value: &Bson, h: &mut DefaultHasher) {
    canonical_type_rank(value).hash(h);
    match value {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            let f = as_f64(value);
            // Values that compare equal must hash equal: -0.0 == 0.0 and NaN == NaN.
            let f = if f == 0.0 || f.is_nan() { 0.0 } else { f };
            f.to_bits().hash(h);
        }
        Bson::String(s) | Bson::Symbol(s) => s.hash(h),
        Bson::Document(d) => {
            for (k, v) in d {
                k.hash(h);
                hash_into(v, h);
            }
        }
        Bson::Array(items) => {
            items.len().hash(h);
            items.iter().for_each(|v| hash_into(v, h));
        }
        Bson::ObjectId(id) => id.bytes().hash(h),
        Bson::Boolean(b) => b.hash(h),
        Bson::DateTime(d) => d.timestamp_millis().hash(h),
        // Rarer types only hash their rank; equality checks tell them apart.
        _ => {}
    }
}

/// The hash of a value under mongod's equality.
pub fn hash_value(value: &Bson) -> u64 {
    let mut h = DefaultHasher::new();
    hash_into(value, &mut h);
    h.finish()
}

/// Distinct values in first-seen order, compared with mongod's equality.
#[derive(Clone, Debug, Default)]
pub struct ValueSet {
    buckets: HashMap<u64, Vec<usize>>,
    values: Vec<Bson>,
}

impl ValueSet {
    /// The position of `value`, inserting it when new; the flag tells whether it was new.
    pub fn insert(&mut self, value: Bson) -> (usize, bool) {
        let bucket = self.buckets.entry(hash_value(&value)).or_default();
        if let Some(&i) = bucket.iter().find(|&&i| bson_equal(&self.values[i], &value)) {
            return (i, false);
        }
        let i = self.values.len();
        bucket.push(i);
        self.values.push(value);
        (i, true)
    }

    /// The values, in first-seen order.
    pub fn into_values(self) -> Vec<Bson> {
        self.values
    }
}
