//! The array operators' arguments and effects: `$push` (with `$each`, `$slice`, `$sort`, `$position`),
//! `$addToSet`, `$pop` and `$pullAll`. (`$pull`'s conditions live in `pull.rs`.)

use std::cmp::Ordering;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::format::{element_string, type_name};
use crate::query::compare::{bson_equal, compare_bson};

/// A parsed `$push` argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PushSpec {
    values: Vec<Bson>,
    slice: Option<i64>,
    sort: Option<PushSort>,
    position: Option<i64>,
}

/// `$sort` in `$push`: the whole element, or fields of embedded documents; `true` = descending.
#[derive(Debug, Clone, PartialEq)]
enum PushSort {
    Whole { descending: bool },
    Fields(Vec<(String, bool)>),
}

fn bad_value(reason: impl Into<String>) -> Status {
    Status::new(ErrorCode::BadValue, reason)
}

/// mongod's `parseIntegerElementToLong`: an integral number of any numeric type.
pub(crate) fn integer_value(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        Bson::Double(d) if d.fract() == 0.0 && d.abs() < 9.2e18 => Some(*d as i64),
        Bson::Decimal128(d) => {
            let parsed: f64 = d.to_string().parse().ok()?;
            (parsed.fract() == 0.0 && parsed.abs() < 9.2e18).then_some(parsed as i64)
        }
        _ => None,
    }
}

impl PushSpec {
    /// Parses `$push`'s value: a plain value to append, or `{$each: [...], $slice, $sort, $position}`.
    pub(crate) fn parse(value: &Bson) -> StatusResult<PushSpec> {
        let modifiers = match value {
            Bson::Document(d) if d.contains_key("$each") => d,
            other => {
                return Ok(PushSpec {
                    values: vec![other.clone()],
                    slice: None,
                    sort: None,
                    position: None,
                });
            }
        };
        for key in modifiers.keys() {
            if !matches!(key.as_str(), "$each" | "$slice" | "$sort" | "$position") {
                return Err(bad_value(format!("Unrecognized clause in $push: {key}")));
            }
        }
        let values = match modifiers.get("$each") {
            Some(Bson::Array(items)) => items.clone(),
            Some(other) => {
                return Err(bad_value(format!(
                    "The argument to $each in $push must be an array but it was of type: {}",
                    type_name(other)
                )));
            }
            None => Vec::new(),
        };
        let slice = match modifiers.get("$slice") {
            None => None,
            Some(v) => Some(integer_value(v).ok_or_else(|| {
                bad_value(format!(
                    "The value for $slice must be an integer value but was given type: {}",
                    type_name(v)
                ))
            })?),
        };
        let sort = modifiers.get("$sort").map(parse_sort).transpose()?;
        let position = match modifiers.get("$position") {
            None => None,
            Some(v) => Some(integer_value(v).ok_or_else(|| {
                bad_value(format!(
                    "The value for $position must be an integer value, not of type: {}",
                    type_name(v)
                ))
            })?),
        };
        Ok(PushSpec {
            values,
            slice,
            sort,
            position,
        })
    }

    /// Applies the push to an array; returns whether it changed.
    pub(crate) fn apply(&self, array: &mut Vec<Bson>) -> bool {
        let mut changed = !self.values.is_empty();
        let len = array.len() as i64;
        let at = match self.position {
            None => len,
            Some(p) if p >= 0 => p.min(len),
            // A negative position counts from the end; past the front it inserts at the front.
            Some(p) => (len + p).max(0),
        };
        let at = usize::try_from(at).unwrap_or(array.len());
        array.splice(at..at, self.values.iter().cloned());
        if let Some(sort) = &self.sort {
            changed = true;
            array.sort_by(|a, b| sort.compare(a, b));
        }
        if let Some(slice) = self.slice {
            let keep = usize::try_from(slice.unsigned_abs()).unwrap_or(usize::MAX);
            if array.len() > keep {
                changed = true;
                if slice >= 0 {
                    array.truncate(keep);
                } else {
                    array.drain(..array.len() - keep);
                }
            }
        }
        changed
    }
}

