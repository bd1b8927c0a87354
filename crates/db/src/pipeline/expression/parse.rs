//! Parsing expressions from BSON with mongod's errors: field paths, variables, object literals and
//! operators (unknown ones are InvalidPipelineOperator 168).

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::Expression;
use super::control;
use super::ops::Op;
use crate::query::path::check_field_path;

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// Parses any operand.
pub fn parse_operand(value: &Bson) -> StatusResult<Expression> {
    match value {
        Bson::String(s) => match (s.strip_prefix("$$"), s.strip_prefix('$')) {
            (Some(var), _) => parse_variable(var),
            (None, Some(path)) => Ok(Expression::Path(parse_field_path(path)?)),
            _ => Ok(Expression::Literal(value.clone())),
        },
        Bson::Document(doc) => parse_object(doc),
        Bson::Array(items) => Ok(Expression::Array(
            items.iter().map(parse_operand).collect::<StatusResult<_>>()?,
        )),
        other => Ok(Expression::Literal(other.clone())),
    }
}

/// The components of a field path written after its `$`.
pub fn parse_field_path(path: &str) -> StatusResult<Vec<String>> {
    if path.is_empty() {
        return Err(err(16872, "'$' by itself is not a valid FieldPath".into()));
    }
    check_field_path(path)?;
    Ok(path.split('.').map(str::to_owned).collect())
}

const SYSTEM_VARIABLES: &[&str] = &["ROOT", "CURRENT", "REMOVE", "NOW"];

fn parse_variable(text: &str) -> StatusResult<Expression> {
    let (name, rest) = match text.split_once('.') {
        Some((name, rest)) => (name, Some(rest)),
        None => (text, None),
    };
    if name.is_empty() {
        return Err(err(16869, "empty variable names are not allowed".into()));
    }
    let first = name.chars().next().unwrap_or('_');
    if first.is_ascii_uppercase() && !SYSTEM_VARIABLES.contains(&name) {
        return Err(err(17276, format!("Use of undefined variable: {name}")));
    }
    if first.is_ascii() && !first.is_ascii_alphabetic() {
        return Err(err(
            16870,
            format!("'{name}' starts with an invalid character for a user variable name"),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || !c.is_ascii()))
    {
        return Err(err(
            16871,
            format!("'{name}' contains an invalid character for a variable name: '{bad}'"),
        ));
    }
    let path = match rest {
        Some(rest) => parse_field_path(rest)?,
        None => Vec::new(),
    };
    Ok(Expression::Variable {
        name: name.to_owned(),
        path,
    })
}

/// Checks a name a user binds (`$let` vars, `as`, `$lookup` let): a lowercase letter or non-ASCII
/// first, then letters, digits and `_`.
pub fn validate_variable_name(name: &str) -> StatusResult<()> {
    let Some(first) = name.chars().next() else {
        return Err(err(16866, "empty variable names are not allowed".into()));
    };
    if first.is_ascii() && !first.is_ascii_lowercase() {
        return Err(err(
            16867,
            format!("'{name}' starts with an invalid character for a user variable name"),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || !c.is_ascii()))
    {
        return Err(err(
            16868,
            format!("'{name}' contains an invalid character for a variable name: '{bad}'"),
        ));
    }
    Ok(())
}

/// Parses `{$op: args}` or an object literal.
pub fn parse_object(doc: &Document) -> StatusResult<Expression> {
    match doc.keys().next() {
        Some(first) if first.starts_with('$') => {
            if doc.len() != 1 {
                return Err(err(
                    15983,
                    format!(
                        "an expression specification must contain exactly one field, the name of \
                         the expression. Found {} fields in {doc}",
                        doc.len()
                    ),
                ));
            }
            let arg = doc.get(first).unwrap_or(&Bson::Null);
            parse_operator(first, arg)
        }
        _ => {
            let mut fields = Vec::with_capacity(doc.len());
            for (name, value) in doc {
                if name.contains('.') {
                    return Err(err(
                        16412,
                        format!("FieldPath field names may not contain '.'. Given: {name}"),
                    ));
                }
                check_field_path(name)?;
                fields.push((name.clone(), parse_operand(value)?));
            }
            Ok(Expression::Object(fields))
        }
    }
}

/// The argument list of an operator: an array's elements, or a single operand.
pub fn parse_arguments(arg: &Bson) -> StatusResult<Vec<Expression>> {
    match arg {
        Bson::Array(items) => items.iter().map(parse_operand).collect(),
        other => Ok(vec![parse_operand(other)?]),
    }
}

fn parse_operator(name: &str, arg: &Bson) -> StatusResult<Expression> {
    if name == "$literal" {
        return Ok(Expression::Literal(arg.clone()));
    }
    if let Some(c) = control::parse(name, arg)? {
        return Ok(Expression::Control(Box::new(c)));
    }
    let Some(op) = Op::from_name(name) else {
        return Err(Status::new(
            ErrorCode::InvalidPipelineOperator,
            format!("Unrecognized expression '{name}'"),
        ));
    };
    let args = parse_arguments(arg)?;
    op.check_arity(args.len())?;
    Ok(Expression::Call(op, args))
}
