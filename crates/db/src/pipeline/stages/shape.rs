//! `$project`, `$addFields`/`$set` and `$unset`. `$project` and `$unset` are the query projection
//! (`query::projection`: inclusion/exclusion, dotted paths, `_id`, mongod's errors) with the pipeline's
//! computed fields, expressions set after the kept fields; add-fields sets computed fields on the whole
//! document. Dotted paths reach into embedded documents and into every element of arrays, as mongod
//! does.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::expression::value::type_name;
use crate::pipeline::expression::{Expression, Vars};
use crate::query::path::check_field_path;
use crate::query::projection::{Child, Node, Projection, ProjectionBuilder, inclusion_flag};

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// A parsed `$project`, `$addFields`/`$set` or `$unset`.
#[derive(Clone, Debug)]
pub struct Shape {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    /// `$project` or `$unset`: a projection whose computed fields are expressions.
    Project(Projection<Expression>),
    /// `$addFields`/`$set`: computed fields only, on the whole document.
    AddFields(Node<Expression>),
}

/// `prefix.field`, or `field` at the top.
fn joined(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn is_operator_object(doc: &Document) -> bool {
    doc.keys().next().is_some_and(|k| k.starts_with('$'))
}

/// Adds a `$project` specification (or a sub-object of one, below `prefix`) to `builder`: flags keep or
/// drop, non-operator sub-objects nest, anything else is an expression.
fn project(builder: &mut ProjectionBuilder<Expression>, spec: &Document, prefix: &str) -> StatusResult<()> {
    for (field, value) in spec {
        check_field_path(field)?;
        let full = joined(prefix, field);
        match (inclusion_flag(value), value) {
            (Some(include), _) => builder.flag(&full, include)?,
            (None, Bson::Document(d)) if d.is_empty() => {
                return Err(err(
                    51270,
                    format!(
                        "An empty sub-projection is not a valid value. Found empty object at path {full}"
                    ),
                ));
            }
            (None, Bson::Document(d)) if !is_operator_object(d) => project(builder, d, &full)?,
            (None, other) => builder.computed(&full, || Expression::parse(other))?,
        }
    }
    Ok(())
}

/// Adds an `$addFields` specification (or a sub-object of one, below `prefix`) to `root`.
fn add_fields(root: &mut Node<Expression>, spec: &Document, prefix: &str) -> StatusResult<()> {
    for (field, value) in spec {
        check_field_path(field)?;
        let full = joined(prefix, field);
        let expr = match value {
            Bson::Document(d) if !d.is_empty() && !is_operator_object(d) => {
                add_fields(root, d, &full)?;
                continue;
            }
            Bson::Document(d) if d.is_empty() => Expression::Literal(Bson::Document(Document::new())),
            other => Expression::parse(other)?,
        };
        root.insert(&full, Child::Computed(expr))?;
    }
    Ok(())
}

impl Shape {
    /// Parses `$project` (15969 not an object, 51272 empty, 51270 an empty sub-object, and the
    /// projection's errors: 31252-31254 mixed modes, 31249/31250 colliding paths).
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
        let mut builder = ProjectionBuilder::new();
        project(&mut builder, spec, "")?;
        Ok(Shape {
            kind: Kind::Project(builder.finish()),
        })
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
        let mut root = Node::default();
        add_fields(&mut root, spec, "")?;
        Ok(Shape {
            kind: Kind::AddFields(root),
        })
    }

    /// Parses `$unset`: a path or an array of paths to drop (an exclusion projection).
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
        let mut builder = ProjectionBuilder::new();
        for field in fields {
            check_field_path(field)?;
            builder.flag(field, false)?;
        }
        Ok(Shape {
            kind: Kind::Project(builder.finish()),
        })
    }

    /// Reshapes the document `vars` is evaluating against.
    pub fn apply(&self, vars: &Vars<'_>) -> StatusResult<Document> {
        match &self.kind {
            Kind::Project(projection) => {
                let mut out = projection.apply(vars.root());
                if projection.root().has_computed() {
                    set_computed(&mut out, projection.root(), vars)?;
                }
                Ok(out)
            }
            Kind::AddFields(root) => {
                let mut out = vars.root().clone();
                set_computed(&mut out, root, vars)?;
                Ok(out)
            }
        }
    }
}

/// Sets the computed fields of `node` in `out`, in specification order (existing fields keep their
/// place; new ones are appended).
fn set_computed(out: &mut Document, node: &Node<Expression>, vars: &Vars<'_>) -> StatusResult<()> {
    for (name, child) in node.children() {
        match child {
            Child::Computed(expr) => match expr.evaluate(vars)? {
                Some(v) => {
                    out.insert(name.clone(), v);
                }
                None => {
                    out.remove(name);
                }
            },
            Child::Inner(inner) if inner.has_computed() => match out.get_mut(name) {
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
fn set_computed_in_value(value: &mut Bson, node: &Node<Expression>, vars: &Vars<'_>) -> StatusResult<()> {
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