fn parse_sort(value: &Bson) -> StatusResult<PushSort> {
    let direction = |v: &Bson| match v {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => match integer_value(v) {
            Some(1) => Some(false),
            Some(-1) => Some(true),
            _ => None,
        },
        _ => None,
    };
    let bad_direction = || bad_value("The $sort element value must be either 1 or -1");
    match value {
        Bson::Document(pattern) => {
            if pattern.is_empty() {
                return Err(bad_value(
                    "The $sort pattern is empty when it should be a set of fields.",
                ));
            }
            let mut fields = Vec::new();
            for (field, dir) in pattern {
                let descending = direction(dir).ok_or_else(bad_direction)?;
                if field.is_empty() {
                    return Err(bad_value("The $sort field cannot be empty"));
                }
                if field.split('.').any(str::is_empty) {
                    return Err(bad_value(format!(
                        "The $sort field is a dotted field but has an empty part: {field}"
                    )));
                }
                fields.push((field.clone(), descending));
            }
            Ok(PushSort::Fields(fields))
        }
        v if super::arithmetic::is_number(v) => Ok(PushSort::Whole {
            descending: direction(v).ok_or_else(bad_direction)?,
        }),
        _ => Err(bad_value(
            "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields",
        )),
    }
}

impl PushSort {
    /// mongod's `PatternElementCmp`: whole values in BSON order, or the pattern's fields (missing
    /// ones as null) of each element, a non-document element standing in as `{"": value}`.
    fn compare(&self, a: &Bson, b: &Bson) -> Ordering {
        match self {
            PushSort::Whole { descending } => directed(compare_bson(a, b), *descending),
            PushSort::Fields(fields) => {
                for (field, descending) in fields {
                    let ord = compare_bson(&sort_key(a, field), &sort_key(b, field));
                    if ord != Ordering::Equal {
                        return directed(ord, *descending);
                    }
                }
                Ordering::Equal
            }
        }
    }
}

fn directed(ord: Ordering, descending: bool) -> Ordering {
    if descending { ord.reverse() } else { ord }
}

fn sort_key(value: &Bson, field: &str) -> Bson {
    let Bson::Document(doc) = value else {
        return Bson::Null;
    };
    let mut current: &Document = doc;
    let mut parts = field.split('.').peekable();
    while let Some(part) = parts.next() {
        match (current.get(part), parts.peek().is_some()) {
            (Some(Bson::Document(inner)), true) => current = inner,
            (Some(found), false) => return found.clone(),
            _ => return Bson::Null,
        }
    }
    Bson::Null
}

/// Parses `$addToSet`'s value: a value, or `{$each: [...]}`; duplicates within it are dropped.
pub(crate) fn parse_add_to_set(value: &Bson) -> StatusResult<Vec<Bson>> {
    let items = match value {
        Bson::Document(d) if d.keys().next().map(String::as_str) == Some("$each") => {
            let Some(each) = d.get("$each") else {
                return Ok(Vec::new());
            };
            let Bson::Array(items) = each else {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    format!(
                        "The argument to $each in $addToSet must be an array but it was of type {}",
                        type_name(each)
                    ),
                ));
            };
            if d.len() > 1 {
                return Err(bad_value(format!(
                    "Found unexpected fields after $each in $addToSet: {}",
                    super::format::document_string(d)
                )));
            }
            items.clone()
        }
        other => vec![other.clone()],
    };
    let mut unique: Vec<Bson> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.iter().any(|u| bson_equal(u, &item)) {
            unique.push(item);
        }
    }
    Ok(unique)
}

/// Adds the values not already present (by mongod's value equality); returns whether any were.
pub(crate) fn add_to_set(array: &mut Vec<Bson>, values: &[Bson]) -> bool {
    let missing: Vec<Bson> = values
        .iter()
        .filter(|v| !array.iter().any(|e| bson_equal(e, v)))
        .cloned()
        .collect();
    let changed = !missing.is_empty();
    array.extend(missing);
    changed
}

/// Parses `$pop`'s value (1 pops the last element, -1 the first); returns "from the front".
pub(crate) fn parse_pop(field: &str, value: &Bson) -> StatusResult<bool> {
    if !super::arithmetic::is_number(value) {
        return Err(Status::new(
            ErrorCode::FailedToParse,
            format!("Expected a number in: {}", element_string(field, value)),
        ));
    }
    match integer_value(value) {
        Some(1) => Ok(false),
        Some(-1) => Ok(true),
        Some(n) => Err(Status::new(
            ErrorCode::FailedToParse,
            format!("$pop expects 1 or -1, found: {n}"),
        )),
        None => Err(Status::new(
            ErrorCode::FailedToParse,
            format!("Expected an integer: {}", element_string(field, value)),
        )),
    }
}

/// Parses `$pullAll`'s value, which must be an array.
pub(crate) fn parse_pull_all(value: &Bson) -> StatusResult<Vec<Bson>> {
    match value {
        Bson::Array(items) => Ok(items.clone()),
        other => Err(bad_value(format!(
            "$pullAll requires an array argument but was given a {}",
            type_name(other)
        ))),
    }
}
