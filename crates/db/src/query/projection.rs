//! find's projection: inclusion or exclusion of (dotted) fields, `_id` included unless excluded,
//! with mongod's errors for mixed modes and colliding paths. Positional, `$slice`, `$elemMatch` and
//! computed fields are not supported (NotImplemented).

use bson::{Bson, Document};

use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::query::path::check_field_path;

/// A parsed projection.
#[derive(Clone, Debug)]
pub struct Projection {
    mode: Mode,
    root: Node,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `{}`: documents pass through unchanged.
    Identity,
    /// Only the named fields (and `_id` unless excluded).
    Inclusion,
    /// Everything but the named fields.
    Exclusion,
}

/// The projection's fields as a tree of path components, in specification order.
#[derive(Clone, Debug, Default)]
struct Node {
    children: Vec<(String, Child)>,
}

#[derive(Clone, Debug)]
enum Child {
    /// The whole value at this path is included (true) or excluded (false).
    Leaf(bool),
    /// Some fields below this path are named.
    Inner(Node),
}

impl Node {
    fn get(&self, name: &str) -> Option<&Child> {
        self.children.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Child> {
        self.children.iter_mut().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// Adds `parts` (the tail of `full`) as a leaf, rejecting paths that overlap an existing one.
    fn insert(&mut self, parts: &[&str], full: &str, include: bool) -> StatusResult<()> {
        let Some((first, rest)) = parts.split_first() else {
            return Ok(());
        };
        if rest.is_empty() {
            if self.get(first).is_some() {
                return Err(Status::new(
                    ErrorCode::Location(31250),
                    format!("Path collision at {full}"),
                ));
            }
            self.children.push(((*first).to_owned(), Child::Leaf(include)));
            return Ok(());
        }
        match self.get_mut(first) {
            Some(Child::Inner(node)) => node.insert(rest, full, include),
            Some(Child::Leaf(_)) => Err(Status::new(
                ErrorCode::Location(31249),
                format!("Path collision at {full} remaining portion {}", rest.join(".")),
            )),
            None => {
                let mut node = Node::default();
                node.insert(rest, full, include)?;
                self.children.push(((*first).to_owned(), Child::Inner(node)));
                Ok(())
            }
        }
    }
}

impl Projection {
    /// Parses a projection document: values 1/0/true/false (any non-zero number includes).
    pub fn parse(spec: &Document) -> StatusResult<Projection> {
        let mut mode = Mode::Identity;
        let mut root = Node::default();
        let mut id_only: Option<bool> = None;
        for (field, value) in spec {
            let include = inclusion_flag(field, value)?;
            check_field_path(field)?;
            if field == "_id" {
                // _id may go either way in either mode; alone, it decides the mode.
                id_only = Some(include);
            } else {
                match (mode, include) {
                    (Mode::Identity, true) => mode = Mode::Inclusion,
                    (Mode::Identity, false) => mode = Mode::Exclusion,
                    (Mode::Inclusion, false) => {
                        return Err(Status::new(
                            ErrorCode::Location(31254),
                            format!("Cannot do exclusion on field {field} in inclusion projection"),
                        ));
                    }
                    (Mode::Exclusion, true) => {
                        return Err(Status::new(
                            ErrorCode::Location(31253),
                            format!("Cannot do inclusion on field {field} in exclusion projection"),
                        ));
                    }
                    _ => {}
                }
            }
            let parts: Vec<&str> = field.split('.').collect();
            root.insert(&parts, field, include)?;
        }
        if mode == Mode::Identity {
            mode = match id_only {
                Some(true) => Mode::Inclusion,
                Some(false) => Mode::Exclusion,
                None => Mode::Identity,
            };
        }
        Ok(Projection { mode, root })
    }

    /// Whether the projection leaves documents unchanged (`{}`).
    pub fn is_identity(&self) -> bool {
        self.mode == Mode::Identity
    }

    /// Projects `doc`; fields keep the document's order.
    pub fn apply(&self, doc: &Document) -> Document {
        match self.mode {
            Mode::Identity => doc.clone(),
            Mode::Inclusion => include_document(doc, &self.root, true),
            Mode::Exclusion => exclude_document(doc, &self.root),
        }
    }
}

fn inclusion_flag(field: &str, value: &Bson) -> StatusResult<bool> {
    match value {
        Bson::Boolean(b) => Ok(*b),
        Bson::Int32(i) => Ok(*i != 0),
        Bson::Int64(i) => Ok(*i != 0),
        Bson::Double(d) => Ok(*d != 0.0),
        Bson::Decimal128(_) => Ok(crate::query::compare::as_f64(value) != 0.0),
        _ => Err(Status::new(
            ErrorCode::NotImplemented,
            format!("projection value for field {field} is not supported: only 0/1/true/false"),
        )),
    }
}

/// Inclusion: keeps only the named fields; `top` applies the default `_id` inclusion.
fn include_document(doc: &Document, node: &Node, top: bool) -> Document {
    let mut out = Document::new();
    for (name, value) in doc {
        match node.get(name) {
            Some(Child::Leaf(true)) => {
                out.insert(name.clone(), value.clone());
            }
            Some(Child::Inner(inner)) => {
                if let Some(v) = include_value(value, inner) {
                    out.insert(name.clone(), v);
                }
            }
            None if top && name == "_id" => {
                out.insert(name.clone(), value.clone());
            }
            Some(Child::Leaf(false)) | None => {}
        }
    }
    out
}

/// A value under an inner inclusion node: documents are projected, arrays keep their projected
/// documents (and nested arrays), and scalars disappear.
fn include_value(value: &Bson, node: &Node) -> Option<Bson> {
    match value {
        Bson::Document(d) => Some(Bson::Document(include_document(d, node, false))),
        Bson::Array(items) => Some(Bson::Array(
            items
                .iter()
                .filter_map(|item| include_value(item, node))
                .collect(),
        )),
        _ => None,
    }
}

/// Exclusion: drops the named fields, keeping everything else as it is.
fn exclude_document(doc: &Document, node: &Node) -> Document {
    let mut out = Document::new();
    for (name, value) in doc {
        match node.get(name) {
            Some(Child::Leaf(false)) => {}
            Some(Child::Inner(inner)) => {
                out.insert(name.clone(), exclude_value(value, inner));
            }
            Some(Child::Leaf(true)) | None => {
                out.insert(name.clone(), value.clone());
            }
        }
    }
    out
}

fn exclude_value(value: &Bson, node: &Node) -> Bson {
    match value {
        Bson::Document(d) => Bson::Document(exclude_document(d, node)),
        Bson::Array(items) => Bson::Array(items.iter().map(|item| exclude_value(item, node)).collect()),
        other => other.clone(),
    }
}
