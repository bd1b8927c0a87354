//! The filter matcher: `Matcher::parse` turns a filter document into a tree of operators, with
//! mongod's error codes; `matches` evaluates it on a document with mongod's semantics (array
//! fan-out, null matching missing, type bracketing), and `matches_raw` the same on a stored
//! document's bytes without decoding it; `matched_array_position` tells a positional update (`$`)
//! which array element the match went through; `index_bounds` tells index selection what key
//! range a top-level field allows.

mod bounds;
mod elem_key;
mod expr;
mod operators;
mod parse;
mod predicate;
mod raw;
mod regex;
mod types;

use bson::error::Error as BsonError;
use bson::{Document, RawDocument};
use docwire_rpc::StatusResult;

pub use bounds::Interval;
pub use predicate::CmpOp;
pub use predicate::compare_matches;

use expr::Expr;

/// A parsed filter.
#[derive(Clone, Debug)]
pub struct Matcher {
    root: Expr,
}

impl Matcher {
    /// Parses a filter document; errors carry mongod's codes and messages.
    pub fn parse(filter: &Document) -> StatusResult<Matcher> {
        Ok(Matcher {
            root: parse::parse_filter(filter, 0)?,
        })
    }

    /// A matcher that accepts every document.
    pub fn match_all() -> Matcher {
        Matcher {
            root: Expr::And(Vec::new()),
        }
    }

    /// Whether `doc` satisfies the filter.
    pub fn matches(&self, doc: &Document) -> bool {
        self.root.matches(doc)
    }

    /// Whether a stored document satisfies the filter, read in place from its bytes (the same answer
    /// as [`Matcher::matches`] on the decoded document); an error when the bytes the filter reads are
    /// malformed.
    pub fn matches_raw(&self, doc: &RawDocument) -> Result<bool, BsonError> {
        raw::matches(&self.root, doc)
    }

    /// For a document that matches, the position of the first matching element of the array the
    /// filter matched through (mongod's elemMatchKey, which a positional update's `$` stands for);
    /// `None` when the document does not match or the match went through no array.
    pub fn matched_array_position(&self, doc: &Document) -> Option<usize> {
        elem_key::matched_position(&self.root, doc)
    }

    /// Whether the filter has no predicates (`{}` or only `$comment`), so every document matches.
    pub fn is_empty(&self) -> bool {
        matches!(&self.root, Expr::And(children) if children.is_empty())
    }

    /// The key interval a (possibly multikey) index on `field` must scan, from the predicates AND-ed
    /// at the top level on exactly that path; `None` when they narrow nothing. `$in` gives the hull
    /// of its values (see [`Matcher::index_intervals`] for the separate points).
    pub fn index_bounds(&self, field: &str) -> Option<Interval> {
        bounds::hull(&self.index_intervals(field)?)
    }

    /// Like [`Matcher::index_bounds`], as ascending disjoint intervals (one point per `$in` value).
    pub fn index_intervals(&self, field: &str) -> Option<Vec<Interval>> {
        let mut preds = Vec::new();
        bounds::field_predicates(&self.root, field, &mut preds);
        bounds::multikey_intervals(&preds)
    }

    /// The tighter interval for an index known to hold one key per document (not multikey): every
    /// equality and range on `field` intersected (`{$gte: 1, $lt: 5}` gives `[1, 5)`).
    pub fn index_bounds_single_key(&self, field: &str) -> Option<Interval> {
        let mut preds = Vec::new();
        bounds::field_predicates(&self.root, field, &mut preds);
        bounds::single_key_interval(&preds)
    }
}
