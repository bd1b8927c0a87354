//! Index bounds: the key interval a filter allows on one top-level field, for choosing and scanning
//! an index. Bounds are a superset: the caller still applies the full matcher to fetched documents.

use std::cmp::Ordering;
use std::ops::Bound;

use bson::{Bson, Document, Timestamp, oid::ObjectId};

use super::expr::{Expr, ValueExpr};
use super::predicate::{CmpOp, Pred};
use crate::query::compare::{as_f64, compare_bson};

/// A range of index key values.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// The lower end.
    pub lower: Bound<Bson>,
    /// The upper end.
    pub upper: Bound<Bson>,
}

impl Interval {
    /// The single value `v`.
    pub fn point(v: Bson) -> Interval {
        Interval {
            lower: Bound::Included(v.clone()),
            upper: Bound::Included(v),
        }
    }

    /// Whether the interval is a single value.
    pub fn is_point(&self) -> bool {
        matches!((&self.lower, &self.upper), (Bound::Included(a), Bound::Included(b))
            if compare_bson(a, b) == Ordering::Equal)
    }

    /// Whether `v` lies inside, in BSON order.
    pub fn contains(&self, v: &Bson) -> bool {
        let above = match &self.lower {
            Bound::Included(l) => compare_bson(v, l) != Ordering::Less,
            Bound::Excluded(l) => compare_bson(v, l) == Ordering::Greater,
            Bound::Unbounded => true,
        };
        let below = match &self.upper {
            Bound::Included(u) => compare_bson(v, u) != Ordering::Greater,
            Bound::Excluded(u) => compare_bson(v, u) == Ordering::Less,
            Bound::Unbounded => true,
        };
        above && below
    }

    /// The overlap of two intervals (possibly empty, i.e. lower above upper).
    pub fn intersect(&self, other: &Interval) -> Interval {
        Interval {
            lower: tighter(&self.lower, &other.lower, Ordering::Greater),
            upper: tighter(&self.upper, &other.upper, Ordering::Less),
        }
    }
}

/// The bound that is further in direction `toward` (Greater for lower bounds, Less for upper).
fn tighter(a: &Bound<Bson>, b: &Bound<Bson>, toward: Ordering) -> Bound<Bson> {
    match (a, b) {
        (Bound::Unbounded, x) | (x, Bound::Unbounded) => x.clone(),
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            match compare_bson(x, y) {
                Ordering::Equal if matches!(a, Bound::Excluded(_)) => a.clone(),
                Ordering::Equal => b.clone(),
                ord if ord == toward => a.clone(),
                _ => b.clone(),
            }
        }
    }
}

/// The leaf predicates AND-ed at the top level of `root` on exactly `field`.
pub fn field_predicates<'a>(root: &'a Expr, field: &str, out: &mut Vec<&'a Pred>) {
    match root {
        Expr::And(children) => children.iter().for_each(|c| field_predicates(c, field, out)),
        Expr::Path(path, expr) if path.dotted() == field => value_predicates(expr, out),
        _ => {}
    }
}

fn value_predicates<'a>(expr: &'a ValueExpr, out: &mut Vec<&'a Pred>) {
    match expr {
        ValueExpr::Pred(p) => out.push(p),
        ValueExpr::And(children) => children.iter().for_each(|c| value_predicates(c, out)),
        // A negation allows keys anywhere; it narrows nothing.
        ValueExpr::Not(_) => {}
    }
}

/// Intervals safe on a multikey index: an equality, else `$in`'s points, else the first range
/// predicate alone (two ranges may be satisfied by different elements of one array).
pub fn multikey_intervals(preds: &[&Pred]) -> Option<Vec<Interval>> {
    if let Some(v) = preds.iter().find_map(|p| match p {
        Pred::Cmp(CmpOp::Eq, v) if pointable(v) => Some(v),
        _ => None,
    }) {
        return Some(vec![Interval::point(v.clone())]);
    }
    if let Some(points) = preds.iter().find_map(|p| in_points(p)) {
        return Some(points);
    }
    preds.iter().find_map(|p| range_interval(p)).map(|i| vec![i])
}

