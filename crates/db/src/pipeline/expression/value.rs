//! Helpers over expression values, where `None` is mongod's "missing" (distinct from null).

use bson::Bson;

static UNDEFINED: Bson = Bson::Undefined;

/// mongod's `$type` name for a value (`"missing"` when absent).
pub fn type_name(value: Option<&Bson>) -> &'static str {
    let Some(value) = value else {
        return "missing";
    };
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

/// Aggregation truthiness: false, null, undefined, missing and numeric zero are false.
pub fn truthy(value: Option<&Bson>) -> bool {
    match value {
        None | Some(Bson::Null | Bson::Undefined | Bson::Boolean(false)) => false,
        Some(Bson::Int32(i)) => *i != 0,
        Some(Bson::Int64(i)) => *i != 0,
        Some(Bson::Double(d)) => *d != 0.0,
        Some(v @ Bson::Decimal128(_)) => crate::query::compare::as_f64(v) != 0.0,
        Some(_) => true,
    }
}

/// Whether a value is null, undefined or missing: what most operators answer null for.
pub fn nullish(value: Option<&Bson>) -> bool {
    matches!(value, None | Some(Bson::Null | Bson::Undefined))
}

/// The value to compare with: mongod orders missing with undefined, below null.
pub fn comparable(value: Option<&Bson>) -> &Bson {
    value.unwrap_or(&UNDEFINED)
}
