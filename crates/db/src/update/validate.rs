//! Checks on a document an update produced, as mongod's storage validation: no `$`-prefixed
//! top-level field names (DBRef's `$ref`/`$id`/`$db` excepted), a storable `_id`, bounded nesting,
//! and the 16 MiB limit.

use bson::{Bson, Document};
use docwire_rpc::limits::MAX_BSON_OBJECT_SIZE;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::format::type_name;

/// mongod's `BSONDepth::getMaxDepthForUserStorage()`.
const MAX_DEPTH: usize = 180;

/// Checks that `doc` may be stored: top-level field names, `_id`, and nesting depth.
pub fn validate_for_storage(doc: &Document) -> StatusResult<()> {
    check_top_level_names(doc, "")?;
    if let Some(id) = doc.get("_id") {
        check_id(id)?;
    }
    for value in doc.values() {
        check_depth(value, 1)?;
    }
    Ok(())
}

/// Checks that `doc` fits mongod's 16 MiB document limit (BSONObjectTooLarge 10334).
pub fn check_document_size(doc: &Document) -> StatusResult<()> {
    let bytes = doc
        .to_vec()
        .map_err(|e| Status::new(ErrorCode::BadValue, format!("cannot serialize document: {e}")))?;
    if bytes.len() > MAX_BSON_OBJECT_SIZE {
        return Err(Status::new(
            ErrorCode::BSONObjectTooLarge,
            format!("Resulting document after update is larger than {MAX_BSON_OBJECT_SIZE}"),
        ));
    }
    Ok(())
}

/// Rejects `$`-prefixed names at the top of `doc`, allowing a DBRef's `$ref`, `$id`, `$db` in order.
pub(crate) fn check_top_level_names(doc: &Document, context: &str) -> StatusResult<()> {
    let names: Vec<&String> = doc.keys().collect();
    for (i, name) in names.iter().enumerate() {
        if !name.starts_with('$') {
            continue;
        }
        let previous = i.checked_sub(1).and_then(|p| names.get(p)).map(|s| s.as_str());
        let next = names.get(i + 1).map(|s| s.as_str());
        let dbref_ok = match name.as_str() {
            "$ref" => matches!(doc.get("$ref"), Some(Bson::String(_))) && next == Some("$id"),
            "$id" => previous == Some("$ref"),
            "$db" => previous == Some("$id") && matches!(doc.get("$db"), Some(Bson::String(_))),
            _ => false,
        };
        if !dbref_ok {
            return Err(Status::new(
                ErrorCode::DollarPrefixedFieldName,
                format!(
                    "{context}The dollar ($) prefixed field '{name}' in '{name}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith."
                ),
            ));
        }
    }
    Ok(())
}

fn check_id(id: &Bson) -> StatusResult<()> {
    match id {
        Bson::RegularExpression(_) | Bson::Array(_) | Bson::Undefined => Err(Status::new(
            ErrorCode::InvalidIdField,
            format!("The '_id' value cannot be of type {}", type_name(id)),
        )),
        Bson::Document(d) => check_top_level_names(d, "_id fields may not contain '$'-prefixed fields: "),
        _ => Ok(()),
    }
}

fn check_depth(value: &Bson, depth: usize) -> StatusResult<()> {
    let children: Box<dyn Iterator<Item = &Bson>> = match value {
        Bson::Document(d) => Box::new(d.values()),
        Bson::Array(items) => Box::new(items.iter()),
        _ => return Ok(()),
    };
    for child in children {
        if depth >= MAX_DEPTH {
            return Err(Status::new(
                ErrorCode::Overflow,
                format!("Document exceeds maximum nesting depth of {MAX_DEPTH}"),
            ));
        }
        check_depth(child, depth + 1)?;
    }
    Ok(())
}
