//! The keys a document contributes to an index: values at each (dotted) key path, one key per array
//! element (multikey), null for a missing field, encoded with descending components inverted.

use std::collections::BTreeMap;

use bson::{Bson, RawDocument, raw::RawBsonRef};
use docwire_rpc::{ErrorCode, Status};

use super::id::to_bson;
use super::key::encode_component;

/// One index key: its encoded bytes (without the record key) and the values, one per pattern field.
pub(crate) struct IndexKey {
    /// Order-preserving bytes of the values, components concatenated.
    pub bytes: Vec<u8>,
    /// The values, for DuplicateKey's keyValue.
    pub values: Vec<Bson>,
}

/// The distinct keys `doc` contributes to an index over `fields` (`(path, descending)`), in key order.
/// Empty for a sparse index when every field is missing. CannotIndexParallelArrays (171) when more
/// than one field holds an array.
pub(crate) fn index_keys(
    doc: &RawDocument,
    fields: &[(String, bool)],
    sparse: bool,
) -> Result<Vec<IndexKey>, Status> {
    let mut per_field: Vec<Vec<Bson>> = Vec::with_capacity(fields.len());
    let mut array_field: Option<&str> = None;
    let mut any_present = false;
    for (path, _) in fields {
        let mut walk = Walk::default();
        let parts: Vec<&str> = path.split('.').collect();
        match doc.get(parts[0]).map_err(bad)? {
            Some(value) => walk.collect(value, &parts[1..])?,
            None => walk.values.push(Bson::Null),
        }
        if walk.through_array {
            if let Some(other) = array_field {
                return Err(Status::new(
                    ErrorCode::CannotIndexParallelArrays,
                    format!("cannot index parallel arrays [{path}] [{other}]"),
                ));
            }
            array_field = Some(path);
        }
        any_present |= walk.present;
        if walk.values.is_empty() {
            walk.values.push(Bson::Null);
        }
        per_field.push(walk.values);
    }
    if sparse && !any_present {
        return Ok(Vec::new());
    }
    // At most one field has several values, so the product is as long as that field's list.
    let mut keys: BTreeMap<Vec<u8>, Vec<Bson>> = BTreeMap::new();
    let width = per_field.iter().map(Vec::len).max().unwrap_or(1);
    for i in 0..width {
        let mut bytes = Vec::with_capacity(16 * fields.len());
        let mut values = Vec::with_capacity(fields.len());
        for ((_, descending), options) in fields.iter().zip(&per_field) {
            let value = if options.len() == 1 {
                &options[0]
            } else {
                &options[i]
            };
            encode_component(value, *descending, &mut bytes);
            values.push(value.clone());
        }
        keys.entry(bytes).or_insert(values);
    }
    Ok(keys
        .into_iter()
        .map(|(bytes, values)| IndexKey { bytes, values })
        .collect())
}

#[derive(Default)]
struct Walk {
    values: Vec<Bson>,
    through_array: bool,
    present: bool,
}

impl Walk {
    fn collect(&mut self, value: RawBsonRef<'_>, rest: &[&str]) -> Result<(), Status> {
        let Some((next, after)) = rest.split_first() else {
            return self.leaf(value);
        };
        match value {
            RawBsonRef::Document(d) => match d.get(next).map_err(bad)? {
                Some(v) => self.collect(v, after),
                None => {
                    self.values.push(Bson::Null);
                    Ok(())
                }
            },
            RawBsonRef::Array(a) => {
                self.through_array = true;
                if let Ok(index) = next.parse::<usize>()
                    && let Some(element) = a.get(index).map_err(bad)?
                {
                    return self.collect(element, after);
                }
                for element in a {
                    let element = element.map_err(bad)?;
                    if let RawBsonRef::Document(_) = element {
                        self.collect(element, rest)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn leaf(&mut self, value: RawBsonRef<'_>) -> Result<(), Status> {
        self.present = true;
        match value {
            RawBsonRef::Array(a) => {
                self.through_array = true;
                let before = self.values.len();
                for element in a {
                    self.values.push(to_bson(element.map_err(bad)?)?);
                }
                // mongod indexes an empty array as undefined (which sorts with null).
                if self.values.len() == before {
                    self.values.push(Bson::Undefined);
                }
            }
            other => self.values.push(to_bson(other)?),
        }
        Ok(())
    }
}

fn bad(err: impl std::fmt::Display) -> Status {
    Status::new(ErrorCode::BadValue, format!("invalid BSON document: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::rawdoc;

    fn values(doc: &RawDocument, fields: &[(&str, bool)]) -> Vec<Vec<Bson>> {
        let fields: Vec<(String, bool)> = fields.iter().map(|(f, d)| ((*f).to_string(), *d)).collect();
        index_keys(doc, &fields, false)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .into_iter()
            .map(|k| k.values)
            .collect()
    }

    #[test]
    fn arrays_missing_and_dotted_paths() {
        assert_eq!(
            values(&rawdoc! {"a": [2, 1, 2]}, &[("a", false)]),
            vec![vec![Bson::Int32(1)], vec![Bson::Int32(2)]]
        );
        assert_eq!(values(&rawdoc! {"b": 1}, &[("a", false)]), vec![vec![Bson::Null]]);
        assert_eq!(
            values(&rawdoc! {"a": [{"b": 1}, {"c": 2}]}, &[("a.b", false)]),
            vec![vec![Bson::Null], vec![Bson::Int32(1)]]
        );
        let fields = vec![("a".to_string(), false), ("b".to_string(), false)];
        assert!(index_keys(&rawdoc! {"a": [1], "b": [2]}, &fields, false).is_err());
        assert!(
            index_keys(&rawdoc! {"c": 1}, &fields, true)
                .map(|k| k.is_empty())
                .unwrap_or(false)
        );
    }
}
