//! Catalog entries: what the CATALOG table stores per namespace (UUID, options, the ident that names
//! its document table, and each secondary index's spec, ident and multikey flag). Renaming a
//! collection rewrites only its entry; the tables keep their ident-based names.

use bson::{Bson, Document, doc, spec::BinarySubtype};
use docwire_rpc::{ErrorCode, Status};

use super::index_spec::{id_index, key_fields};
use super::types::{CollectionInfo, IndexSpec};

/// A secondary index in the catalog.
#[derive(Clone, Debug)]
pub(crate) struct IndexMeta {
    /// The spec and flags.
    pub spec: IndexSpec,
    /// Names the index's table.
    pub ident: u64,
    /// The key pattern's fields with `true` for descending (derived from `spec.key`).
    pub fields: Vec<(String, bool)>,
}

impl IndexMeta {
    /// The table holding this index's entries.
    pub fn table(&self) -> String {
        index_table(self.ident)
    }
}

/// A collection in the catalog.
#[derive(Clone, Debug)]
pub(crate) struct CollMeta {
    /// `db.coll`.
    pub ns: String,
    /// listCollections' `info.uuid`.
    pub uuid: bson::Uuid,
    /// Creation options as given.
    pub options: Document,
    /// Names the document table.
    pub ident: u64,
    /// Secondary indexes (the _id index is implicit).
    pub indexes: Vec<IndexMeta>,
}

/// The table of index `ident`.
pub(crate) fn index_table(ident: u64) -> String {
    format!("i{ident}")
}

impl CollMeta {
    /// The table holding the documents, keyed by _id key.
    pub fn docs_table(&self) -> String {
        format!("c{}", self.ident)
    }

    /// The secondary index named `name`.
    pub fn index(&self, name: &str) -> Option<&IndexMeta> {
        self.indexes.iter().find(|i| i.spec.name == name)
    }

    /// The listCollections view, `_id_` first.
    pub fn info(&self) -> CollectionInfo {
        let name = self.ns.split_once('.').map_or("", |(_, c)| c).to_string();
        let mut indexes = vec![id_index()];
        indexes.extend(self.indexes.iter().map(|i| i.spec.clone()));
        CollectionInfo {
            ns: self.ns.clone(),
            name,
            options: self.options.clone(),
            uuid: self.uuid,
            indexes,
        }
    }

    /// The entry as stored.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Status> {
        let indexes: Vec<Bson> = self
            .indexes
            .iter()
            .map(|i| {
                Bson::Document(doc! {
                    "spec": i.spec.spec.clone(),
                    "ident": i.ident as i64,
                    "multikey": i.spec.multikey,
                })
            })
            .collect();
        let entry = doc! {
            "ns": &self.ns,
            "uuid": bson::Binary { subtype: BinarySubtype::Uuid, bytes: self.uuid.bytes().to_vec() },
            "options": self.options.clone(),
            "ident": self.ident as i64,
            "indexes": indexes,
        };
        entry.to_vec().map_err(|e| corrupt(&self.ns, e))
    }

    /// Reads a stored entry; a malformed one is an InternalError naming the namespace.
    pub fn from_bytes(ns: &str, bytes: &[u8]) -> Result<CollMeta, Status> {
        let entry = Document::from_reader(bytes).map_err(|e| corrupt(ns, e))?;
        let uuid = match entry.get("uuid") {
            Some(Bson::Binary(b)) => {
                let arr: [u8; 16] = b.bytes.as_slice().try_into().map_err(|e| corrupt(ns, e))?;
                bson::Uuid::from_bytes(arr)
            }
            _ => return Err(corrupt(ns, "no uuid")),
        };
        let options = entry.get_document("options").map_err(|e| corrupt(ns, e))?.clone();
        let ident = entry.get_i64("ident").map_err(|e| corrupt(ns, e))? as u64;
        let mut indexes = Vec::new();
        for item in entry.get_array("indexes").map_err(|e| corrupt(ns, e))? {
            let Bson::Document(item) = item else {
                return Err(corrupt(ns, "index entry is not a document"));
            };
            indexes.push(index_from_entry(ns, item)?);
        }
        Ok(CollMeta {
            ns: ns.to_string(),
            uuid,
            options,
            ident,
            indexes,
        })
    }
}

fn index_from_entry(ns: &str, item: &Document) -> Result<IndexMeta, Status> {
    let spec = item.get_document("spec").map_err(|e| corrupt(ns, e))?.clone();
    let key = spec.get_document("key").map_err(|e| corrupt(ns, e))?.clone();
    let name = spec.get_str("name").map_err(|e| corrupt(ns, e))?.to_string();
    let flag = |f: &str| spec.get_bool(f).unwrap_or(false);
    let fields = key_fields(&key);
    let spec = IndexSpec {
        name,
        key,
        unique: flag("unique"),
        sparse: flag("sparse"),
        multikey: item.get_bool("multikey").unwrap_or(false),
        spec: spec.clone(),
    };
    let ident = item.get_i64("ident").map_err(|e| corrupt(ns, e))? as u64;
    Ok(IndexMeta { spec, ident, fields })
}

fn corrupt(ns: &str, err: impl std::fmt::Display) -> Status {
    Status::new(
        ErrorCode::InternalError,
        format!("corrupt catalog entry for {ns}: {err}"),
    )
}
