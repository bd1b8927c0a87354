//! createIndexes specs: validation, mongod's default names (`a_1_b_-1`), the `_id_` index, and the
//! checks for an index that already exists under another name or with another key.

use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status};

use super::types::IndexSpec;

/// The name of the index every collection has.
pub const ID_INDEX_NAME: &str = "_id_";

/// The `_id_` index as listIndexes shows it.
pub fn id_index() -> IndexSpec {
    IndexSpec {
        name: ID_INDEX_NAME.into(),
        key: doc! {"_id": 1},
        unique: true,
        sparse: false,
        multikey: false,
        spec: doc! {"v": 2, "key": {"_id": 1}, "name": ID_INDEX_NAME},
    }
}

/// mongod's default index name: each field and its direction joined by `_` (`a_1_b_-1`).
pub fn default_index_name(key: &Document) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|(field, value)| {
            let v = match value {
                Bson::Double(d) if d.fract() == 0.0 => format!("{}", *d as i64),
                Bson::Int32(i) => i.to_string(),
                Bson::Int64(i) => i.to_string(),
                Bson::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{field}_{v}")
        })
        .collect();
    parts.join("_")
}

/// Validates a createIndexes spec and returns it with its name defaulted and `v: 2` added.
pub fn parse_index_spec(spec: &Document) -> Result<IndexSpec, Status> {
    let key = match spec.get("key") {
        Some(Bson::Document(k)) if !k.is_empty() => k.clone(),
        Some(Bson::Document(_)) => return Err(cannot_create("Index keys cannot be an empty object.")),
        Some(_) => return Err(type_mismatch("The field 'key' must be an object")),
        None => {
            return Err(Status::new(
                ErrorCode::FailedToParse,
                "The 'key' field is a required property of an index specification",
            ));
        }
    };
    for (field, value) in &key {
        check_key_field(field, value)?;
    }
    let name = match spec.get("name") {
        Some(Bson::String(n)) if !n.is_empty() => n.clone(),
        Some(Bson::String(_)) => return Err(cannot_create("The index name cannot be empty")),
        Some(_) => return Err(type_mismatch("The field 'name' must be a string")),
        None => default_index_name(&key),
    };
    for unsupported in [
        "partialFilterExpression",
        "collation",
        "hidden",
        "wildcardProjection",
    ] {
        if spec.contains_key(unsupported) {
            return Err(cannot_create(&format!(
                "docwire does not support the index option '{unsupported}'"
            )));
        }
    }
    let unique = flag(spec, "unique")?;
    let sparse = flag(spec, "sparse")?;
    let mut normalized = doc! {"v": 2, "key": key.clone(), "name": name.clone()};
    for (field, value) in spec {
        if !matches!(field.as_str(), "v" | "key" | "name" | "ns") {
            normalized.insert(field.clone(), value.clone());
        }
    }
    Ok(IndexSpec {
        name,
        key,
        unique,
        sparse,
        multikey: false,
        spec: normalized,
    })
}

/// The key pattern's fields with `true` for descending.
pub fn key_fields(key: &Document) -> Vec<(String, bool)> {
    key.iter()
        .map(|(field, value)| (field.clone(), direction_of(value) < 0.0))
        .collect()
}

/// Whether a requested index is identical to an existing one (true: nothing to do), unrelated (false),
/// or in conflict with it (IndexOptionsConflict 85, IndexKeySpecsConflict 86).
pub fn check_against_existing(requested: &IndexSpec, existing: &IndexSpec) -> Result<bool, Status> {
    let same_key = same_key_pattern(&requested.key, &existing.key);
    let same_name = requested.name == existing.name;
    let same_options = requested.unique == existing.unique && requested.sparse == existing.sparse;
    match (same_name, same_key) {
        (true, true) if same_options => Ok(true),
        (true, true) => Err(Status::new(
            ErrorCode::IndexOptionsConflict,
            format!(
                "An equivalent index already exists with the same name but different options. Requested index: {}, existing index: {}",
                requested.spec, existing.spec
            ),
        )),
        (true, false) => Err(Status::new(
            ErrorCode::IndexKeySpecsConflict,
            format!(
                "An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: {}, existing index: {}",
                requested.spec, existing.spec
            ),
        )),
        (false, true) => Err(Status::new(
            ErrorCode::IndexOptionsConflict,
            format!("Index already exists with a different name: {}", existing.name),
        )),
        (false, false) => Ok(false),
    }
}

/// Whether two key patterns name the same fields in the same order and directions (`1` == `1.0`).
pub fn same_key_pattern(a: &Document, b: &Document) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((fa, va), (fb, vb))| fa == fb && direction_of(va).signum() == direction_of(vb).signum())
}

fn direction_of(value: &Bson) -> f64 {
    match value {
        Bson::Int32(i) => f64::from(*i),
        Bson::Int64(i) => *i as f64,
        Bson::Double(d) => *d,
        Bson::Decimal128(_) => crate::query::compare::as_f64(value),
        _ => 0.0,
    }
}

fn check_key_field(field: &str, value: &Bson) -> Result<(), Status> {
    if field.is_empty() || field.split('.').any(str::is_empty) || field.starts_with('$') {
        return Err(cannot_create(&format!(
            "Index key contains an illegal field name: '{field}'"
        )));
    }
    match value {
        Bson::String(plugin) => Err(cannot_create(&format!(
            "docwire does not support '{plugin}' indexes (field '{field}')"
        ))),
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            let d = direction_of(value);
            if d == 0.0 || d.is_nan() {
                Err(cannot_create("Values in the index key pattern can't be 0."))
            } else {
                Ok(())
            }
        }
        other => Err(cannot_create(&format!(
            "Values in v:2 index key pattern cannot be of type {:?}. Only numbers > 0, numbers < 0, and strings are allowed.",
            other.element_type()
        ))),
    }
}

fn flag(spec: &Document, name: &str) -> Result<bool, Status> {
    match spec.get(name) {
        None | Some(Bson::Null) => Ok(false),
        Some(Bson::Boolean(b)) => Ok(*b),
        Some(v @ (Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_))) => Ok(direction_of(v) != 0.0),
        Some(_) => Err(type_mismatch(&format!("The field '{name}' must be a boolean"))),
    }
}

fn cannot_create(msg: &str) -> Status {
    Status::new(ErrorCode::CannotCreateIndex, msg)
}

fn type_mismatch(msg: &str) -> Status {
    Status::new(ErrorCode::TypeMismatch, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_mongod() {
        assert_eq!(default_index_name(&doc! {"a": 1, "b": -1}), "a_1_b_-1");
        assert_eq!(default_index_name(&doc! {"x.y": 1.0}), "x.y_1");
    }

    #[test]
    fn bad_specs_are_rejected() {
        assert!(parse_index_spec(&doc! {"key": {"a": 0}}).is_err());
        assert!(parse_index_spec(&doc! {"key": {}}).is_err());
        assert!(parse_index_spec(&doc! {"key": {"a": "text"}}).is_err());
        let spec =
            parse_index_spec(&doc! {"key": {"a": 1}, "unique": true}).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            spec.spec,
            doc! {"v": 2, "key": {"a": 1}, "name": "a_1", "unique": true}
        );
    }
}
