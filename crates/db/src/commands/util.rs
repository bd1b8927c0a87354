//! Helpers shared by the db commands: reading typed fields with mongod's errors, the target
//! namespace, the cursor owner, and raw/decoded document conversions.

use bson::raw::RawDocumentBuf;
use bson::{Bson, Document, RawBsonRef};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_transport::{CommandRequest, RequestContext};

use crate::cursor::CursorOwner;

/// The collection a command names in its first field (`{find: "c"}`), as `db.c`.
pub fn target_namespace(request: &CommandRequest<'_>) -> StatusResult<(String, String)> {
    match request.field(request.name) {
        Some(RawBsonRef::String(coll)) if !coll.is_empty() => {
            let ns = format!("{}.{coll}", request.database);
            crate::storage::validate_ns(&ns)?;
            Ok((ns, coll.to_owned()))
        }
        Some(RawBsonRef::String(_)) => Err(Status::new(
            ErrorCode::InvalidNamespace,
            format!("Invalid namespace specified '{}.'", request.database),
        )),
        _ => Err(Status::new(
            ErrorCode::InvalidNamespace,
            format!(
                "collection name has invalid type {}",
                type_name(request.field(request.name))
            ),
        )),
    }
}

fn type_name(value: Option<RawBsonRef<'_>>) -> String {
    value.map_or_else(
        || "missing".to_owned(),
        |v| format!("{:?}", v.element_type()).to_lowercase(),
    )
}

/// A top-level document field (`filter`, `sort`, ...): absent -> `None`; not a document -> TypeMismatch.
pub fn optional_document(body: &Document, field: &str) -> StatusResult<Option<Document>> {
    match body.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Document(d)) => Ok(Some(d.clone())),
        Some(other) => Err(Status::new(
            ErrorCode::TypeMismatch,
            format!(
                "BSON field '{field}' is the wrong type '{}', expected type 'object'",
                bson_type_name(other)
            ),
        )),
    }
}

/// The `arrayFilters` of an update or findAndModify (`qualified` names the field in messages):
/// absent -> empty; not an array of documents -> TypeMismatch.
pub fn array_filters(body: &Document, qualified: &str) -> StatusResult<Vec<Document>> {
    let wrong = |field: &str, value: &Bson, expected: &str| {
        Status::new(
            ErrorCode::TypeMismatch,
            format!(
                "BSON field '{field}' is the wrong type '{}', expected type '{expected}'",
                bson_type_name(value)
            ),
        )
    };
    match body.get("arrayFilters") {
        None | Some(Bson::Null) => Ok(Vec::new()),
        Some(Bson::Array(items)) => items
            .iter()
            .map(|item| match item {
                Bson::Document(d) => Ok(d.clone()),
                other => Err(wrong(qualified, other, "object")),
            })
            .collect(),
        Some(other) => Err(wrong(qualified, other, "array")),
    }
}

/// A top-level non-negative integer field (`limit`, `skip`, `batchSize`).
pub fn optional_count(body: &Document, field: &str) -> StatusResult<Option<i64>> {
    let value = match body.get(field) {
        None | Some(Bson::Null) => return Ok(None),
        Some(Bson::Int32(v)) => i64::from(*v),
        Some(Bson::Int64(v)) => *v,
        Some(Bson::Double(v)) if v.fract() == 0.0 => *v as i64,
        Some(other) => {
            return Err(Status::new(
                ErrorCode::TypeMismatch,
                format!(
                    "BSON field '{field}' is the wrong type '{}', expected types '[long, int, decimal, double]'",
                    bson_type_name(other)
                ),
            ));
        }
    };
    if value < 0 {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!("{field} value must be non-negative, but received: {value}"),
        ));
    }
    Ok(Some(value))
}

/// A top-level boolean field, with mongod's leniency for numbers.
pub fn optional_bool(body: &Document, field: &str) -> StatusResult<Option<bool>> {
    match body.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Boolean(b)) => Ok(Some(*b)),
        Some(Bson::Int32(v)) => Ok(Some(*v != 0)),
        Some(Bson::Int64(v)) => Ok(Some(*v != 0)),
        Some(Bson::Double(v)) => Ok(Some(*v != 0.0)),
        Some(other) => Err(Status::new(
            ErrorCode::TypeMismatch,
            format!(
                "BSON field '{field}' is the wrong type '{}', expected type 'bool'",
                bson_type_name(other)
            ),
        )),
    }
}

/// mongod's type name for a value (as in its error messages).
pub fn bson_type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Binary(_) => "binData",
        Bson::ObjectId(_) => "objectId",
        Bson::Boolean(_) => "bool",
        Bson::DateTime(_) => "date",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regex",
        Bson::Int32(_) => "int",
        Bson::Timestamp(_) => "timestamp",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        _ => "unknown",
    }
}

/// Who owns the cursors this command opens: its connection, or its logical session.
pub fn cursor_owner(ctx: &RequestContext<'_>, body: &Document) -> CursorOwner {
    CursorOwner {
        connection_id: ctx.client.client().connection_id(),
        lsid: body.get_document("lsid").ok().cloned(),
    }
}

/// A raw document as a decoded one (InvalidBSON if it does not decode).
pub fn decode(doc: &bson::RawDocument) -> StatusResult<Document> {
    Document::try_from(doc).map_err(|e| Status::new(ErrorCode::InvalidBSON, format!("invalid document: {e}")))
}

/// A decoded document as raw bytes.
pub fn encode(doc: &Document) -> StatusResult<RawDocumentBuf> {
    RawDocumentBuf::try_from(doc)
        .map_err(|e| Status::new(ErrorCode::BadValue, format!("cannot encode document: {e}")))
}

/// The command decoded with its document sequences merged in.
pub fn command_document(request: &CommandRequest<'_>) -> StatusResult<Document> {
    request.merged()
}
