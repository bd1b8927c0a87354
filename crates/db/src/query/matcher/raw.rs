//! The filter evaluated on a stored document's raw bytes: the same tree and the same leaf
//! semantics as the decoded matcher, with the path walked in place ([`crate::query::raw_path`]).
//! Strings and fixed-size scalars are compared where they lie; any other candidate (a document, an
//! array, a binary, a regex...) is decoded on its own and handed to the decoded predicate, so every
//! operator keeps exactly one definition of its meaning. Scans thus decode only what they return.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use bson::error::Error as BsonError;
use bson::{Bson, RawBsonRef, RawDocument};

use super::expr::{Expr, ValueExpr};
use super::predicate::{Pred, across_types, holds};
use crate::query::compare::canonical_type_rank;
use crate::query::path::FieldPath;
use crate::query::raw_path::{Stop, for_each_raw_candidate};

/// The canonical type rank of strings and symbols (see [`canonical_type_rank`]).
const STRING_RANK: u8 = 15;

/// Whether the raw document satisfies the filter; an error when the bytes the filter reads are
/// malformed (the caller decodes the document instead, which reports it).
pub fn matches(expr: &Expr, doc: &RawDocument) -> Result<bool, BsonError> {
    Ok(match expr {
        Expr::And(children) => {
            for child in children {
                if !matches(child, doc)? {
                    return Ok(false);
                }
            }
            true
        }
        Expr::Or(children) => {
            for child in children {
                if matches(child, doc)? {
                    return Ok(true);
                }
            }
            false
        }
        Expr::Nor(children) => {
            for child in children {
                if matches(child, doc)? {
                    return Ok(false);
                }
            }
            true
        }
        Expr::Path(path, expr) => matches_path(expr, doc, path)?,
        Expr::Const(b) => *b,
    })
}

/// [`ValueExpr::matches_path`] on raw bytes.
fn matches_path(expr: &ValueExpr, doc: &RawDocument, path: &FieldPath) -> Result<bool, BsonError> {
    match expr {
        ValueExpr::Pred(pred) => any_candidate(doc, path, pred),
        ValueExpr::And(children) => {
            for child in children {
                if !matches_path(child, doc, path)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        ValueExpr::Not(child) => Ok(!matches_path(child, doc, path)?),
    }
}

/// Whether some candidate at `path` satisfies `pred`.
fn any_candidate(doc: &RawDocument, path: &FieldPath, pred: &Pred) -> Result<bool, BsonError> {
    let flow = for_each_raw_candidate(
        doc,
        path,
        pred.leaf_arrays(),
        &mut |candidate| match pred_matches(pred, candidate) {
            Ok(true) => ControlFlow::Break(Stop::Found),
            Ok(false) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(Stop::Malformed(e)),
        },
    );
    match flow {
        ControlFlow::Continue(()) => Ok(false),
        ControlFlow::Break(Stop::Found) => Ok(true),
        ControlFlow::Break(Stop::Malformed(e)) => Err(e),
    }
}

/// [`Pred::matches`] on a raw candidate (`None` = missing).
fn pred_matches(pred: &Pred, candidate: Option<RawBsonRef<'_>>) -> Result<bool, BsonError> {
    let Some(value) = candidate else {
        return Ok(pred.matches(None));
    };
    Ok(match (pred, value) {
        (Pred::Exists, _) => true,
        (Pred::Cmp(op, rhs), RawBsonRef::String(s)) => {
            if canonical_type_rank(rhs) == STRING_RANK {
                holds(*op, compare_to_str(rhs, s).reverse())
            } else {
                across_types(*op, rhs)
            }
        }
        (Pred::In { values, regexes }, RawBsonRef::String(s)) => {
            values.binary_search_by(|probe| compare_to_str(probe, s)).is_ok()
                || regexes.iter().any(|r| r.matches_str(s))
        }
        (Pred::Regex(re), RawBsonRef::String(s)) => re.matches_str(s),
        _ => match scalar(value) {
            Some(v) => pred.matches(Some(&v)),
            None => pred.matches(Some(&Bson::try_from(value)?)),
        },
    })
}

/// `compare_bson(value, String(s))` without building the string.
fn compare_to_str(value: &Bson, s: &str) -> Ordering {
    match value {
        Bson::String(v) | Bson::Symbol(v) => v.as_bytes().cmp(s.as_bytes()),
        other => canonical_type_rank(other).cmp(&STRING_RANK),
    }
}

/// A fixed-size value as a `Bson`, which costs no allocation; `None` for everything else.
fn scalar(value: RawBsonRef<'_>) -> Option<Bson> {
    Some(match value {
        RawBsonRef::Int32(i) => Bson::Int32(i),
        RawBsonRef::Int64(i) => Bson::Int64(i),
        RawBsonRef::Double(d) => Bson::Double(d),
        RawBsonRef::Boolean(b) => Bson::Boolean(b),
        RawBsonRef::Null => Bson::Null,
        RawBsonRef::Undefined => Bson::Undefined,
        RawBsonRef::MinKey => Bson::MinKey,
        RawBsonRef::MaxKey => Bson::MaxKey,
        RawBsonRef::DateTime(d) => Bson::DateTime(d),
        RawBsonRef::ObjectId(o) => Bson::ObjectId(o),
        RawBsonRef::Timestamp(t) => Bson::Timestamp(t),
        RawBsonRef::Decimal128(d) => Bson::Decimal128(d),
        _ => return None,
    })
}
