//! `$replaceRoot: {newRoot: <expr>}` and `$replaceWith: <expr>`: the document becomes the value of
//! an expression, which must be a document (40228).

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::expression::value::type_name;
use crate::pipeline::expression::{Expression, Vars};

/// A parsed `$replaceRoot` or `$replaceWith`.
#[derive(Clone, Debug)]
pub struct ReplaceRoot {
    new_root: Expression,
}

impl ReplaceRoot {
    /// Parses `$replaceRoot`'s `{newRoot: <expr>}`.
    pub fn parse_replace_root(spec: &Bson) -> StatusResult<ReplaceRoot> {
        let Bson::Document(spec) = spec else {
            return Err(Status::new(
                ErrorCode::Location(10065),
                "invalid parameter: expected an object ($replaceRoot)",
            ));
        };
        let mut new_root = None;
        for (key, value) in spec {
            if key != "newRoot" {
                return Err(Status::new(
                    ErrorCode::Location(40415),
                    format!("BSON field '$replaceRoot.{key}' is an unknown field."),
                ));
            }
            new_root = Some(Expression::parse(value)?);
        }
        let new_root = new_root.ok_or_else(|| {
            Status::new(
                ErrorCode::Location(40414),
                "BSON field '$replaceRoot.newRoot' is missing but a required field",
            )
        })?;
        Ok(ReplaceRoot { new_root })
    }

    /// Parses `$replaceWith`'s expression.
    pub fn parse_replace_with(spec: &Bson) -> StatusResult<ReplaceRoot> {
        Ok(ReplaceRoot {
            new_root: Expression::parse(spec)?,
        })
    }

    /// The replacement document.
    pub fn apply(&self, vars: &Vars<'_>) -> StatusResult<Document> {
        match self.new_root.evaluate(vars)? {
            Some(Bson::Document(d)) => Ok(d),
            other => Err(Status::new(
                ErrorCode::Location(40228),
                format!(
                    "'newRoot' expression must evaluate to an object, but resulting value was: {}. \
                     Type of resulting value: '{}'. Input document: {}",
                    other.as_ref().map_or("MISSING".to_owned(), ToString::to_string),
                    type_name(other.as_ref()),
                    vars.root()
                ),
            )),
        }
    }
}
