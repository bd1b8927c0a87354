//! mongod's text forms of values and type names, for error messages that drivers and tests compare
//! against mongod's (`{_id: 1}`, `of non-numeric type string`).

use bson::{Bson, Document};

/// mongod's `typeName()` for a value's BSON type.
pub(crate) fn type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Binary(_) => "binData",
        Bson::Undefined => "undefined",
        Bson::ObjectId(_) => "objectId",
        Bson::Boolean(_) => "bool",
        Bson::DateTime(_) => "date",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regex",
        Bson::DbPointer(_) => "dbPointer",
        Bson::JavaScriptCode(_) => "javascript",
        Bson::Symbol(_) => "symbol",
        Bson::JavaScriptCodeWithScope(_) => "javascriptWithScope",
        Bson::Int32(_) => "int",
        Bson::Timestamp(_) => "timestamp",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        Bson::MinKey => "minKey",
        Bson::MaxKey => "maxKey",
    }
}

/// A value as mongod's `BSONElement::toString` prints it (without the field name).
pub(crate) fn value_string(value: &Bson) -> String {
    match value {
        Bson::Double(d) if d.is_finite() && d.fract() == 0.0 && d.abs() < 1e15 => format!("{d:.1}"),
        Bson::Double(d) => format!("{d}"),
        Bson::String(s) | Bson::Symbol(s) => format!("\"{s}\""),
        Bson::Document(d) => document_string(d),
        Bson::Array(items) if items.is_empty() => "[]".to_owned(),
        Bson::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_string).collect();
            format!("[ {} ]", parts.join(", "))
        }
        Bson::ObjectId(oid) => format!("ObjectId('{oid}')"),
        Bson::Boolean(b) => b.to_string(),
        Bson::Null => "null".to_owned(),
        Bson::Undefined => "undefined".to_owned(),
        Bson::Int32(i) => i.to_string(),
        Bson::Int64(i) => i.to_string(),
        Bson::DateTime(d) => format!("new Date({})", d.timestamp_millis()),
        Bson::Timestamp(t) => format!("Timestamp({}, {})", t.time, t.increment),
        Bson::Decimal128(d) => format!("NumberDecimal(\"{d}\")"),
        Bson::RegularExpression(r) => format!("/{}/{}", r.pattern, r.options),
        Bson::MinKey => "MinKey".to_owned(),
        Bson::MaxKey => "MaxKey".to_owned(),
        other => format!("{other}"),
    }
}

/// A document as mongod prints an embedded object: `{ a: 1, b: "x" }`.
pub(crate) fn document_string(doc: &Document) -> String {
    if doc.is_empty() {
        return "{}".to_owned();
    }
    let parts: Vec<String> = doc.iter().map(|(k, v)| element_string(k, v)).collect();
    format!("{{ {} }}", parts.join(", "))
}

/// An element as `name: value`.
pub(crate) fn element_string(name: &str, value: &Bson) -> String {
    format!("{name}: {}", value_string(value))
}

/// The `{_id: ...}` part of mongod's messages about a document (`no id` without one).
pub(crate) fn id_string(doc: &Document) -> String {
    match doc.get("_id") {
        Some(id) => element_string("_id", id),
        None => "no id".to_owned(),
    }
}

/// A number as SafeNum's `debugString` prints it: `(NumberInt)42`.
pub(crate) fn safe_num_string(value: &Bson) -> String {
    match value {
        Bson::Int32(i) => format!("(NumberInt){i}"),
        Bson::Int64(i) => format!("(NumberLong){i}"),
        Bson::Double(d) => format!("(NumberDouble){d}"),
        Bson::Decimal128(d) => format!("(NumberDecimal){d}"),
        other => format!("(EOO){}", value_string(other)),
    }
}
