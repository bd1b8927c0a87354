//! Leaf predicates: what one operator ($eq, $gt, $in, $regex, $type, $size...) says about a single
//! candidate value, including mongod's type bracketing and its null/missing and NaN special cases.

use std::cmp::Ordering;

use bson::Bson;

use super::expr::{Expr, ValueExpr};
use super::regex::QueryRegex;
use super::types::TypeSet;
use crate::query::compare::{as_f64, canonical_type_rank, compare_bson};
use crate::query::path::LeafArrays;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `$eq` (and implicit equality).
    Eq,
    /// `$lt`.
    Lt,
    /// `$lte`.
    Lte,
    /// `$gt`.
    Gt,
    /// `$gte`.
    Gte,
}

/// One operator applied to one candidate.
#[derive(Clone, Debug)]
pub enum Pred {
    /// A comparison against a constant, type-bracketed.
    Cmp(CmpOp, Bson),
    /// `$in`: equalities (sorted in BSON order for binary search) and regexes.
    In {
        /// The equality values, sorted by `compare_bson`.
        values: Vec<Bson>,
        /// The regex entries.
        regexes: Vec<QueryRegex>,
    },
    /// `$regex` or a regex literal.
    Regex(QueryRegex),
    /// `$exists: true` (false is its negation).
    Exists,
    /// `$type`.
    Type(TypeSet),
    /// `$mod: [divisor, remainder]`.
    Mod(i64, i64),
    /// `$size`.
    Size(usize),
    /// `$elemMatch` with a filter over document elements.
    ElemMatchObject(Box<Expr>),
    /// `$elemMatch` with operators over each element's value.
    ElemMatchValue(Box<ValueExpr>),
    /// Matches nothing (`$all: []`).
    Never,
}

impl Pred {
    /// How this operator sees an array at the end of the path.
    pub fn leaf_arrays(&self) -> LeafArrays {
        match self {
            Pred::Size(_) | Pred::ElemMatchObject(_) | Pred::ElemMatchValue(_) | Pred::Exists => {
                LeafArrays::Whole
            }
            _ => LeafArrays::Expand,
        }
    }

    /// Whether the candidate (`None` = missing) satisfies the operator.
    pub fn matches(&self, candidate: Option<&Bson>) -> bool {
        match self {
            Pred::Cmp(op, rhs) => compare_matches(*op, candidate, rhs),
            Pred::In { values, regexes } => match candidate {
                None => values.iter().any(|v| matches!(v, Bson::Null)),
                Some(v) => {
                    values.binary_search_by(|probe| compare_bson(probe, v)).is_ok()
                        || regexes.iter().any(|r| r.matches(v))
                }
            },
            Pred::Regex(re) => candidate.is_some_and(|v| re.matches(v)),
            Pred::Exists => candidate.is_some(),
            Pred::Type(set) => candidate.is_some_and(|v| set.contains(v)),
            Pred::Mod(divisor, remainder) => candidate
                .and_then(truncated)
                .is_some_and(|n| n.wrapping_rem(*divisor) == *remainder),
            Pred::Size(n) => matches!(candidate, Some(Bson::Array(items)) if items.len() == *n),
            Pred::ElemMatchObject(filter) => match candidate {
                Some(Bson::Array(items)) => items
                    .iter()
                    .any(|item| matches!(item, Bson::Document(d) if filter.matches(d))),
                _ => false,
            },
            Pred::ElemMatchValue(expr) => match candidate {
                Some(Bson::Array(items)) => items.iter().any(|item| expr.matches_value(item)),
                _ => false,
            },
            Pred::Never => false,
        }
    }
}

/// mongod's `ComparisonMatchExpressionBase::matchesSingleElement`: values of different canonical
/// types never compare, except that a missing field equals null for the inclusive operators and
/// MinKey/MaxKey bound everything; NaN equals only NaN and is neither less nor greater than anything.
pub fn compare_matches(op: CmpOp, candidate: Option<&Bson>, rhs: &Bson) -> bool {
    let inclusive = matches!(op, CmpOp::Eq | CmpOp::Lte | CmpOp::Gte);
    let Some(value) = candidate else {
        return match rhs {
            Bson::Null => inclusive,
            Bson::MaxKey => matches!(op, CmpOp::Lt | CmpOp::Lte),
            Bson::MinKey => matches!(op, CmpOp::Gt | CmpOp::Gte),
            _ => false,
        };
    };
    if canonical_type_rank(value) != canonical_type_rank(rhs) {
        return across_types(op, rhs);
    }
    if is_number(value) {
        let (a, b) = (as_f64(value).is_nan(), as_f64(rhs).is_nan());
        if a || b {
            return a && b && inclusive;
        }
    }
    holds(op, compare_bson(value, rhs))
}

/// A comparison between values of different canonical types: only MinKey and MaxKey bound others.
pub(super) fn across_types(op: CmpOp, rhs: &Bson) -> bool {
    match rhs {
        Bson::MaxKey => matches!(op, CmpOp::Lt | CmpOp::Lte),
        Bson::MinKey => matches!(op, CmpOp::Gt | CmpOp::Gte),
        _ => false,
    }
}

/// Whether `op` holds between a candidate and the operand, given how they compare.
pub(super) fn holds(op: CmpOp, ord: Ordering) -> bool {
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Lte => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Gte => ord != Ordering::Less,
    }
}

fn is_number(v: &Bson) -> bool {
    matches!(
        v,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
    )
}

/// A number truncated toward zero, as `$mod` sees it (non-finite doubles never match).
fn truncated(v: &Bson) -> Option<i64> {
    match v {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        Bson::Double(_) | Bson::Decimal128(_) => {
            let d = as_f64(v);
            // `as` saturates out-of-range values, which is what mongod's numberLong() does.
            d.is_finite().then(|| d.trunc() as i64)
        }
        _ => None,
    }
}
