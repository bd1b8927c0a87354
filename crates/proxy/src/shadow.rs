//! Shadow mode's reply comparison: what differs between the primary upstream's reply and the shadow
//! upstream's reply to the same command, ignoring what legitimately differs between two servers.
//!
//! Rules (see [`compare_replies`]): the top-level [`IGNORED_FIELDS`] are skipped; `cursor.id` only has to
//! agree on being zero (exhausted) or not; numbers compare by value across int32, int64 and double;
//! documents compare field by field whatever the order; arrays compare element by element, and a length
//! difference is one difference at the array's path whose two sides are the lengths (as int64), plus the
//! element differences up to the shorter length. At most [`MAX_DIFFERENCES`] differences are reported.

use std::fmt;

use bson::{Bson, Document};

/// Top-level reply fields that differ between servers by design (cluster time, election and topology
/// state, op times, connection ids), never compared.
pub const IGNORED_FIELDS: &[&str] = &[
    "$clusterTime",
    "operationTime",
    "electionId",
    "lastWrite",
    "$gleStats",
    "lastCommittedOpTime",
    "$configServerState",
    "$topologyTime",
    "localTime",
    "connectionId",
    "opTime",
    "topologyVersion",
    "$replData",
    "$oplogQueryData",
];

/// The most differences [`compare_replies`] reports; it stops looking after that many.
pub const MAX_DIFFERENCES: usize = 20;

/// One difference between the two replies.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyDifference {
    /// The dotted path of the differing value, e.g. `cursor.firstBatch.3.qty`.
    pub path: String,
    /// The primary's value; `None` when the primary lacks the field. For an array length difference, the
    /// primary's length.
    pub primary: Option<Bson>,
    /// The shadow's value; `None` when the shadow lacks the field. For an array length difference, the
    /// shadow's length.
    pub shadow: Option<Bson>,
}

impl fmt::Display for ReplyDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |v: &Option<Bson>| {
            v.as_ref()
                .map_or_else(|| "(missing)".to_owned(), |v| v.to_string())
        };
        write!(
            f,
            "{}: primary {} shadow {}",
            self.path,
            side(&self.primary),
            side(&self.shadow)
        )
    }
}

/// The differences between `primary`'s and `shadow`'s replies (empty when they agree), in the primary's
/// field order, then fields only the shadow has; at most [`MAX_DIFFERENCES`].
pub fn compare_replies(primary: &Document, shadow: &Document) -> Vec<ReplyDifference> {
    let mut diff = Differ { found: Vec::new() };
    diff.documents("", primary, shadow, Level::Top);
    diff.found
}

struct Differ {
    found: Vec<ReplyDifference>,
}

/// Where a document sits in the reply, which decides the fields it skips.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The reply itself: [`IGNORED_FIELDS`] are skipped and `cursor` is special.
    Top,
    /// The top-level `cursor`, whose `id` is compared apart.
    Cursor,
    /// Anything deeper: every field is compared.
    Nested,
}

impl Differ {
    fn full(&self) -> bool {
        self.found.len() >= MAX_DIFFERENCES
    }

    fn push(&mut self, path: String, primary: Option<&Bson>, shadow: Option<&Bson>) {
        if !self.full() {
            self.found.push(ReplyDifference {
                path,
                primary: primary.cloned(),
                shadow: shadow.cloned(),
            });
        }
    }

    /// Compares two documents field by field; `level` says which fields are skipped or special.
    fn documents(&mut self, prefix: &str, primary: &Document, shadow: &Document, level: Level) {
        let skipped = |key: &str| match level {
            Level::Top => IGNORED_FIELDS.contains(&key),
            Level::Cursor => key == "id",
            Level::Nested => false,
        };
        for (key, p) in primary {
            if self.full() {
                return;
            }
            if skipped(key) {
                continue;
            }
            let path = join(prefix, key);
            match shadow.get(key) {
                Some(s) if level == Level::Top && key == "cursor" => self.cursor(&path, p, s),
                Some(s) => self.values(path, p, s),
                None => self.push(path, Some(p), None),
            }
        }
        for (key, s) in shadow {
            if self.full() {
                return;
            }
            if !skipped(key) && !primary.contains_key(key) {
                self.push(join(prefix, key), None, Some(s));
            }
        }
    }

    /// The top-level `cursor`: like any document, except that `id` only has to agree on being zero.
    fn cursor(&mut self, path: &str, primary: &Bson, shadow: &Bson) {
        let (Bson::Document(p), Bson::Document(s)) = (primary, shadow) else {
            return self.values(path.to_owned(), primary, shadow);
        };
        match (p.get("id"), s.get("id")) {
            (Some(pid), Some(sid)) => match (number(pid), number(sid)) {
                (Some(a), Some(b)) if a.is_zero() == b.is_zero() => {}
                _ => self.push(join(path, "id"), Some(pid), Some(sid)),
            },
            (None, None) => {}
            (pid, sid) => self.push(join(path, "id"), pid, sid),
        }
        self.documents(path, p, s, Level::Cursor);
    }

    fn values(&mut self, path: String, primary: &Bson, shadow: &Bson) {
        match (primary, shadow) {
            (Bson::Document(p), Bson::Document(s)) => self.documents(&path, p, s, Level::Nested),
            (Bson::Array(p), Bson::Array(s)) => {
                if p.len() != s.len() {
                    let len = |a: &Vec<Bson>| Bson::Int64(i64::try_from(a.len()).unwrap_or(i64::MAX));
                    self.push(path.clone(), Some(&len(p)), Some(&len(s)));
                }
                for (i, (pe, se)) in p.iter().zip(s).enumerate() {
                    if self.full() {
                        return;
                    }
                    self.values(join(&path, &i.to_string()), pe, se);
                }
            }
            _ => {
                let equal = match (number(primary), number(shadow)) {
                    (Some(a), Some(b)) => a.equals(b),
                    _ => primary == shadow,
                };
                if !equal {
                    self.push(path, Some(primary), Some(shadow));
                }
            }
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A BSON number, for comparison by value across types.
#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Double(f64),
}

fn number(value: &Bson) -> Option<Number> {
    match value {
        Bson::Int32(n) => Some(Number::Int(i64::from(*n))),
        Bson::Int64(n) => Some(Number::Int(*n)),
        Bson::Double(d) => Some(Number::Double(*d)),
        _ => None,
    }
}

impl Number {
    fn is_zero(self) -> bool {
        match self {
            Number::Int(n) => n == 0,
            Number::Double(d) => d == 0.0,
        }
    }

    fn equals(self, other: Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            // Two NaNs are the same answer from two servers.
            (Number::Double(a), Number::Double(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Number::Int(i), Number::Double(d)) | (Number::Double(d), Number::Int(i)) => {
                int_equals_double(i, d)
            }
        }
    }
}

/// Exact: the double must be integral and in range, then the integers are compared (no rounding of i64).
fn int_equals_double(i: i64, d: f64) -> bool {
    // 2^63 as f64 is exact; every integral double in [-2^63, 2^63) converts to i64 without loss.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    d.fract() == 0.0 && (-TWO_63..TWO_63).contains(&d) && d as i64 == i
}
