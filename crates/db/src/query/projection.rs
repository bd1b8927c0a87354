//! Projection, for find and for the pipeline's `$project` and `$unset` (mongod's ProjectionNode): a
//! tree of (dotted) paths kept, dropped or computed, an inclusion or exclusion mode with `_id` included
//! unless excluded, and mongod's errors for mixed modes and colliding paths. What a computed field holds
//! is the caller's: find's projection has none ([`NoComputed`]: any value but a number or a boolean is
//! NotImplemented, as are positional, `$slice` and `$elemMatch`), the pipeline's hold its expressions
//! and it sets them on what [`Projection::apply`] kept.

use bson::{Bson, Document};

use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::query::path::check_field_path;

/// What a find projection's computed fields hold: nothing, as it has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoComputed {}

/// A parsed projection; its computed fields hold a `C` (find's: none).
#[derive(Clone, Debug)]
pub struct Projection<C = NoComputed> {
    mode: Mode,
    root: Node<C>,
}

/// How a projection treats the fields it does not name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `{}`: documents pass through unchanged.
    Identity,
    /// Only the named fields (and `_id` unless excluded), then the computed ones.
    Inclusion,
    /// Everything but the named fields.
    Exclusion,
}

/// One level of a projection's paths, in specification order.
#[derive(Clone, Debug)]
pub struct Node<C> {
    children: Vec<(String, Child<C>)>,
    /// Whether any computed field is at or below this node.
    computed: bool,
}

/// What a projection does with the value under one path component.
#[derive(Clone, Debug)]
pub enum Child<C> {
    /// Keep (true) or drop (false) the whole value.
    Include(bool),
    /// Set the value computed from this.
    Computed(C),
    /// Fields below this one.
    Inner(Node<C>),
}

// Not derived: a derived Default would require `C: Default`.
impl<C> Default for Node<C> {
    fn default() -> Self {
        Node {
            children: Vec::new(),
            computed: false,
        }
    }
}

impl<C> Node<C> {
    /// The children, in specification order.
    pub fn children(&self) -> &[(String, Child<C>)] {
        &self.children
    }

    /// Whether any computed field is at or below this node.
    pub fn has_computed(&self) -> bool {
        self.computed
    }

    fn get(&self, name: &str) -> Option<&Child<C>> {
        self.children.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// Adds the dotted path `full` as `child`, rejecting a path that overlaps one already there
    /// (31250 the same path or a prefix of it, 31249 a path through a whole value).
    pub fn insert(&mut self, full: &str, child: Child<C>) -> StatusResult<()> {
        let parts: Vec<&str> = full.split('.').collect();
        self.insert_parts(&parts, full, child)
    }

    fn insert_parts(&mut self, parts: &[&str], full: &str, child: Child<C>) -> StatusResult<()> {
        let Some((first, rest)) = parts.split_first() else {
            return Ok(());
        };
        if matches!(child, Child::Computed(_)) {
            self.computed = true;
        }
        let existing = self.children.iter_mut().find(|(n, _)| n == first).map(|(_, c)| c);
        match (existing, rest.is_empty()) {
            (Some(_), true) => Err(Status::new(
                ErrorCode::Location(31250),
                format!("Path collision at {full}"),
            )),
            (Some(Child::Inner(node)), false) => node.insert_parts(rest, full, child),
            (Some(_), false) => Err(Status::new(
                ErrorCode::Location(31249),
                format!("Path collision at {full} remaining portion {}", rest.join(".")),
            )),
            (None, true) => {
                self.children.push(((*first).to_owned(), child));
                Ok(())
            }
            (None, false) => {
                let mut node = Node::default();
                node.insert_parts(rest, full, child)?;
                self.children.push(((*first).to_owned(), Child::Inner(node)));
                Ok(())
            }
        }
    }
}

/// Builds a projection field by field, deciding its mode from them as mongod does.
#[derive(Debug)]
pub struct ProjectionBuilder<C> {
    /// Identity until a field other than `_id` decides it.
    mode: Mode,
    id: Option<bool>,
    root: Node<C>,
}

impl<C> Default for ProjectionBuilder<C> {
    fn default() -> Self {
        ProjectionBuilder {
            mode: Mode::Identity,
            id: None,
            root: Node::default(),
        }
    }
}

impl<C> ProjectionBuilder<C> {
    /// An empty projection (the identity).
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps (`include`) or drops the dotted path `full`, already checked with `check_field_path`.
    /// `_id` may go either way in either mode; any other path decides the mode or must agree with it
    /// (31253, 31254).
    pub fn flag(&mut self, full: &str, include: bool) -> StatusResult<()> {
        if full == "_id" {
            self.id = Some(include);
        } else {
            match (self.mode, include) {
                (Mode::Identity, true) => self.mode = Mode::Inclusion,
                (Mode::Identity, false) => self.mode = Mode::Exclusion,
                (Mode::Inclusion, false) => {
                    return Err(Status::new(
                        ErrorCode::Location(31254),
                        format!("Cannot do exclusion on field {full} in inclusion projection"),
                    ));
                }
                (Mode::Exclusion, true) => {
                    return Err(Status::new(
                        ErrorCode::Location(31253),
                        format!("Cannot do inclusion on field {full} in exclusion projection"),
                    ));
                }
                _ => {}
            }
        }
        self.root.insert(full, Child::Include(include))
    }

