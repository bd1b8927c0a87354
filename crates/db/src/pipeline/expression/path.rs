//! Aggregation field paths (`$a.b`): unlike the query language, a path through an array yields an
//! array of what each element document holds (mongod's `ExpressionFieldPath::evaluatePath`), and
//! numeric components are ordinary field names.

use bson::{Bson, Document};

/// The value at `parts` in `doc`, or `None` when missing.
pub fn document_path(doc: &Document, parts: &[String]) -> Option<Bson> {
    let (first, rest) = parts.split_first()?;
    value_path(doc.get(first)?, rest)
}

/// The value at `rest` below `value` (the value itself when `rest` is empty).
pub fn value_path(value: &Bson, rest: &[String]) -> Option<Bson> {
    if rest.is_empty() {
        return Some(value.clone());
    }
    match value {
        Bson::Document(doc) => document_path(doc, rest),
        // Only document elements are searched; scalars and nested arrays contribute nothing.
        Bson::Array(items) => Some(Bson::Array(
            items
                .iter()
                .filter_map(|item| match item {
                    Bson::Document(doc) => document_path(doc, rest),
                    _ => None,
                })
                .collect(),
        )),
        _ => None,
    }
}

/// The value at `parts` following only embedded documents (how `$unwind` reads its path), or `None`.
pub fn nested_field<'a>(doc: &'a Document, parts: &[String]) -> Option<&'a Bson> {
    let (first, rest) = parts.split_first()?;
    let value = doc.get(first)?;
    if rest.is_empty() {
        return Some(value);
    }
    match value {
        Bson::Document(inner) => nested_field(inner, rest),
        _ => None,
    }
}

/// Sets `parts` in `doc` to `value` (removing the field when `None`), creating or replacing
/// intermediate values with documents as mongod's `MutableDocument::setNestedField` does.
pub fn set_nested_field(doc: &mut Document, parts: &[String], value: Option<Bson>) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        match value {
            Some(v) => {
                doc.insert(first.clone(), v);
            }
            None => {
                doc.remove(first);
            }
        }
        return;
    }
    if !matches!(doc.get(first), Some(Bson::Document(_))) {
        if value.is_none() {
            return;
        }
        doc.insert(first.clone(), Document::new());
    }
    if let Some(Bson::Document(inner)) = doc.get_mut(first) {
        set_nested_field(inner, rest, value);
    }
}

/// `$$ROOT.parts`: the whole document when `parts` is empty.
pub fn document_path_or_root(doc: &Document, parts: &[String]) -> Option<Bson> {
    if parts.is_empty() {
        Some(Bson::Document(doc.clone()))
    } else {
        document_path(doc, parts)
    }
}
