//! `$project`, `$addFields`/`$set` and `$unset` as one tree of paths (mongod's ProjectionNode):
//! inclusion keeps named fields (and `_id`) then sets computed ones; exclusion drops named fields;
//! add-fields sets computed fields on the whole document. Dotted paths reach into embedded documents
//! and into every element of arrays, as mongod does.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::expression::value::type_name;
use crate::pipeline::expression::{Expression, Vars};
use crate::query::path::check_field_path;

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Inclusion,
    Exclusion,
    AddFields,
}

#[derive(Clone, Debug)]
enum Child {
    /// Keep (true) or drop (false) the whole value.
    Include(bool),
    /// Set the value an expression computes (missing removes the field).
    Computed(Expression),
    /// Fields below this one.
    Inner(Node),
}

#[derive(Clone, Debug, Default)]
struct Node {
    children: Vec<(String, Child)>,
    /// Whether any computed field is at or below this node.
    computed: bool,
}

impl Node {
    fn get(&self, name: &str) -> Option<&Child> {
        self.children.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    fn insert(&mut self, parts: &[String], full: &str, child: Child) -> StatusResult<()> {
        let Some((first, rest)) = parts.split_first() else {
            return Ok(());
        };
        if matches!(child, Child::Computed(_)) {
            self.computed = true;
        }
        let existing = self.children.iter_mut().find(|(n, _)| n == first).map(|(_, c)| c);
        match (existing, rest.is_empty()) {
            (Some(_), true) => Err(err(31250, format!("Path collision at {full}"))),
            (Some(Child::Inner(node)), false) => node.insert(rest, full, child),
            (Some(_), false) => Err(err(
                31249,
                format!("Path collision at {full} remaining portion {}", rest.join(".")),
            )),
            (None, true) => {
                self.children.push((first.clone(), child));
                Ok(())
            }
            (None, false) => {
                let mut node = Node::default();
                node.insert(rest, full, child)?;
                self.children.push((first.clone(), Child::Inner(node)));
                Ok(())
            }
        }
    }
}

/// A parsed `$project`, `$addFields`/`$set` or `$unset`.
#[derive(Clone, Debug)]
pub struct Shape {
    mode: Mode,
    root: Node,
}

/// Builds a tree while deciding the projection's mode from its fields.
struct Builder {
    mode: Option<Mode>,
    id: Option<bool>,
    root: Node,
}

fn joined(prefix: &[String], field: &str) -> (Vec<String>, String) {
    let mut parts = prefix.to_vec();
    parts.extend(field.split('.').map(str::to_owned));
    let full = parts.join(".");
    (parts, full)
}

fn inclusion_flag(value: &Bson) -> Option<bool> {
    match value {
        Bson::Boolean(b) => Some(*b),
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            Some(crate::query::compare::as_f64(value) != 0.0)
        }
        _ => None,
    }
}

fn is_operator_object(doc: &Document) -> bool {
    doc.keys().next().is_some_and(|k| k.starts_with('$'))
}

impl Builder {
    fn project(&mut self, spec: &Document, prefix: &[String]) -> StatusResult<()> {
        for (field, value) in spec {
            check_field_path(field)?;
            let (parts, full) = joined(prefix, field);
            let child = match (inclusion_flag(value), value) {
                (Some(include), _) => {
                    if full == "_id" {
                        self.id = Some(include);
                    } else {
                        self.set_mode(include, &full)?;
                    }
                    Child::Include(include)
                }
                (None, Bson::Document(d)) if d.is_empty() => {
                    return Err(err(
                        51270,
                        format!(
                            "An empty sub-projection is not a valid value. Found empty object at path {full}"
                        ),
                    ));
                }
                (None, Bson::Document(d)) if !is_operator_object(d) => {
                    self.project(d, &parts)?;
                    continue;
                }
                (None, other) => {
                    if self.mode == Some(Mode::Exclusion) {
                        return Err(err(
                            31252,
                            "Cannot use expression other than $meta in exclusion projection".into(),
                        ));
                    }
                    self.mode = Some(Mode::Inclusion);
                    Child::Computed(Expression::parse(other)?)
                }
            };
            self.root.insert(&parts, &full, child)?;
        }
        Ok(())
    }

    fn set_mode(&mut self, include: bool, full: &str) -> StatusResult<()> {
        match (self.mode, include) {
            (Some(Mode::Exclusion), true) => Err(err(
                31253,
                format!("Cannot do inclusion on field {full} in exclusion projection"),
            )),
            (Some(Mode::Inclusion), false) => Err(err(
                31254,
                format!("Cannot do exclusion on field {full} in inclusion projection"),
            )),
            _ => {
                self.mode = Some(if include { Mode::Inclusion } else { Mode::Exclusion });
                Ok(())
            }
        }
    }

    fn add_fields(&mut self, spec: &Document, prefix: &[String]) -> StatusResult<()> {
        for (field, value) in spec {
            check_field_path(field)?;
            let (parts, full) = joined(prefix, field);
            let expr = match value {
                Bson::Document(d) if !d.is_empty() && !is_operator_object(d) => {
                    self.add_fields(d, &parts)?;
                    continue;
                }
                Bson::Document(d) if d.is_empty() => Expression::Literal(Bson::Document(Document::new())),
                other => Expression::parse(other)?,
            };
            self.root.insert(&parts, &full, Child::Computed(expr))?;
        }
        Ok(())
    }
}

