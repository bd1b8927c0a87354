//! Upserts: the document an upsert starts from (mongod's equality extraction from the query), and
//! the document it inserts.

use bson::{Bson, Document, oid::ObjectId};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::spec::{ApplyContext, UpdateSpec};

/// The document an upsert starts from: the query's equality conditions (`{a: 1}`, `{a: {$eq: 1}}`,
/// inside `$and`, one-element `$in` and one-clause `$or`), dotted paths expanded into embedded
/// documents, in the sorted path order mongod adds them. Other conditions are skipped; a path
/// matched twice, or along with its prefix, is NotSingleValueField 54.
pub fn upsert_seed(filter: &Document) -> StatusResult<Document> {
    let mut equalities = Vec::new();
    collect_equalities(filter, &mut equalities);
    build_seed(equalities)
}

impl UpdateSpec {
    /// The document an upsert inserts when nothing matched `filter`: the seed (only `_id` for a
    /// replacement), the update applied as an insert, and `_id` first (a new ObjectId if absent).
    pub fn upsert_document(&self, filter: &Document, now: bson::DateTime) -> StatusResult<Document> {
        let mut doc = if self.is_replacement() {
            id_seed(filter)?
        } else {
            upsert_seed(filter)?
        };
        self.apply(
            &mut doc,
            ApplyContext {
                is_upsert_insert: true,
                now,
            },
        )?;
        let id = doc
            .remove("_id")
            .unwrap_or_else(|| Bson::ObjectId(ObjectId::new()));
        let mut with_id = Document::new();
        with_id.insert("_id", id);
        with_id.extend(doc);
        Ok(with_id)
    }
}

/// For a replacement upsert only `_id` comes from the query; a condition on a path under `_id`
/// cannot say what `_id` is (NotExactValueField 111).
fn id_seed(filter: &Document) -> StatusResult<Document> {
    let mut equalities = Vec::new();
    collect_equalities(filter, &mut equalities);
    let mut kept = Vec::new();
    for (path, value) in equalities {
        if path == "_id" {
            kept.push((path, value));
        } else if path.starts_with("_id.") {
            return Err(Status::new(
                ErrorCode::NotExactValueField,
                format!("field at '_id' must be exactly specified, field at sub-path '{path}'found"),
            ));
        }
    }
    build_seed(kept)
}

fn collect_equalities(filter: &Document, out: &mut Vec<(String, Bson)>) {
    for (key, value) in filter {
        match key.as_str() {
            "$and" => each_clause(value, out),
            // A single-clause $or is the clause itself once mongod canonicalizes the query.
            "$or" if matches!(value, Bson::Array(items) if items.len() == 1) => each_clause(value, out),
            k if k.starts_with('$') => {}
            _ => match value {
                Bson::Document(ops) if ops.keys().next().is_some_and(|k| k.starts_with('$')) => {
                    for (op, operand) in ops {
                        match (op.as_str(), operand) {
                            ("$eq", v) => out.push((key.clone(), v.clone())),
                            ("$in", Bson::Array(items)) if items.len() == 1 => {
                                if let Some(v) =
                                    items.first().filter(|v| !matches!(v, Bson::RegularExpression(_)))
                                {
                                    out.push((key.clone(), v.clone()));
                                }
                            }
                            ("$and", _) => {}
                            _ => {}
                        }
                    }
                }
                // A regex is a pattern match, not an equality.
                Bson::RegularExpression(_) => {}
                v => out.push((key.clone(), v.clone())),
            },
        }
    }
}

fn each_clause(value: &Bson, out: &mut Vec<(String, Bson)>) {
    if let Bson::Array(items) = value {
        for item in items {
            if let Bson::Document(clause) = item {
                collect_equalities(clause, out);
            }
        }
    }
}

fn build_seed(mut equalities: Vec<(String, Bson)>) -> StatusResult<Document> {
    // mongod keeps equalities in a map ordered by the dotted path's bytes.
    equalities.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (i, (path, _)) in equalities.iter().enumerate() {
        for (earlier, _) in &equalities[..i] {
            if earlier == path {
                return Err(not_single(format!("path '{path}' is matched twice")));
            }
            if path.starts_with(earlier.as_str()) && path.as_bytes().get(earlier.len()) == Some(&b'.') {
                return Err(not_single(format!(
                    "both paths '{path}' and '{earlier}' are matched"
                )));
            }
        }
    }
    let mut seed = Document::new();
    for (path, value) in equalities {
        set_path(&mut seed, &path, value);
    }
    Ok(seed)
}

fn not_single(detail: String) -> Status {
    Status::new(
        ErrorCode::NotSingleValueField,
        format!("cannot infer query fields to set, {detail}"),
    )
}

/// Sets a dotted path, creating embedded documents (the paths are prefix-free, so nothing is in the
/// way).
fn set_path(doc: &mut Document, path: &str, value: Bson) {
    match path.split_once('.') {
        None => {
            doc.insert(path, value);
        }
        Some((head, rest)) => {
            let entry = doc
                .entry(head.to_owned())
                .or_insert_with(|| Bson::Document(Document::new()));
            if !matches!(entry, Bson::Document(_)) {
                *entry = Bson::Document(Document::new());
            }
            if let Bson::Document(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}
