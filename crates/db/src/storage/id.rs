//! `_id` handling: putting it first (as mongod stores documents), generating an ObjectId when absent,
//! rejecting values mongod refuses, and the record key of a document.

use bson::{Bson, RawDocument, RawDocumentBuf, oid::ObjectId, raw::RawBsonRef};
use docwire_rpc::{ErrorCode, Status};

use super::key;

/// Returns `doc` with `_id` as its first field (an ObjectId generated when it has none) and that _id.
/// InvalidIdField (53) for an array, regex or undefined _id, as mongod.
pub fn ensure_id(doc: &RawDocument) -> Result<(RawDocumentBuf, Bson), Status> {
    let mut first = true;
    let mut found: Option<(bool, RawBsonRef<'_>)> = None;
    for element in doc {
        let (name, value) = element.map_err(corrupt)?;
        if name == "_id" {
            found = Some((first, value));
            break;
        }
        first = false;
    }
    match found {
        Some((true, value)) => {
            let id = to_bson(value)?;
            check_id(&id)?;
            Ok((doc.to_owned(), id))
        }
        Some((false, value)) => {
            let id = to_bson(value)?;
            check_id(&id)?;
            Ok((with_id_first(doc, value)?, id))
        }
        None => {
            let oid = ObjectId::new();
            Ok((
                with_id_first(doc, RawBsonRef::ObjectId(oid))?,
                Bson::ObjectId(oid),
            ))
        }
    }
}

/// The _id of a stored or about-to-be-stored document, and its record key.
pub(crate) fn id_and_key(doc: &RawDocument) -> Result<(Bson, Vec<u8>), Status> {
    let value = doc
        .get("_id")
        .map_err(corrupt)?
        .ok_or_else(|| Status::new(ErrorCode::InternalError, "document to store has no _id"))?;
    let id = to_bson(value)?;
    let key = key::encode(&id);
    Ok((id, key))
}

fn with_id_first(doc: &RawDocument, id: RawBsonRef<'_>) -> Result<RawDocumentBuf, Status> {
    let mut out = RawDocumentBuf::new();
    out.append(bson::cstr!("_id"), id);
    for element in doc {
        let (name, value) = element.map_err(corrupt)?;
        if name.as_str() != "_id" {
            out.append(name, value);
        }
    }
    Ok(out)
}

fn check_id(id: &Bson) -> Result<(), Status> {
    let what = match id {
        Bson::Array(_) => "an array",
        Bson::RegularExpression(_) => "a regex",
        Bson::Undefined => "undefined",
        _ => return Ok(()),
    };
    Err(Status::new(
        ErrorCode::InvalidIdField,
        format!("can't use {what} for _id"),
    ))
}

/// A raw value as a `Bson` (a malformed value is a BadValue, never a panic).
pub(crate) fn to_bson(value: RawBsonRef<'_>) -> Result<Bson, Status> {
    Bson::try_from(value).map_err(corrupt)
}

fn corrupt(err: impl std::fmt::Display) -> Status {
    Status::new(ErrorCode::BadValue, format!("invalid BSON document: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::rawdoc;

    #[test]
    fn id_moves_first_and_is_generated_when_missing() {
        let (doc, id) = ensure_id(&rawdoc! {"a": 1, "_id": 7}).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(id, Bson::Int32(7));
        assert_eq!(
            doc.iter().next().and_then(Result::ok).map(|(k, _)| k.to_string()),
            Some("_id".into())
        );
        let (_, id) = ensure_id(&rawdoc! {"a": 1}).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(matches!(id, Bson::ObjectId(_)));
        assert!(ensure_id(&rawdoc! {"_id": [1]}).is_err());
    }
}
