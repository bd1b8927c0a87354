//! Dotted field paths with mongod's semantics: a path walks embedded documents, fans out over the
//! documents inside an array, and a numeric component also indexes an array position. A path yields
//! every candidate value it reaches (or "missing"), which the matcher, projection and sort consume.

use std::ops::ControlFlow;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

/// A dotted path, split into components once (at parse time) rather than on every document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath {
    dotted: String,
    parts: Vec<String>,
}

impl FieldPath {
    /// Splits `dotted` on `.`; an empty string is the one-component path `""`.
    pub fn new(dotted: &str) -> FieldPath {
        FieldPath {
            dotted: dotted.to_owned(),
            parts: dotted.split('.').map(str::to_owned).collect(),
        }
    }

    /// The path as written (`a.b.0`).
    pub fn dotted(&self) -> &str {
        &self.dotted
    }

    /// The components (`["a", "b", "0"]`); never empty.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }
}

/// One value reached by a path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Candidate<'a> {
    /// Nothing there: an absent field, or a scalar (or null) where a document was needed.
    Missing,
    /// A value. `from_array` is true for an element yielded by expanding an array at the end of the
    /// path, false for the value stored at the path itself.
    Value {
        /// The value.
        value: &'a Bson,
        /// Whether it is an element of the leaf array rather than the leaf itself.
        from_array: bool,
    },
}

impl<'a> Candidate<'a> {
    /// The value, or `None` when missing.
    pub fn value(self) -> Option<&'a Bson> {
        match self {
            Candidate::Missing => None,
            Candidate::Value { value, .. } => Some(value),
        }
    }
}

/// What to do with an array found at the end of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafArrays {
    /// Yield each element (with `from_array`), then the array itself: how `$eq`, `$gt`, `$in`,
    /// `$type`... see arrays.
    Expand,
    /// Yield only the array itself: how `$size` and `$elemMatch` see arrays.
    Whole,
}

/// Calls `f` with every candidate `path` reaches in `doc`, stopping early when `f` breaks.
pub fn for_each_candidate<'a, F>(
    doc: &'a Document,
    path: &FieldPath,
    leaf: LeafArrays,
    f: &mut F,
) -> ControlFlow<()>
where
    F: FnMut(Candidate<'a>) -> ControlFlow<()>,
{
    walk_document(doc, path.parts(), leaf, f)
}

/// Every candidate `path` reaches in `doc`, in document order.
pub fn candidates<'a>(doc: &'a Document, path: &FieldPath, leaf: LeafArrays) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    let _ = for_each_candidate(doc, path, leaf, &mut |c| {
        out.push(c);
        ControlFlow::Continue(())
    });
    out
}

