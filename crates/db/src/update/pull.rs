//! `$pull`'s condition, in mongod's three forms: a query on embedded documents (`{size: "L"}`), an
//! operator expression on the elements themselves (`{$gte: 6}`, or a regex), or a plain value that
//! must be equal.

use bson::{Bson, Document, doc};
use docwire_rpc::StatusResult;

use crate::query::compare::bson_equal;
use crate::query::matcher::Matcher;

/// How `$pull` decides which elements to remove.
#[derive(Debug, Clone)]
pub(crate) enum PullCondition {
    /// A document whose first field is not an operator: elements that are documents matching it.
    Object(Matcher),
    /// An operator expression or regex, matched against each element wrapped as `{"": element}`.
    Wrapped(Matcher),
    /// Any other value: elements equal to it.
    Equality(Bson),
}

impl PullCondition {
    /// Parses `$pull`'s value.
    pub(crate) fn parse(value: &Bson) -> StatusResult<PullCondition> {
        match value {
            Bson::Document(d) if !first_is_operator(d) => Ok(PullCondition::Object(Matcher::parse(d)?)),
            Bson::Document(_) | Bson::RegularExpression(_) => {
                Ok(PullCondition::Wrapped(Matcher::parse(&doc! {"": value.clone()})?))
            }
            other => Ok(PullCondition::Equality(other.clone())),
        }
    }

    /// Whether `element` is to be removed.
    pub(crate) fn matches(&self, element: &Bson) -> bool {
        match self {
            PullCondition::Object(matcher) => match element {
                Bson::Document(d) => matcher.matches(d),
                _ => false,
            },
            PullCondition::Wrapped(matcher) => matcher.matches(&doc! {"": element.clone()}),
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