impl Shape {
    /// Parses `$project` (15969 not an object, 51272 empty, 31252-31254 mixed modes).
    pub fn parse_project(spec: &Bson) -> StatusResult<Shape> {
        let Bson::Document(spec) = spec else {
            return Err(err(15969, "$project specification must be an object".into()));
        };
        if spec.is_empty() {
            return Err(err(
                51272,
                "projection specification must have at least one field".into(),
            ));
        }
        let mut b = Builder {
            mode: None,
            id: None,
            root: Node::default(),
        };
        b.project(spec, &[])?;
        let mode = match (b.mode, b.id) {
            (Some(mode), _) => mode,
            (None, Some(false)) => Mode::Exclusion,
            (None, _) => Mode::Inclusion,
        };
        Ok(Shape { mode, root: b.root })
    }

    /// Parses `$addFields` or `$set` (`stage` names it in the 40272 error).
    pub fn parse_add_fields(spec: &Bson, stage: &str) -> StatusResult<Shape> {
        let Bson::Document(spec) = spec else {
            return Err(err(
                40272,
                format!(
                    "{stage} specification stage must be an object, got {}",
                    type_name(Some(spec))
                ),
            ));
        };
        let mut b = Builder {
            mode: Some(Mode::AddFields),
            id: None,
            root: Node::default(),
        };
        b.add_fields(spec, &[])?;
        Ok(Shape {
            mode: Mode::AddFields,
            root: b.root,
        })
    }

    /// Parses `$unset`: a path or an array of paths to drop.
    pub fn parse_unset(spec: &Bson) -> StatusResult<Shape> {
        let fields: Vec<&str> = match spec {
            Bson::String(s) => vec![s.as_str()],
            Bson::Array(items) => {
                if items.is_empty() {
                    return Err(err(
                        31119,
                        "$unset specification must be a string or an array with at least one field".into(),
                    ));
                }
                items
                    .iter()
                    .map(|item| match item {
                        Bson::String(s) => Ok(s.as_str()),
                        _ => Err(err(
                            31120,
                            "$unset specification must be a string or an array containing only string values"
                                .into(),
                        )),
                    })
                    .collect::<StatusResult<_>>()?
            }
            _ => {
                return Err(err(
                    31002,
                    "$unset specification must be a string or an array".into(),
                ));
            }
        };
        let mut root = Node::default();
        for field in fields {
            check_field_path(field)?;
            let (parts, full) = joined(&[], field);
            root.insert(&parts, &full, Child::Include(false))?;
        }
        Ok(Shape {
            mode: Mode::Exclusion,
            root,
        })
    }

    /// Reshapes the document `vars` is evaluating against.
    pub fn apply(&self, vars: &Vars<'_>) -> StatusResult<Document> {
        let doc = vars.root();
        match self.mode {
            Mode::Exclusion => Ok(exclude_document(doc, &self.root)),
            Mode::Inclusion => {
                let mut out = include_document(doc, &self.root, true);
                if self.root.computed {
                    set_computed(&mut out, &self.root, vars)?;
                }
                Ok(out)
            }
            Mode::AddFields => {
                let mut out = doc.clone();
                set_computed(&mut out, &self.root, vars)?;
                Ok(out)
            }
        }
    }
}

fn include_document(doc: &Document, node: &Node, top: bool) -> Document {
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
            _ => {}
        }
    }
    out
}

/// Below an inner node documents are projected, arrays keep their projected elements (scalars go).
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

fn exclude_document(doc: &Document, node: &Node) -> Document {
    let mut out = Document::new();
    for (name, value) in doc {
        match node.get(name) {
            Some(Child::Include(false)) => {}
            Some(Child::Inner(inner)) => {
                out.insert(name.clone(), exclude_value(value, inner));
            }
            _ => {
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

/// Sets the computed fields of `node` in `out`, in specification order (existing fields keep their
/// place; new ones are appended).
fn set_computed(out: &mut Document, node: &Node, vars: &Vars<'_>) -> StatusResult<()> {
    for (name, child) in &node.children {
        match child {
            Child::Computed(expr) => match expr.evaluate(vars)? {
                Some(v) => {
                    out.insert(name.clone(), v);
                }
                None => {
                    out.remove(name);
                }
            },
            Child::Inner(inner) if inner.computed => match out.get_mut(name) {
                Some(existing) => set_computed_in_value(existing, inner, vars)?,
                None => {
                    let mut sub = Document::new();
                    set_computed(&mut sub, inner, vars)?;
                    out.insert(name.clone(), sub);
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// Documents get the fields; arrays get them in every element; anything else is replaced by a
/// document of the computed fields (mongod: `{"a.b": 1}` on `{a: 1}` gives `{a: {b: 1}}`).
fn set_computed_in_value(value: &mut Bson, node: &Node, vars: &Vars<'_>) -> StatusResult<()> {
    match value {
        Bson::Document(d) => set_computed(d, node, vars),
        Bson::Array(items) => {
            for item in items {
                set_computed_in_value(item, node, vars)?;
            }
            Ok(())
        }
        other => {
            let mut sub = Document::new();
            set_computed(&mut sub, node, vars)?;
            *other = Bson::Document(sub);
            Ok(())
        }
    }
}
