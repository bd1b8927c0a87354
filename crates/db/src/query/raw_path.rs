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
/// (decoding into a `Document` keeps the last value), so the whole document is read. The common
/// kinds are read straight from the bytes; anything else (or any doubt about the framing) goes
/// through the bson crate's reader, which also names what is malformed.
pub fn get_last<'a>(doc: &'a RawDocument, key: &str) -> Result<Option<RawBsonRef<'a>>, BsonError> {
    match scan_last(doc.as_bytes(), key.as_bytes()) {
        Some(Found::Missing) => Ok(None),
        Some(Found::Value(value)) => Ok(Some(value)),
        Some(Found::Other) | None => get_last_checked(doc, key),
    }
}

/// [`get_last`] through the bson crate's element iterator.
fn get_last_checked<'a>(doc: &'a RawDocument, key: &str) -> Result<Option<RawBsonRef<'a>>, BsonError> {
    let mut found = None;
    for element in doc.iter_elements() {
        let element = element?;
        if element.key().as_str() == key {
            found = Some(element);
        }
    }
    found.map(|e| e.value()).transpose()
}

/// What a fast scan found under a key.
enum Found<'a> {
    /// No element has the key.
    Missing,
    /// The last element with the key, read.
    Value(RawBsonRef<'a>),
    /// The last element with the key is of a kind (or holds bytes) left to the bson crate.
    Other,
}

/// Finds the last element named `key` by walking the element headers; `None` when the framing is
/// not what the bson crate's iterator accepts (it then reports the error).
fn scan_last<'a>(bytes: &'a [u8], key: &[u8]) -> Option<Found<'a>> {
    let end = bytes.len().checked_sub(1)?;
    let mut at = 4;
    let mut found = None;
    while at < end {
        let kind = bytes[at];
        let name_at = at + 1;
        let name_len = bytes.get(name_at..end)?.iter().position(|b| *b == 0)?;
        let name = &bytes[name_at..name_at + name_len];
        if !name.is_ascii() {
            std::str::from_utf8(name).ok()?;
        }
        let value_at = name_at + name_len + 1;
        let len = value_len(kind, bytes.get(value_at..end)?)?;
        if name == key {
            found = Some((kind, value_at, len));
        }
        at = value_at + len;
    }
    if at != end {
        return None;
    }
    Some(match found {
        None => Found::Missing,
        Some((kind, value_at, len)) => read_value(kind, &bytes[value_at..value_at + len]),
    })
}

/// The size of an element's value of type `kind` at the start of `rest`, checked against `rest`.
fn value_len(kind: u8, rest: &[u8]) -> Option<usize> {
    let prefix = || -> Option<usize> {
        let bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
        usize::try_from(i32::from_le_bytes(bytes)).ok()
    };
    // A length-prefixed string: at least the terminator, which must be there.
    let string = || {
        let n = prefix()?.checked_add(4).filter(|n| *n >= 5)?;
        (rest.get(n - 1) == Some(&0)).then_some(n)
    };
    let len = match kind {
        0x06 | 0x0A | 0x7F | 0xFF => 0,
        0x08 => 1,
        0x10 => 4,
        0x01 | 0x09 | 0x11 | 0x12 => 8,
        0x07 => 12,
        0x13 => 16,
        0x02 | 0x0D | 0x0E => string()?,
        0x0C => string()? + 12,
        0x03 | 0x04 => {
            let n = prefix().filter(|n| *n >= 5)?;
            if rest.get(n - 1) != Some(&0) {
                return None;
            }
            n
        }
        0x05 => prefix()? + 5,
        0x0F => prefix()?,
        0x0B => {
            // Two C strings (pattern, options), each valid UTF-8.
            let mut len = 0;
            for _ in 0..2 {
                let part = rest.get(len..)?;
                let n = part.iter().position(|b| *b == 0)?;
                std::str::from_utf8(&part[..n]).ok()?;
                len += n + 1;
            }
            len
        }
        _ => return None,
    };
    (len <= rest.len()).then_some(len)
}

/// A located value of a common kind, read as the bson crate reads it.
fn read_value(kind: u8, value: &[u8]) -> Found<'_> {
    let fixed = |n: usize| value.get(..n);
    let read = || -> Option<RawBsonRef<'_>> {
        Some(match kind {
            0x01 => RawBsonRef::Double(f64::from_le_bytes(fixed(8)?.try_into().ok()?)),
            0x10 => RawBsonRef::Int32(i32::from_le_bytes(fixed(4)?.try_into().ok()?)),
            0x12 => RawBsonRef::Int64(i64::from_le_bytes(fixed(8)?.try_into().ok()?)),
            0x09 => RawBsonRef::DateTime(bson::DateTime::from_millis(i64::from_le_bytes(
                fixed(8)?.try_into().ok()?,
            ))),
            0x07 => RawBsonRef::ObjectId(bson::oid::ObjectId::from_bytes(fixed(12)?.try_into().ok()?)),
            0x08 => match value.first()? {
                0 => RawBsonRef::Boolean(false),
                1 => RawBsonRef::Boolean(true),
                _ => return None,
            },
            0x0A => RawBsonRef::Null,
            0x06 => RawBsonRef::Undefined,
            0xFF => RawBsonRef::MinKey,
            0x7F => RawBsonRef::MaxKey,
            // The length prefix and the terminator are not part of the string.
            0x02 => RawBsonRef::String(std::str::from_utf8(value.get(4..value.len() - 1)?).ok()?),
            0x03 => RawBsonRef::Document(RawDocument::from_bytes(value).ok()?),
            _ => return None,
        })
    };
    read().map_or(Found::Other, Found::Value)
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
    use bson::{Bson, Document, RawDocument, RawDocumentBuf, doc};

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

    proptest::proptest! {
        /// On any bytes, the fast scan gives the bson crate's answer: the same value, or an error.
        #[test]
        fn the_fast_scan_agrees_with_the_bson_reader(
            flips in proptest::collection::vec((0usize..200, proptest::num::u8::ANY), 0..3),
            cut in 0usize..8,
        ) {
            let d = doc! {
                "a": 1, "s": "text", "d": {"x": 1.5, "y": null}, "b": true, "t": [1, "two"],
                "o": bson::oid::ObjectId::from_bytes([1; 12]), "when": bson::DateTime::from_millis(5),
                "l": 7_i64, "r": bson::Regex { pattern: "^a".try_into().unwrap(), options: "i".try_into().unwrap() },
                "a": "again",
            };
            let mut bytes = RawDocumentBuf::try_from(&d).unwrap().into_bytes();
            for (at, byte) in flips {
                let at = 4 + at % (bytes.len() - 4);
                bytes[at] = byte;
            }
            // Shorten the body but keep the header consistent, so the document itself still opens.
            let len = bytes.len() - cut.min(bytes.len() - 5);
            bytes.truncate(len);
            bytes[..4].copy_from_slice(&i32::try_from(len).unwrap().to_le_bytes());
            if let Some(last) = bytes.last_mut() {
                *last = 0;
            }
            let doc = RawDocument::from_bytes(&bytes).unwrap();
            for key in ["a", "s", "d", "b", "t", "o", "when", "l", "r", "zz"] {
                let fast = get_last(doc, key).ok();
                let checked = get_last_checked(doc, key).ok();
                proptest::prop_assert_eq!(fast, checked, "key {}", key);
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