/// One interval for a single-valued (non-multikey) index: every equality and range intersected.
pub fn single_key_interval(preds: &[&Pred]) -> Option<Interval> {
    let mut result: Option<Interval> = None;
    for pred in preds {
        let interval = match pred {
            Pred::Cmp(CmpOp::Eq, v) if pointable(v) => Some(Interval::point(v.clone())),
            _ => range_interval(pred),
        };
        if let Some(i) = interval {
            result = Some(match result {
                None => i,
                Some(r) => r.intersect(&i),
            });
        }
    }
    result.or_else(|| preds.iter().find_map(|p| in_points(p)).and_then(|v| hull(&v)))
}

/// The smallest single interval covering `intervals` (sorted ascending).
pub fn hull(intervals: &[Interval]) -> Option<Interval> {
    Some(Interval {
        lower: intervals.first()?.lower.clone(),
        upper: intervals.last()?.upper.clone(),
    })
}

fn in_points(pred: &Pred) -> Option<Vec<Interval>> {
    match pred {
        Pred::In { values, regexes } if regexes.is_empty() && values.iter().all(pointable) => {
            let mut points: Vec<Interval> = Vec::with_capacity(values.len());
            for v in values {
                // Values are sorted; 1 and 1.0 are one key.
                if !points.last().is_some_and(|p| p.contains(v)) {
                    points.push(Interval::point(v.clone()));
                }
            }
            Some(points)
        }
        _ => None,
    }
}

fn range_interval(pred: &Pred) -> Option<Interval> {
    let Pred::Cmp(op, v) = pred else {
        return None;
    };
    if as_f64(v).is_nan() && matches!(v, Bson::Double(_) | Bson::Decimal128(_)) {
        return None;
    }
    let (low, high) = type_bracket(v)?;
    let v = v.clone();
    Some(match op {
        CmpOp::Eq => return None,
        CmpOp::Gt => Interval {
            lower: Bound::Excluded(v),
            upper: high,
        },
        CmpOp::Gte => Interval {
            lower: Bound::Included(v),
            upper: high,
        },
        CmpOp::Lt => Interval {
            lower: low,
            upper: Bound::Excluded(v),
        },
        CmpOp::Lte => Interval {
            lower: low,
            upper: Bound::Included(v),
        },
    })
}

/// The key range holding every value of `v`'s canonical type (comparisons never cross types).
fn type_bracket(v: &Bson) -> Option<(Bound<Bson>, Bound<Bson>)> {
    use Bound::{Excluded, Included};
    Some(match v {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => (
            Included(Bson::Double(f64::NEG_INFINITY)),
            Included(Bson::Double(f64::INFINITY)),
        ),
        Bson::String(_) | Bson::Symbol(_) => (
            Included(Bson::String(String::new())),
            Excluded(Bson::Document(Document::new())),
        ),
        Bson::Document(_) => (
            Included(Bson::Document(Document::new())),
            Excluded(Bson::Array(Vec::new())),
        ),
        Bson::ObjectId(_) => (
            Included(Bson::ObjectId(ObjectId::from_bytes([0; 12]))),
            Included(Bson::ObjectId(ObjectId::from_bytes([0xFF; 12]))),
        ),
        Bson::Boolean(_) => (Included(Bson::Boolean(false)), Included(Bson::Boolean(true))),
        Bson::DateTime(_) => (
            Included(Bson::DateTime(bson::DateTime::MIN)),
            Included(Bson::DateTime(bson::DateTime::MAX)),
        ),
        Bson::Timestamp(_) => (
            Included(Bson::Timestamp(Timestamp {
                time: 0,
                increment: 0,
            })),
            Included(Bson::Timestamp(Timestamp {
                time: u32::MAX,
                increment: u32::MAX,
            })),
        ),
        _ => return None,
    })
}

/// Whether an equality on `v` is exactly the index keys equal to `v`. Null also matches missing
/// fields and arrays match element-wise, so neither is a plain point; regexes never compare.
fn pointable(v: &Bson) -> bool {
    !matches!(
        v,
        Bson::Null | Bson::Undefined | Bson::Array(_) | Bson::RegularExpression(_)
    )
}
