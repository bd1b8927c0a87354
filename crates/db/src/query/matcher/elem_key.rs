//! The matched array position a positional update (`a.$`) needs: mongod's `MatchDetails` elemMatchKey.
//! A second, recording evaluation of the filter, run only by updates whose paths use `$` and only on
//! a document already known to match, so finds keep the plain (and raw-bytes) evaluation.
//!
//! As in mongod, a leaf that matches a value reached through an array records the position in the
//! outermost array on its path; `$elemMatch` on an array that is not itself inside an array records
//! the first element that satisfies it. Every leaf of the top-level `$and` (several operators on one
//! field included) records, in the order of mongod's canonical query, and the last one that went
//! through an array wins; `$or`, `$nor` and negations record nothing (mongod evaluates them without
//! match details).

use bson::{Bson, Document};

use super::expr::{Expr, ValueExpr};
use super::predicate::{CmpOp, Pred};
use crate::query::path::{FieldPath, LeafArrays, array_index};

/// For a document `expr` matches, the position its match went through, recorded as mongod does on
/// its canonical (flattened and sorted) filter; `None` when `doc` does not match or no leaf recorded.
pub fn matched_position(expr: &Expr, doc: &Document) -> Option<usize> {
    if !expr.matches(doc) {
        return None;
    }
    let mut leaves = Vec::new();
    recording_leaves(expr, &mut leaves);
    // mongod's sortTree: children ordered by match type, then path (a stable sort), and each
    // recording leaf overwrites the key, so the last one in this order that records wins.
    leaves.sort_by(|a, b| {
        match_type_rank(a.1)
            .cmp(&match_type_rank(b.1))
            .then_with(|| a.0.dotted().as_bytes().cmp(b.0.dotted().as_bytes()))
    });
    let mut key = None;
    for (path, pred) in leaves {
        let mut found = None;
        walk_document(doc, path.parts(), pred, None, &mut found);
        if let Some(position) = found.flatten() {
            key = Some(position);
        }
    }
    key
}

/// The leaves of the filter's (flattened) top-level AND; `$or`, `$nor` and negations are left out.
fn recording_leaves<'e>(expr: &'e Expr, out: &mut Vec<(&'e FieldPath, &'e Pred)>) {
    match expr {
        Expr::And(children) => children.iter().for_each(|c| recording_leaves(c, out)),
        Expr::Path(path, value_expr) => value_leaves(path, value_expr, out),
        // mongod's optimiser replaces a one-clause `$or` by its clause.
        Expr::Or(children) if children.len() == 1 => children.iter().for_each(|c| recording_leaves(c, out)),
        Expr::Or(_) | Expr::Nor(_) | Expr::Const(_) => {}
    }
}

fn value_leaves<'e>(path: &'e FieldPath, expr: &'e ValueExpr, out: &mut Vec<(&'e FieldPath, &'e Pred)>) {
    match expr {
        ValueExpr::Pred(pred) => out.push((path, pred)),
        ValueExpr::And(children) => children.iter().for_each(|c| value_leaves(path, c, out)),
        ValueExpr::Not(_) => {}
    }
}

/// The position of the operator's kind in mongod's `MatchExpression::MatchType` enum (a one-value
/// `$in` is an equality after mongod's optimisation).
fn match_type_rank(pred: &Pred) -> u8 {
    match pred {
        Pred::ElemMatchObject(_) => 2,
        Pred::ElemMatchValue(_) => 3,
        Pred::Size(_) => 4,
        Pred::Cmp(CmpOp::Eq, _) => 5,
        Pred::Cmp(CmpOp::Lte, _) => 6,
        Pred::Cmp(CmpOp::Lt, _) => 7,
        Pred::Cmp(CmpOp::Gt, _) => 8,
        Pred::Cmp(CmpOp::Gte, _) => 9,
        Pred::Regex(_) => 10,
        Pred::Mod(..) => 11,
        Pred::Exists => 12,
        Pred::In { values, regexes } => match (values.len(), regexes.len()) {
            (1, 0) => 5,
            (0, 1) => 10,
            _ => 13,
        },
        Pred::Type(_) => 21,
        Pred::Never => 25,
    }
}

/// A walk of the path (the same candidates as [`crate::query::path::for_each_candidate`]) that
/// carries `outer`, the position in the outermost array crossed so far; on the first candidate that
/// satisfies `pred` it stores that candidate's position (or `None`) in `found` and returns true.
fn walk_document(
    doc: &Document,
    parts: &[String],
    pred: &Pred,
    outer: Option<usize>,
    found: &mut Option<Option<usize>>,
) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return false;
    };
    match doc.get(first) {
        None => candidate(pred, None, outer, found),
        Some(value) => walk_value(value, rest, pred, outer, found),
    }
}

fn walk_value(
    value: &Bson,
    rest: &[String],
    pred: &Pred,
    outer: Option<usize>,
    found: &mut Option<Option<usize>>,
) -> bool {
    if rest.is_empty() {
        if let (Bson::Array(items), LeafArrays::Expand) = (value, pred.leaf_arrays()) {
            for (i, item) in items.iter().enumerate() {
                if candidate(pred, Some(item), outer.or(Some(i)), found) {
                    return true;
                }
            }
        }
        if let (Bson::Array(items), None) = (value, outer)
            && let Some(first) = first_elem_match(pred, items)
        {
            // `$elemMatch` on an array outside any other reports which element satisfied it.
            *found = Some(first);
            return true;
        }
        return candidate(pred, Some(value), outer, found);
    }
    match value {
        Bson::Document(doc) => walk_document(doc, rest, pred, outer, found),
        Bson::Array(items) => walk_array(items, rest, pred, outer, found),
        _ => candidate(pred, None, outer, found),
    }
}

fn walk_array(
    items: &[Bson],
    parts: &[String],
    pred: &Pred,
    outer: Option<usize>,
    found: &mut Option<Option<usize>>,
) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return false;
    };
    let index = array_index(first);
    for (i, item) in items.iter().enumerate() {
        if let Bson::Document(doc) = item
            && walk_document(doc, parts, pred, outer.or(Some(i)), found)
        {
            return true;
        }
        if index != Some(i) {
            continue;
        }
        // An element named by a numeric component is reached directly, not by crossing the array.
        let matched = match item {
            _ if rest.is_empty() => candidate(pred, Some(item), outer, found),
            Bson::Document(doc) => walk_document(doc, rest, pred, outer, found),
            Bson::Array(nested) => walk_array(nested, rest, pred, outer, found),
            _ => false,
        };
        if matched {
            return true;
        }
    }
    false
}

/// Tests one candidate; on a match remembers its position.
fn candidate(
    pred: &Pred,
    value: Option<&Bson>,
    position: Option<usize>,
    found: &mut Option<Option<usize>>,
) -> bool {
    if pred.matches(value) {
        *found = Some(position);
        return true;
    }
    false
}

/// For `$elemMatch`, the position of the first element that satisfies it (`None` for other operators
/// or when no element does, which the caller then tests as a whole as usual).
fn first_elem_match(pred: &Pred, items: &[Bson]) -> Option<Option<usize>> {
    let position = match pred {
        Pred::ElemMatchObject(filter) => items
            .iter()
            .position(|item| matches!(item, Bson::Document(d) if filter.matches(d))),
        Pred::ElemMatchValue(expr) => items.iter().position(|item| expr.matches_value(item)),
        _ => None,
    };
    position.map(Some)
}
