//! Dotted update paths: parsing with mongod's checks, array-index components, and the order in which
//! sibling paths are applied (which decides where new fields land).

use std::cmp::Ordering;

use docwire_rpc::{ErrorCode, Status, StatusResult};

/// Splits an update path (`a.b.0`) into components, rejecting what mongod's `isUpdatable` rejects.
/// `$`, `$[]` and `$[<identifier>]` are kept as components; an identifier must be one of `identifiers`
/// (the command's `arrayFilters`), and a path may have one `$` (which may not come first).
pub(crate) fn parse_update_path(path: &str, identifiers: &[String]) -> StatusResult<Vec<String>> {
    if path.is_empty() {
        return Err(Status::new(
            ErrorCode::EmptyFieldName,
            "An empty update path is not valid.",
        ));
    }
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) {
        return Err(Status::new(
            ErrorCode::EmptyFieldName,
            format!("The update path '{path}' contains an empty field name, which is not allowed."),
        ));
    }
    for (i, part) in parts.iter().enumerate() {
        if part == "$" {
            if i == 0 {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    format!(
                        "Cannot have positional (i.e. '$') element in the first position in path '{path}'"
                    ),
                ));
            }
            if parts[..i].iter().any(|earlier| earlier == "$") {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    format!("Too many positional (i.e. '$') elements found in path '{path}'"),
                ));
            }
        }
        if let Some(identifier) = array_filter_identifier(part) {
            if i == 0 {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    format!(
                        "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '{path}'"
                    ),
                ));
            }
            if !identifier.is_empty() && !identifiers.iter().any(|known| known == identifier) {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    format!("No array filter found for identifier '{identifier}' in path '{path}'"),
                ));
            }
        }
    }
    Ok(parts)
}

/// For `$[]` the empty identifier, for `$[x]` `x`; `None` for any other component.
pub(crate) fn array_filter_identifier(part: &str) -> Option<&str> {
    part.strip_prefix("$[").and_then(|rest| rest.strip_suffix(']'))
}

/// Whether a path has a `$`, `$[]` or `$[<identifier>]` component.
pub(crate) fn is_dynamic(path: &[String]) -> bool {
    path.iter()
        .any(|part| part == "$" || array_filter_identifier(part).is_some())
}

/// A component as an array index (mongod accepts any run of decimal digits).
pub(crate) fn array_index(part: &str) -> Option<usize> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// mongod's `cmpPathsAndArrayIndexes`: two array indexes compare as numbers, anything else as bytes.
pub(crate) fn compare_components(a: &str, b: &str) -> Ordering {
    let canonical_index =
        |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical_index(a) && canonical_index(b) {
        return a.len().cmp(&b.len()).then_with(|| a.cmp(b));
    }
    a.as_bytes().cmp(b.as_bytes())
}

/// Whether `prefix` is a (non-strict) component-wise prefix of `path`.
pub(crate) fn is_prefix(prefix: &[String], path: &[String]) -> bool {
    prefix.len() <= path.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}
