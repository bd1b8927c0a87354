//! Aggregation expressions: parsed once from BSON (`$field.path`, `$$variable`, literals, object
//! and array literals, `{$operator: args}`) and evaluated per document with mongod's semantics.
//! Evaluation yields `None` for mongod's "missing", which differs from null (a `$project` drops a
//! missing computed field; `$eq` orders missing below null).

mod arithmetic;
mod array;
mod comparison;
mod control;
mod date;
pub(crate) mod numeric;
mod objects;
mod ops;
mod parse;
pub(crate) mod path;
mod string;
mod types;
pub(crate) mod value;
mod vars;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

pub use ops::Op;
pub use parse::validate_variable_name;
pub use vars::{Frame, Vars};

/// A parsed expression.
#[derive(Clone, Debug)]
pub enum Expression {
    /// A constant.
    Literal(Bson),
    /// `$a.b`: a path into the current document.
    Path(Vec<String>),
    /// `$$name` or `$$name.a.b` (`ROOT`, `CURRENT`, `REMOVE`, `NOW` or a user variable).
    Variable {
        /// The variable's name, without `$$`.
        name: String,
        /// The path below the variable's value (may be empty).
        path: Vec<String>,
    },
    /// `{field: <expression>, ...}`: missing values are left out.
    Object(Vec<(String, Expression)>),
    /// `[<expression>, ...]`: missing values become null.
    Array(Vec<Expression>),
    /// An operator whose arguments are all evaluated first.
    Call(Op, Vec<Expression>),
    /// Operators that decide which arguments to evaluate, or bind variables.
    Control(Box<control::Control>),
}

impl Expression {
    /// Parses an operand: a `$path` or `$$variable` string, an object (operator or literal), an array,
    /// or any other value as a literal.
    pub fn parse(value: &Bson) -> StatusResult<Expression> {
        parse::parse_operand(value)
    }

    /// Parses an object whose first field names an operator, or an object literal.
    pub fn parse_object(doc: &Document) -> StatusResult<Expression> {
        parse::parse_object(doc)
    }

    /// Evaluates against `vars`; `None` is missing.
    pub fn evaluate(&self, vars: &Vars<'_>) -> StatusResult<Option<Bson>> {
        match self {
            Expression::Literal(v) => Ok(Some(v.clone())),
            Expression::Path(parts) => Ok(path::document_path(vars.root(), parts)),
            Expression::Variable { name, path } => evaluate_variable(name, path, vars),
            Expression::Object(fields) => {
                let mut out = Document::new();
                for (name, expr) in fields {
                    if let Some(v) = expr.evaluate(vars)? {
                        out.insert(name.clone(), v);
                    }
                }
                Ok(Some(Bson::Document(out)))
            }
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(item.evaluate(vars)?.unwrap_or(Bson::Null));
                }
                Ok(Some(Bson::Array(out)))
            }
            Expression::Call(op, args) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(arg.evaluate(vars)?);
                }
                op.apply(values)
            }
            Expression::Control(c) => c.evaluate(vars),
        }
    }

    /// Evaluates against a document with no variables beyond `$$ROOT`.
    pub fn evaluate_on(&self, doc: &Document) -> StatusResult<Option<Bson>> {
        self.evaluate(&Vars::new(doc, None))
    }

    /// Whether the value is truthy in aggregation's sense.
    pub fn evaluate_truthy(&self, vars: &Vars<'_>) -> StatusResult<bool> {
        Ok(value::truthy(self.evaluate(vars)?.as_ref()))
    }
}

fn evaluate_variable(name: &str, path: &[String], vars: &Vars<'_>) -> StatusResult<Option<Bson>> {
    match name {
        "ROOT" | "CURRENT" => Ok(path::document_path_or_root(vars.root(), path)),
        "REMOVE" => Ok(None),
        "NOW" => Ok(path::value_path(&Bson::DateTime(bson::DateTime::now()), path)),
        _ => match vars.lookup(name) {
            Some(Some(v)) => Ok(path::value_path(v, path)),
            Some(None) => Ok(None),
            None => Err(Status::new(
                ErrorCode::Location(17276),
                format!("Use of undefined variable: {name}"),
            )),
        },
    }
}