    /// Computes the dotted path `full` with what `parse` returns; it makes the projection an inclusion
    /// (31252 in an exclusion one, before `parse` runs, as in mongod).
    pub fn computed(&mut self, full: &str, parse: impl FnOnce() -> StatusResult<C>) -> StatusResult<()> {
        if self.mode == Mode::Exclusion {
            return Err(Status::new(
                ErrorCode::Location(31252),
                "Cannot use expression other than $meta in exclusion projection",
            ));
        }
        self.mode = Mode::Inclusion;
        let value = parse()?;
        self.root.insert(full, Child::Computed(value))
    }

    /// The projection. When only `_id` was named, it decides the mode; when nothing was, documents
    /// pass through unchanged.
    pub fn finish(self) -> Projection<C> {
        let mode = match (self.mode, self.id) {
            (Mode::Identity, Some(true)) => Mode::Inclusion,
            (Mode::Identity, Some(false)) => Mode::Exclusion,
            (mode, _) => mode,
        };
        Projection {
            mode,
            root: self.root,
        }
    }
}

/// A numeric or boolean projection value as keep (non-zero, true) or drop; `None` for anything else.
pub fn inclusion_flag(value: &Bson) -> Option<bool> {
    match value {
        Bson::Boolean(b) => Some(*b),
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            Some(crate::query::compare::as_f64(value) != 0.0)
        }
        _ => None,
    }
}

impl Projection {
    /// Parses a find projection: values 1/0/true/false (any non-zero number includes).
    pub fn parse(spec: &Document) -> StatusResult<Projection> {
        let mut builder = ProjectionBuilder::new();
        for (field, value) in spec {
            let Some(include) = inclusion_flag(value) else {
                return Err(Status::new(
                    ErrorCode::NotImplemented,
                    format!("projection value for field {field} is not supported: only 0/1/true/false"),
                ));
            };
            check_field_path(field)?;
            builder.flag(field, include)?;
        }
        Ok(builder.finish())
    }
}

impl<C> Projection<C> {
    /// Whether the projection leaves documents unchanged (`{}`).
    pub fn is_identity(&self) -> bool {
        self.mode == Mode::Identity
    }

    /// Its mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Its paths.
    pub fn root(&self) -> &Node<C> {
        &self.root
    }

    /// Keeps or drops `doc`'s fields, which keep the document's order; computed fields are left out,
    /// for the caller to set.
    pub fn apply(&self, doc: &Document) -> Document {
        match self.mode {
            Mode::Identity => doc.clone(),
            Mode::Inclusion => include_document(doc, &self.root, true),
            Mode::Exclusion => exclude_document(doc, &self.root),
        }
    }
}

/// Inclusion: keeps only the named fields; `top` applies the default `_id` inclusion.
fn include_document<C>(doc: &Document, node: &Node<C>, top: bool) -> Document {
    let mut out = Document::new();
    for (name, value) in doc {
        match node.get(name) {
            Some(Child::Include(true)) => {
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
            Some(Child::Include(false) | Child::Computed(_)) | None => {}
        }
    }
    out
}

/// A value under an inner inclusion node: documents are projected, arrays keep their projected
/// documents (and nested arrays), and scalars disappear.
fn include_value<C>(value: &Bson, node: &Node<C>) -> Option<Bson> {
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

/// Exclusion: drops the named fields, keeping everything else as it is (an exclusion has no
/// computed fields).
fn exclude_document<C>(doc: &Document, node: &Node<C>) -> Document {
    let mut out = Document::new();
    for (name, value) in doc {
        match node.get(name) {
            Some(Child::Include(false)) => {}
            Some(Child::Inner(inner)) => {
                out.insert(name.clone(), exclude_value(value, inner));
            }
            Some(Child::Include(true) | Child::Computed(_)) | None => {
                out.insert(name.clone(), value.clone());
            }
        }
    }
    out
}

fn exclude_value<C>(value: &Bson, node: &Node<C>) -> Bson {
    match value {
        Bson::Document(d) => Bson::Document(exclude_document(d, node)),
        Bson::Array(items) => Bson::Array(items.iter().map(|item| exclude_value(item, node)).collect()),
        other => other.clone(),
    }
}