/// Whether any candidate satisfies `pred`.
pub fn any_candidate<'a>(
    doc: &'a Document,
    path: &FieldPath,
    leaf: LeafArrays,
    mut pred: impl FnMut(Candidate<'a>) -> bool,
) -> bool {
    for_each_candidate(doc, path, leaf, &mut |c| {
        if pred(c) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// The array position a component names: plain decimal digits without a leading zero, as mongod
/// compares the component to the element's field name ("0", "1", ...).
pub fn array_index(component: &str) -> Option<usize> {
    let canonical = !component.is_empty()
        && component.bytes().all(|b| b.is_ascii_digit())
        && (component == "0" || !component.starts_with('0'));
    if canonical { component.parse().ok() } else { None }
}

/// mongod's FieldPath rules for projection and sort paths: no empty components (15998) and none
/// starting with `$` (16410; positional and operator paths are not supported).
pub fn check_field_path(field: &str) -> StatusResult<()> {
    for part in field.split('.') {
        if part.is_empty() {
            return Err(Status::new(
                ErrorCode::Location(15998),
                "FieldPath field names may not be empty strings.",
            ));
        }
        if part.starts_with('$') {
            return Err(Status::new(
                ErrorCode::Location(16410),
                format!("FieldPath field names may not start with '$'. Given: {field}"),
            ));
        }
    }
    Ok(())
}

fn walk_document<'a, F>(doc: &'a Document, parts: &[String], leaf: LeafArrays, f: &mut F) -> ControlFlow<()>
where
    F: FnMut(Candidate<'a>) -> ControlFlow<()>,
{
    let Some((first, rest)) = parts.split_first() else {
        return ControlFlow::Continue(());
    };
    match doc.get(first) {
        None => f(Candidate::Missing),
        Some(value) => walk_value(value, rest, leaf, f),
    }
}

fn walk_value<'a, F>(value: &'a Bson, rest: &[String], leaf: LeafArrays, f: &mut F) -> ControlFlow<()>
where
    F: FnMut(Candidate<'a>) -> ControlFlow<()>,
{
    if rest.is_empty() {
        if let (Bson::Array(items), LeafArrays::Expand) = (value, leaf) {
            for item in items {
                f(Candidate::Value {
                    value: item,
                    from_array: true,
                })?;
            }
        }
        return f(Candidate::Value {
            value,
            from_array: false,
        });
    }
    match value {
        Bson::Document(doc) => walk_document(doc, rest, leaf, f),
        Bson::Array(items) => walk_array(items, rest, leaf, f),
        // A scalar where the path wants a document: mongod treats the rest of the path as missing.
        _ => f(Candidate::Missing),
    }
}

fn walk_array<'a, F>(items: &'a [Bson], parts: &[String], leaf: LeafArrays, f: &mut F) -> ControlFlow<()>
where
    F: FnMut(Candidate<'a>) -> ControlFlow<()>,
{
    let Some((first, rest)) = parts.split_first() else {
        return ControlFlow::Continue(());
    };
    let index = array_index(first);
    for (i, item) in items.iter().enumerate() {
        // Every document element is searched for the whole remaining path, even when the component
        // is numeric ("a.0.b" asks each {b: ..} for a field "0" and reports it missing), as mongod's
        // BSONElementIterator does; scalars and nested arrays yield nothing here.
        if let Bson::Document(doc) = item {
            walk_document(doc, parts, leaf, f)?;
        }
        if index != Some(i) {
            continue;
        }
        // The element a numeric component names: at the end of the path it is the value itself,
        // not expanded even when it is an array; otherwise the rest of the path continues inside.
        match item {
            _ if rest.is_empty() => f(Candidate::Value {
                value: item,
                from_array: false,
            })?,
            Bson::Document(doc) => walk_document(doc, rest, leaf, f)?,
            Bson::Array(nested) => walk_array(nested, rest, leaf, f)?,
            _ => {}
        }
    }
    ControlFlow::Continue(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn values(doc: &Document, path: &str, leaf: LeafArrays) -> Vec<Option<Bson>> {
        candidates(doc, &FieldPath::new(path), leaf)
            .into_iter()
            .map(|c| c.value().cloned())
            .collect()
    }

    #[test]
    fn walks_documents_and_reports_missing() {
        let d = doc! {"a": {"b": 1}, "s": 5};
        assert_eq!(values(&d, "a.b", LeafArrays::Expand), vec![Some(Bson::Int32(1))]);
        assert_eq!(values(&d, "a.c", LeafArrays::Expand), vec![None]);
        assert_eq!(values(&d, "s.x", LeafArrays::Expand), vec![None]);
        assert_eq!(values(&d, "z", LeafArrays::Expand), vec![None]);
    }

    #[test]
    fn expands_leaf_arrays_and_fans_out_over_documents() {
        let d = doc! {"a": [1, [2]], "b": [{"c": 1}, 7, {"d": 2}]};
        assert_eq!(
            values(&d, "a", LeafArrays::Expand),
            vec![
                Some(Bson::Int32(1)),
                Some(Bson::Array(vec![2.into()])),
                Some(Bson::Array(vec![1.into(), Bson::Array(vec![2.into()])]))
            ]
        );
        assert_eq!(values(&d, "a", LeafArrays::Whole).len(), 1);
        assert_eq!(
            values(&d, "b.c", LeafArrays::Expand),
            vec![Some(Bson::Int32(1)), None]
        );
    }

    #[test]
    fn numeric_components_index_arrays() {
        let d = doc! {"a": [{"b": 1}, {"b": 2}], "n": [5, 6]};
        // Each subdocument is also asked for a field "1" (missing), as mongod does.
        assert_eq!(
            values(&d, "a.1.b", LeafArrays::Expand),
            vec![None, None, Some(Bson::Int32(2))]
        );
        assert_eq!(values(&d, "n.0", LeafArrays::Expand), vec![Some(Bson::Int32(5))]);
        assert_eq!(values(&d, "n.7", LeafArrays::Expand), Vec::<Option<Bson>>::new());
        assert_eq!(array_index("01"), None);
        assert_eq!(array_index("10"), Some(10));
    }
}
