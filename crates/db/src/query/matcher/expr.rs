//! The parsed filter tree and its evaluation: logical nodes over path expressions, and path
//! expressions as AND/NOT trees of leaf predicates that look at a path's candidates.

use bson::{Bson, Document};

use super::predicate::Pred;
use crate::query::path::{FieldPath, any_candidate};

/// A filter over whole documents.
#[derive(Clone, Debug)]
pub enum Expr {
    /// All children match (the top level of a filter is one).
    And(Vec<Expr>),
    /// Some child matches.
    Or(Vec<Expr>),
    /// No child matches.
    Nor(Vec<Expr>),
    /// Operators applied to the values at a path.
    Path(FieldPath, ValueExpr),
    /// `$alwaysTrue` / `$alwaysFalse`.
    Const(bool),
}

impl Expr {
    /// Whether `doc` satisfies the filter.
    pub fn matches(&self, doc: &Document) -> bool {
        match self {
            Expr::And(children) => children.iter().all(|c| c.matches(doc)),
            Expr::Or(children) => children.iter().any(|c| c.matches(doc)),
            Expr::Nor(children) => !children.iter().any(|c| c.matches(doc)),
            Expr::Path(path, expr) => expr.matches_path(doc, path),
            Expr::Const(b) => *b,
        }
    }
}

/// Operators on one field: `{$gt: 1, $lt: 5}` is an And of two leaves; `$not`, `$ne`, `$nin` and
/// `$exists: false` are Nots.
#[derive(Clone, Debug)]
pub enum ValueExpr {
    /// One operator.
    Pred(Pred),
    /// All children hold.
    And(Vec<ValueExpr>),
    /// The child does not hold.
    Not(Box<ValueExpr>),
}

impl ValueExpr {
    /// At a path, each leaf independently looks for some candidate that satisfies it (so
    /// `{a: {$gt: 1, $lt: 5}}` matches `a: [0, 10]`), and a Not negates that whole search.
    pub fn matches_path(&self, doc: &Document, path: &FieldPath) -> bool {
        match self {
            ValueExpr::Pred(pred) => {
                any_candidate(doc, path, pred.leaf_arrays(), |c| pred.matches(c.value()))
            }
            ValueExpr::And(children) => children.iter().all(|c| c.matches_path(doc, path)),
            ValueExpr::Not(child) => !child.matches_path(doc, path),
        }
    }

    /// Inside `$elemMatch` (value form) the operators see each element itself, unexpanded.
    pub fn matches_value(&self, value: &Bson) -> bool {
        match self {
            ValueExpr::Pred(pred) => pred.matches(Some(value)),
            ValueExpr::And(children) => children.iter().all(|c| c.matches_value(value)),
            ValueExpr::Not(child) => !child.matches_value(value),
        }
    }
}
