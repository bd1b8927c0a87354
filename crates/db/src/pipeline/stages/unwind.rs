//! `$unwind`: one output document per element of an array field, with mongod's options
//! (`includeArrayIndex`, `preserveNullAndEmptyArrays`) and parse errors.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::expression::path::{nested_field, set_nested_field};
use crate::pipeline::expression::value::type_name;
use crate::query::path::check_field_path;

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// A parsed `$unwind`.
#[derive(Clone, Debug)]
pub struct Unwind {
    path: Vec<String>,
    index_field: Option<Vec<String>>,
    preserve: bool,
}

fn parse_path(path: &str) -> StatusResult<Vec<String>> {
    let Some(field) = path.strip_prefix('$') else {
        return Err(err(
            28818,
            format!("path option to $unwind stage should be prefixed with a '$': {path}"),
        ));
    };
    check_field_path(field)?;
    Ok(field.split('.').map(str::to_owned).collect())
}

impl Unwind {
    /// Parses `"$path"` or `{path, includeArrayIndex, preserveNullAndEmptyArrays}`.
    pub fn parse(spec: &Bson) -> StatusResult<Unwind> {
        match spec {
            Bson::String(path) => Ok(Unwind {
                path: parse_path(path)?,
                index_field: None,
                preserve: false,
            }),
            Bson::Document(options) => {
                let mut unwind = Unwind {
                    path: Vec::new(),
                    index_field: None,
                    preserve: false,
                };
                for (key, value) in options {
                    match (key.as_str(), value) {
                        ("path", Bson::String(p)) => unwind.path = parse_path(p)?,
                        ("path", other) => {
                            return Err(err(
                                28808,
                                format!(
                                    "expected a string as the path for $unwind stage, got {}",
                                    type_name(Some(other))
                                ),
                            ));
                        }
                        ("preserveNullAndEmptyArrays", Bson::Boolean(b)) => unwind.preserve = *b,
                        ("preserveNullAndEmptyArrays", other) => {
                            return Err(err(
                                28809,
                                format!(
                                    "expected a boolean for the preserveNullAndEmptyArrays option to \
                                     $unwind stage, got {}",
                                    type_name(Some(other))
                                ),
                            ));
                        }
                        ("includeArrayIndex", Bson::String(s)) if !s.is_empty() => {
                            if s.starts_with('$') {
                                return Err(err(
                                    28822,
                                    format!(
                                        "includeArrayIndex option to $unwind stage should not be \
                                         prefixed with a '$': {s}"
                                    ),
                                ));
                            }
                            check_field_path(s)?;
                            unwind.index_field = Some(s.split('.').map(str::to_owned).collect());
                        }
                        ("includeArrayIndex", other) => {
                            return Err(err(
                                28810,
                                format!(
                                    "expected a non-empty string for the includeArrayIndex option to \
                                     $unwind stage, got {}",
                                    type_name(Some(other))
                                ),
                            ));
                        }
                        _ => {
                            return Err(err(28811, format!("unrecognized option to $unwind stage: {key}")));
                        }
                    }
                }
                if unwind.path.is_empty() {
                    return Err(err(28812, "no path specified to $unwind stage".into()));
                }
                Ok(unwind)
            }
            other => Err(err(
                15981,
                format!(
                    "expected either a string or an object as specification for $unwind stage, got {}",
                    type_name(Some(other))
                ),
            )),
        }
    }

    /// The documents `doc` unwinds into.
    pub fn apply(&self, mut doc: Document) -> Vec<Document> {
        let items = match nested_field(&doc, &self.path) {
            Some(Bson::Array(items)) if !items.is_empty() => items.clone(),
            Some(Bson::Array(_)) => {
                if !self.preserve {
                    return Vec::new();
                }
                // A preserved empty array leaves the field out.
                set_nested_field(&mut doc, &self.path, None);
                return vec![self.with_index(doc, None)];
            }
            None | Some(Bson::Null | Bson::Undefined) => {
                if !self.preserve {
                    return Vec::new();
                }
                return vec![self.with_index(doc, None)];
            }
            // A non-array value unwinds to itself.
            Some(_) => return vec![self.with_index(doc, None)],
        };
        let mut out = Vec::with_capacity(items.len());
        // Replace the array once so each copy does not clone it again.
        set_nested_field(&mut doc, &self.path, Some(Bson::Null));
        for (i, item) in items.into_iter().enumerate() {
            let mut copy = doc.clone();
            set_nested_field(&mut copy, &self.path, Some(item));
            out.push(self.with_index(copy, Some(i as i64)));
        }
        out
    }

    fn with_index(&self, mut doc: Document, index: Option<i64>) -> Document {
        if let Some(field) = &self.index_field {
            set_nested_field(&mut doc, field, Some(index.map_or(Bson::Null, Bson::Int64)));
        }
        doc
    }
}
