//! Dotted field paths over raw BSON: the same walk as [`crate::query::path`] (embedded documents,
//! fan-out over documents inside arrays, numeric components indexing arrays, leaf arrays expanded or
//! whole), reading a stored document's bytes in place instead of decoding it first. A malformed
//! document stops the walk with the bson error, so callers can fall back to decoding (and report it).

use std::ops::ControlFlow;

use bson::error::Error as BsonError;
use bson::{RawArray, RawBsonRef, RawDocument};

use crate::query::path::{FieldPath, LeafArrays, array_index};

/// Why a raw walk stopped early: the callback asked to, or the bytes are malformed.
#[derive(Debug)]
pub enum Stop {
    /// The callback broke out (for a matcher: a candidate satisfied the predicate).
    Found,
    /// The document could not be read where the path went.
    Malformed(BsonError),
}

/// What a raw walk step returns: continue, or stop for a reason.
pub type Flow = ControlFlow<Stop>;

/// The value stored under `key`, as decoding would see it: when a key repeats, the last one wins
/// (decoding into a `Document` keeps the last value), so the whole document is read.
pub fn get_last<'a>(doc: &'a RawDocument, key: &str) -> Result<Option<RawBsonRef<'a>>, BsonError> {
    let mut found = None;
    for element in doc.iter_elements() {
        let element = element?;
        if element.key().as_str() == key {
            found = Some(element);
        }
    }
    found.map(|e| e.value()).transpose()
}

/// Calls `f` with every candidate `path` reaches in `doc` (`None` for missing), in the order
/// [`crate::query::path::for_each_candidate`] yields them on the decoded document.
pub fn for_each_raw_candidate<'a, F>(
    doc: &'a RawDocument,
    path: &FieldPath,
    leaf: LeafArrays,
    f: &mut F,
) -> Flow
where
    F: FnMut(Option<RawBsonRef<'a>>) -> Flow,
{
    walk_document(doc, path.parts(), leaf, f)
}

fn malformed(e: BsonError) -> Flow {
    ControlFlow::Break(Stop::Malformed(e))
}

fn walk_document<'a, F>(doc: &'a RawDocument, parts: &[String], leaf: LeafArrays, f: &mut F) -> Flow
where
    F: FnMut(Option<RawBsonRef<'a>>) -> Flow,
{
    let Some((first, rest)) = parts.split_first() else {
        return ControlFlow::Continue(());
    };
    match get_last(doc, first) {
        Err(e) => malformed(e),
        Ok(None) => f(None),
        Ok(Some(value)) => walk_value(value, rest, leaf, f),
    }
}

fn walk_value<'a, F>(value: RawBsonRef<'a>, rest: &[String], leaf: LeafArrays, f: &mut F) -> Flow
where
    F: FnMut(Option<RawBsonRef<'a>>) -> Flow,
{
    if rest.is_empty() {
        if let (RawBsonRef::Array(items), LeafArrays::Expand) = (value, leaf) {
            for item in items {
                match item {
                    Ok(item) => f(Some(item))?,
                    Err(e) => return malformed(e),
                }
            }
        }
        return f(Some(value));
    }
    match value {
        RawBsonRef::Document(doc) => walk_document(doc, rest, leaf, f),
        RawBsonRef::Array(items) => walk_array(items, rest, leaf, f),
        // A scalar where the path wants a document: the rest of the path is missing.
        _ => f(None),
    }
}

fn walk_array<'a, F>(items: &'a RawArray, parts: &[String], leaf: LeafArrays, f: &mut F) -> Flow
where
    F: FnMut(Option<RawBsonRef<'a>>) -> Flow,
{
    let Some((first, rest)) = parts.split_first() else {
        return ControlFlow::Continue(());
    };
    let index = array_index(first);
    for (i, item) in items.into_iter().enumerate() {
        let item = match item {
            Ok(item) => item,
            Err(e) => return malformed(e),
        };
        // As in the decoded walk: every document element is searched for the whole remaining path,
        // and the element a numeric component names continues with the rest of it.
        if let RawBsonRef::Document(doc) = item {
            walk_document(doc, parts, leaf, f)?;
        }
        if index != Some(i) {
            continue;
        }
        match item {
            _ if rest.is_empty() => f(Some(item))?,
            RawBsonRef::Document(doc) => walk_document(doc, rest, leaf, f)?,
            RawBsonRef::Array(nested) => walk_array(nested, rest, leaf, f)?,
            _ => {}
        }
    }
    ControlFlow::Continue(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{Bson, Document, RawDocumentBuf, doc};

    use crate::query::path::candidates;

    /// The raw walk's candidates, converted, next to the decoded walk's.
    fn both(d: &Document, path: &str, leaf: LeafArrays) -> (Vec<Option<Bson>>, Vec<Option<Bson>>) {
        let raw = RawDocumentBuf::try_from(d).unwrap();
        let path = FieldPath::new(path);
        let mut got = Vec::new();
        let flow = for_each_raw_candidate(&raw, &path, leaf, &mut |c| {
            got.push(c.map(|v| Bson::try_from(v).unwrap()));
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        let want = candidates(d, &path, leaf)
            .into_iter()
            .map(|c| c.value().cloned())
            .collect();
        (got, want)
    }

    #[test]
    fn yields_what_the_decoded_walk_yields() {
        let d = doc! {
            "a": [{"b": 1}, {"b": [2, 3]}, 7, [{"b": 4}]],
            "n": [5, [6]],
            "s": {"t": null},
            "x": 1,
        };
        for path in [
            "a", "a.b", "a.0", "a.1.b", "a.3.0.b", "n", "n.1", "n.1.0", "s.t", "s.u", "x.y", "z",
        ] {
            for leaf in [LeafArrays::Expand, LeafArrays::Whole] {
                let (got, want) = both(&d, path, leaf);
                assert_eq!(got, want, "path {path} {leaf:?}");
            }
        }
    }

    #[test]
    fn a_repeated_key_reads_its_last_value() {
        let mut raw = RawDocumentBuf::new();
        raw.append(bson::cstr!("a"), 1);
        raw.append(bson::cstr!("a"), 2);
        assert_eq!(get_last(&raw, "a").unwrap(), Some(RawBsonRef::Int32(2)));
        assert_eq!(
            Document::try_from(raw.as_ref()).unwrap().get("a"),
            Some(&Bson::Int32(2))
        );
    }
}
