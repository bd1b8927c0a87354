//! Sort specifications and mongod's document order under them: each key's value is its path's
//! candidates reduced to the smallest (ascending) or largest (descending) in BSON order; a missing
//! field sorts as null, an empty array below null.

use std::cmp::Ordering;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::query::compare::{as_f64, compare_bson};
use crate::query::path::{Candidate, FieldPath, LeafArrays, check_field_path, for_each_candidate};

/// A parsed sort: fields in priority order, each ascending or descending.
#[derive(Clone, Debug, Default)]
pub struct SortSpec {
    keys: Vec<(FieldPath, bool)>,
}

static NULL: Bson = Bson::Null;
// mongod's sort key for an empty array is undefined, which ranks below null.
static UNDEFINED: Bson = Bson::Undefined;

impl SortSpec {
    /// Parses `{field: 1 | -1, ...}` as the `$sort` stage does; an empty spec is 15976.
    pub fn parse(spec: &Document) -> StatusResult<SortSpec> {
        if spec.is_empty() {
            return Err(Status::new(
                ErrorCode::Location(15976),
                "$sort stage must have at least one sort key",
            ));
        }
        SortSpec::parse_find(spec)
    }

    /// Parses find's `sort`, where `{}` means "no sort" (see [`SortSpec::is_empty`]).
    pub fn parse_find(spec: &Document) -> StatusResult<SortSpec> {
        let mut keys = Vec::with_capacity(spec.len());
        for (field, value) in spec {
            keys.push((FieldPath::new(field), parse_direction(field, value)?));
            check_field_path(field)?;
        }
        Ok(SortSpec { keys })
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys as (dotted path, descending), in priority order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, bool)> {
        self.keys.iter().map(|(p, desc)| (p.dotted(), *desc))
    }

    /// Orders two documents.
    pub fn compare(&self, a: &Document, b: &Document) -> Ordering {
        for (path, descending) in &self.keys {
            let ord = compare_bson(sort_value(a, path, *descending), sort_value(b, path, *descending));
            let ord = if *descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }

    /// The document's sort key (one value per field), to compute once and order with
    /// [`SortSpec::compare_keys`].
    pub fn key(&self, doc: &Document) -> Vec<Bson> {
        self.keys
            .iter()
            .map(|(path, descending)| sort_value(doc, path, *descending).clone())
            .collect()
    }

    /// Orders two keys made by [`SortSpec::key`].
    pub fn compare_keys(&self, a: &[Bson], b: &[Bson]) -> Ordering {
        for (((_, descending), x), y) in self.keys.iter().zip(a).zip(b) {
            let ord = compare_bson(x, y);
            let ord = if *descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

/// The value `doc` sorts by on `path`: arrays contribute their elements, missing is null, and
/// the smallest (ascending) or largest (descending) candidate wins.
fn sort_value<'a>(doc: &'a Document, path: &FieldPath, descending: bool) -> &'a Bson {
    let mut best: Option<&'a Bson> = None;
    let mut consider = |v: &'a Bson| {
        let better = match best {
            None => true,
            Some(b) => {
                let ord = compare_bson(v, b);
                if descending {
                    ord == Ordering::Greater
                } else {
                    ord == Ordering::Less
                }
            }
        };
        if better {
            best = Some(v);
        }
    };
    let _ = for_each_candidate(doc, path, LeafArrays::Whole, &mut |c| {
        match c {
            Candidate::Missing => consider(&NULL),
            Candidate::Value {
                value: Bson::Array(items),
                ..
            } if items.is_empty() => consider(&UNDEFINED),
            Candidate::Value {
                value: Bson::Array(items),
                ..
            } => items.iter().for_each(&mut consider),
            Candidate::Value { value, .. } => consider(value),
        }
        std::ops::ControlFlow::Continue(())
    });
    best.unwrap_or(&NULL)
}

fn parse_direction(field: &str, value: &Bson) -> StatusResult<bool> {
    match value {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            let n = as_f64(value);
            if n == 1.0 {
                Ok(false)
            } else if n == -1.0 {
                Ok(true)
            } else {
                Err(Status::new(
                    ErrorCode::Location(15975),
                    "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
                ))
            }
        }
        Bson::Document(d) if d.contains_key("$meta") => Err(Status::new(
            ErrorCode::NotImplemented,
            format!("$meta sort on field {field} is not supported by docwire"),
        )),
        Bson::Document(_) => Err(Status::new(
            ErrorCode::Location(17312),
            "$meta is the only expression supported by $sort right now",
        )),
        other => Err(Status::new(
            ErrorCode::Location(15974),
            format!("Illegal key in $sort specification: {field}: {other}"),
        )),
    }
}
