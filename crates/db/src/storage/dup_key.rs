//! The DuplicateKey (11000) status in mongod's shape: its errmsg, and `keyPattern`/`keyValue` as extra
//! info so the command layer can put them in the writeError.

use std::fmt::Write;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status};

/// DuplicateKey for `values` (one per key-pattern field) colliding in index `index` of `ns`.
pub(crate) fn duplicate_key(ns: &str, index: &str, key_pattern: &Document, values: &[Bson]) -> Status {
    let mut key_value = Document::new();
    for ((field, _), value) in key_pattern.iter().zip(values) {
        key_value.insert(field.clone(), value.clone());
    }
    let errmsg = format!(
        "E11000 duplicate key error collection: {ns} index: {index} dup key: {}",
        shell_document(&key_value)
    );
    Status::new(ErrorCode::DuplicateKey, errmsg).with_extra_info(bson::doc! {
        "keyPattern": key_pattern.clone(),
        "keyValue": key_value,
    })
}

/// A document as mongod's `BSONObj::toString` prints it: `{ _id: 1, s: "x" }`.
fn shell_document(doc: &Document) -> String {
    if doc.is_empty() {
        return "{}".into();
    }
    let mut out = String::from("{ ");
    for (i, (k, v)) in doc.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{k}: {}", shell_value(v));
    }
    out.push_str(" }");
    out
}

fn shell_value(value: &Bson) -> String {
    match value {
        Bson::Int32(i) => i.to_string(),
        Bson::Int64(i) => i.to_string(),
        Bson::Double(d) if d.fract() == 0.0 && d.is_finite() => format!("{d:.1}"),
        Bson::Double(d) => d.to_string(),
        Bson::String(s) => format!("{s:?}"),
        Bson::ObjectId(oid) => format!("ObjectId('{}')", oid.to_hex()),
        Bson::Boolean(b) => b.to_string(),
        Bson::Null => "null".into(),
        Bson::Undefined => "undefined".into(),
        Bson::MinKey => "MinKey".into(),
        Bson::MaxKey => "MaxKey".into(),
        Bson::DateTime(d) => format!("new Date({})", d.timestamp_millis()),
        Bson::Document(d) => shell_document(d),
        Bson::Array(items) if items.is_empty() => "[]".into(),
        Bson::Array(items) => {
            let parts: Vec<String> = items.iter().map(shell_value).collect();
            format!("[ {} ]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn message_matches_mongod() {
        let status = duplicate_key("db.coll", "_id_", &doc! {"_id": 1}, &[Bson::Int32(1)]);
        assert_eq!(status.code(), ErrorCode::DuplicateKey);
        assert_eq!(
            status.reason(),
            "E11000 duplicate key error collection: db.coll index: _id_ dup key: { _id: 1 }"
        );
        assert_eq!(
            status.extra_info(),
            Some(&doc! {"keyPattern": {"_id": 1}, "keyValue": {"_id": 1}})
        );
        let status = duplicate_key(
            "d.c",
            "a_1_b_-1",
            &doc! {"a": 1, "b": -1},
            &["x".into(), 2.5.into()],
        );
        assert!(
            status.reason().ends_with("dup key: { a: \"x\", b: 2.5 }"),
            "{}",
            status.reason()
        );
    }
}
