//! The command's `arrayFilters`: one filter per `$[<identifier>]`, parsed with mongod's rules and
//! evaluated against an array element as the filter's top-level field.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::query::matcher::Matcher;

/// The parsed `arrayFilters`, by identifier.
#[derive(Debug, Clone, Default)]
pub(crate) struct ArrayFilters {
    filters: Vec<(String, Matcher)>,
}

impl ArrayFilters {
    /// Parses the filters: each names one identifier (its top-level field, or the first component of
    /// it) which must be a lowercase letter then letters and digits, and no identifier twice.
    pub(crate) fn parse(filters: &[Document]) -> StatusResult<ArrayFilters> {
        let mut parsed: Vec<(String, Matcher)> = Vec::with_capacity(filters.len());
        for filter in filters {
            let matcher = Matcher::parse(filter)?;
            let mut names = Vec::new();
            top_level_names(filter, &mut names);
            let Some(identifier) = names.first().cloned() else {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "Cannot use an expression without a top-level field name in arrayFilters",
                ));
            };
            if let Some(other) = names.iter().find(|n| **n != identifier) {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    format!(
                        "Error parsing array filter :: caused by :: Expected a single top-level field name, found '{identifier}' and '{other}'"
                    ),
                ));
            }
            if !is_valid_identifier(&identifier) {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    format!(
                        "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '{identifier}'"
                    ),
                ));
            }
            if parsed.iter().any(|(known, _)| *known == identifier) {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    format!("Found multiple array filters with the same top-level field name {identifier}"),
                ));
            }
            parsed.push((identifier, matcher));
        }
        Ok(ArrayFilters { filters: parsed })
    }

    /// The identifiers, in the order the filters came.
    pub(crate) fn identifiers(&self) -> Vec<String> {
        self.filters.iter().map(|(id, _)| id.clone()).collect()
    }

    /// Whether `element` passes the filter for `identifier` (`$[]`, the empty identifier, passes
    /// everything; an unknown identifier nothing).
    pub(crate) fn matches(&self, identifier: &str, element: &Bson) -> bool {
        if identifier.is_empty() {
            return true;
        }
        self.filters
            .iter()
            .find(|(id, _)| id == identifier)
            .is_some_and(|(id, matcher)| {
                let mut wrapped = Document::new();
                wrapped.insert(id.clone(), element.clone());
                matcher.matches(&wrapped)
            })
    }
}

/// The first components of the fields a filter tests, looking into `$and`, `$or` and `$nor`.
fn top_level_names(filter: &Document, out: &mut Vec<String>) {
    for (key, value) in filter {
        if let Some(op) = key.strip_prefix('$') {
            if matches!(op, "and" | "or" | "nor")
                && let Bson::Array(items) = value
            {
                for item in items {
                    if let Bson::Document(d) = item {
                        top_level_names(d, out);
                    }
                }
            }
            continue;
        }
        let first = key.split('.').next().unwrap_or_default();
        out.push(first.to_owned());
    }
}

/// mongod's rule for an identifier: a lowercase ASCII letter, then ASCII letters and digits.
fn is_valid_identifier(identifier: &str) -> bool {
    let mut chars = identifier.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}
