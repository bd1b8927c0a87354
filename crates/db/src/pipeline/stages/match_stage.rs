//! `$match`: the query matcher, plus top-level `$expr` conditions evaluated as aggregation
//! expressions (so `$lookup` pipelines can compare with `let` variables).

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::expression::{Expression, Vars};
use crate::query::matcher::Matcher;

/// A parsed `$match`.
#[derive(Clone, Debug)]
pub struct MatchStage {
    matcher: Matcher,
    exprs: Vec<Expression>,
    query: Document,
}

impl MatchStage {
    /// Parses the stage's filter (15959 when it is not a document).
    pub fn parse(spec: &Bson) -> StatusResult<MatchStage> {
        let Bson::Document(filter) = spec else {
            return Err(Status::new(
                ErrorCode::Location(15959),
                "the match filter must be an expression in an object",
            ));
        };
        let mut query = Document::new();
        let mut exprs = Vec::new();
        for (key, value) in filter {
            if key == "$expr" {
                exprs.push(Expression::parse(value)?);
            } else {
                query.insert(key.clone(), value.clone());
            }
        }
        Ok(MatchStage {
            matcher: Matcher::parse(&query)?,
            exprs,
            query,
        })
    }

    /// The filter without its `$expr` conditions: what an index scan may narrow by.
    pub fn query(&self) -> &Document {
        &self.query
    }

    /// Whether the filter has `$expr` conditions (which only the pipeline can evaluate).
    pub fn has_expr(&self) -> bool {
        !self.exprs.is_empty()
    }

    /// Whether the document passes.
    pub fn matches(&self, vars: &Vars<'_>) -> StatusResult<bool> {
        if !self.matcher.matches(vars.root()) {
            return Ok(false);
        }
        for expr in &self.exprs {
            if !expr.evaluate_truthy(vars)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
