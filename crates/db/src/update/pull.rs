//! `$pull`'s condition, in mongod's three forms: a query on embedded documents (`{size: "L"}`), an
//! operator expression on the elements themselves (`{$gte: 6}`, or a regex), or a plain value that
//! must be equal.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::query::compare::bson_equal;

/// How `$pull` decides which elements to remove.
#[derive(Debug, Clone)]
pub(crate) enum PullCondition {
    /// Any other value: elements equal to it.
    Equality(Bson),
}

impl PullCondition {
    /// Parses `$pull`'s value.
    pub(crate) fn parse(value: &Bson) -> StatusResult<PullCondition> {
        match value {
            Bson::Document(d) if !first_is_operator(d) => Err(no_matcher()),
            Bson::Document(_) | Bson::RegularExpression(_) => Err(no_matcher()),
            other => Ok(PullCondition::Equality(other.clone())),
        }
    }

    /// Whether `element` is to be removed.
    pub(crate) fn matches(&self, element: &Bson) -> bool {
        match self {
            PullCondition::Equality(value) => bson_equal(element, value),
        }
    }
}

/// mongod's `parsePathAcceptingKeyword` on the first field: `$`-operators (other than the
/// expression-level ones such as `$and`, which make the object a query on embedded fields).
fn first_is_operator(d: &Document) -> bool {
    match d.keys().next() {
        Some(key) => {
            key.starts_with('$')
                && !matches!(
                    key.as_str(),
                    "$and" | "$or" | "$nor" | "$expr" | "$where" | "$text" | "$comment" | "$jsonSchema"
                )
        }
        None => false,
    }
}

/// Until the query matcher lands, condition forms are refused rather than misapplied.
fn no_matcher() -> Status {
    Status::new(
        ErrorCode::BadValue,
        "$pull with a query condition is not supported yet",
    )
}
