//! Operators that choose what to evaluate or bind variables: $and $or (short-circuit), $cond,
//! $ifNull, $switch, $filter, $map and $let.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::Expression;
use super::parse::{parse_arguments, parse_operand, validate_variable_name};
use super::value::{nullish, type_name};
use super::vars::{Frame, Vars};

fn err(code: i32, msg: impl Into<String>) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// A lazily evaluated operator.
#[derive(Clone, Debug)]
pub enum Control {
    /// `$and`: true unless some argument is falsy.
    And(Vec<Expression>),
    /// `$or`: true when some argument is truthy.
    Or(Vec<Expression>),
    /// `$cond`: if / then / else.
    Cond(Expression, Expression, Expression),
    /// `$ifNull`: the first argument that is neither null nor missing, else the last.
    IfNull(Vec<Expression>),
    /// `$switch`: the first branch whose case is truthy.
    Switch(Vec<(Expression, Expression)>, Option<Expression>),
    /// `$filter`: the elements for which `cond` is truthy with `$$as` bound to them.
    Filter(Expression, String, Expression),
    /// `$map`: `in` for each element with `$$as` bound to it.
    Map(Expression, String, Expression),
    /// `$let`: `in` with the variables bound.
    Let(Vec<(String, Expression)>, Expression),
}

/// Parses `name` when it is one of these operators.
pub fn parse(name: &str, arg: &Bson) -> StatusResult<Option<Control>> {
    Ok(Some(match name {
        "$and" => Control::And(parse_arguments(arg)?),
        "$or" => Control::Or(parse_arguments(arg)?),
        "$cond" => parse_cond(arg)?,
        "$ifNull" => {
            let args = parse_arguments(arg)?;
            if args.len() < 2 {
                return Err(err(
                    1_257_300,
                    format!("$ifNull needs at least two arguments, had: {}", args.len()),
                ));
            }
            Control::IfNull(args)
        }
        "$switch" => parse_switch(arg)?,
        "$filter" => {
            let spec = named_arguments(arg, "$filter", 28646)?;
            let (input, var, body) = parse_iteration(spec, "$filter", "cond", [28647, 28648, 28649])?;
            Control::Filter(input, var, body)
        }
        "$map" => {
            let spec = named_arguments(arg, "$map", 16878)?;
            let (input, var, body) = parse_iteration(spec, "$map", "in", [16879, 16880, 16882])?;
            Control::Map(input, var, body)
        }
        "$let" => parse_let(arg)?,
        _ => return Ok(None),
    }))
}

fn named_arguments<'a>(arg: &'a Bson, name: &str, code: i32) -> StatusResult<&'a Document> {
    match arg {
        Bson::Document(d) => Ok(d),
        _ => Err(err(
            code,
            format!("{name} only supports an object as its argument"),
        )),
    }
}

fn parse_cond(arg: &Bson) -> StatusResult<Control> {
    if let Bson::Document(spec) = arg {
        let (mut c, mut t, mut e) = (None, None, None);
        for (key, value) in spec {
            let slot = match key.as_str() {
                "if" => &mut c,
                "then" => &mut t,
                "else" => &mut e,
                _ => return Err(err(17083, format!("Unrecognized parameter to $cond: {key}"))),
            };
            *slot = Some(parse_operand(value)?);
        }
        let c = c.ok_or_else(|| err(17080, "Missing 'if' parameter to $cond"))?;
        let t = t.ok_or_else(|| err(17081, "Missing 'then' parameter to $cond"))?;
        let e = e.ok_or_else(|| err(17082, "Missing 'else' parameter to $cond"))?;
        return Ok(Control::Cond(c, t, e));
    }
    let args = parse_arguments(arg)?;
    let n = args.len();
    match <[Expression; 3]>::try_from(args) {
        Ok([c, t, e]) => Ok(Control::Cond(c, t, e)),
        Err(_) => Err(err(
            16020,
            format!("Expression $cond takes exactly 3 arguments. {n} were passed in."),
        )),
    }
}

fn parse_switch(arg: &Bson) -> StatusResult<Control> {
    let Bson::Document(spec) = arg else {
        return Err(err(
            40060,
            format!(
                "$switch requires an object as an argument, found: {}",
                type_name(Some(arg))
            ),
        ));
    };
    let mut branches = Vec::new();
    let mut default = None;
    for (key, value) in spec {
        match key.as_str() {
            "branches" => {
                let Bson::Array(items) = value else {
                    return Err(err(
                        40061,
                        format!(
                            "$switch expected an array for 'branches', found: {}",
                            type_name(Some(value))
                        ),
                    ));
                };
                for item in items {
                    branches.push(parse_branch(item)?);
                }
            }
            "default" => default = Some(parse_operand(value)?),
            _ => return Err(err(40067, format!("$switch found an unknown argument: {key}"))),
        }
    }
    if branches.is_empty() {
        return Err(err(40068, "$switch requires at least one branch."));
    }
    Ok(Control::Switch(branches, default))
}

fn parse_branch(item: &Bson) -> StatusResult<(Expression, Expression)> {
    let Bson::Document(branch) = item else {
        return Err(err(
            40062,
            format!(
                "$switch expected each branch to be an object, found: {}",
                type_name(Some(item))
            ),
        ));
    };
    let (mut case, mut then) = (None, None);
    for (key, value) in branch {
        match key.as_str() {
            "case" => case = Some(parse_operand(value)?),
            "then" => then = Some(parse_operand(value)?),
            _ => {
                return Err(err(
                    40063,
                    format!("$switch found an unknown argument to a branch: {key}"),
                ));
            }
        }
    }
    let case = case.ok_or_else(|| err(40064, "$switch requires each branch have a 'case' expression"))?;
    let then = then.ok_or_else(|| err(40065, "$switch requires each branch have a 'then' expression."))?;
    Ok((case, then))
}

/// `{input, as, <body>}` for $filter and $map; codes are [unknown, missing input, missing body].
fn parse_iteration(
    spec: &Document,
    name: &str,
    body_name: &str,
    codes: [i32; 3],
) -> StatusResult<(Expression, String, Expression)> {
    let (mut input, mut var, mut body) = (None, "this".to_owned(), None);
    for (key, value) in spec {
        match key.as_str() {
            "input" => input = Some(parse_operand(value)?),
            "as" => {
                let Bson::String(s) = value else {
                    return Err(err(codes[0], format!("'as' of {name} must be a string")));
                };
                validate_variable_name(s)?;
                var = s.clone();
            }
            k if k == body_name => body = Some(parse_operand(value)?),
            _ => return Err(err(codes[0], format!("Unrecognized parameter to {name}: {key}"))),
        }
    }
    let input = input.ok_or_else(|| err(codes[1], format!("Missing 'input' parameter to {name}")))?;
    let body = body.ok_or_else(|| err(codes[2], format!("Missing '{body_name}' parameter to {name}")))?;
    Ok((input, var, body))
}

fn parse_let(arg: &Bson) -> StatusResult<Control> {
    let spec = named_arguments(arg, "$let", 16874)?;
    let (mut bindings, mut body) = (None, None);
    for (key, value) in spec {
        match key.as_str() {
            "vars" => {
                let Bson::Document(vars) = value else {
                    return Err(err(10065, "invalid parameter: expected an object (vars)"));
                };
                let mut parsed = Vec::with_capacity(vars.len());
                for (name, expr) in vars {
                    validate_variable_name(name)?;
                    parsed.push((name.clone(), parse_operand(expr)?));
                }
                bindings = Some(parsed);
            }
            "in" => body = Some(parse_operand(value)?),
            _ => return Err(err(16875, format!("Unrecognized parameter to $let: {key}"))),
        }
    }
    let bindings = bindings.ok_or_else(|| err(16876, "Missing 'vars' parameter to $let"))?;
    let body = body.ok_or_else(|| err(16877, "Missing 'in' parameter to $let"))?;
    Ok(Control::Let(bindings, body))
}

impl Control {
    /// Evaluates against `vars`.
    pub fn evaluate(&self, vars: &Vars<'_>) -> StatusResult<Option<Bson>> {
        match self {
            Control::And(args) => {
                for arg in args {
                    if !arg.evaluate_truthy(vars)? {
                        return Ok(Some(Bson::Boolean(false)));
                    }
                }
                Ok(Some(Bson::Boolean(true)))
            }
            Control::Or(args) => {
                for arg in args {
                    if arg.evaluate_truthy(vars)? {
                        return Ok(Some(Bson::Boolean(true)));
                    }
                }
                Ok(Some(Bson::Boolean(false)))
            }
            Control::Cond(c, t, e) => {
                if c.evaluate_truthy(vars)? {
                    t.evaluate(vars)
                } else {
                    e.evaluate(vars)
                }
            }
            Control::IfNull(args) => {
                let (last, rest) = args
                    .split_last()
                    .ok_or_else(|| err(1_257_300, "$ifNull needs arguments"))?;
                for arg in rest {
                    let v = arg.evaluate(vars)?;
                    if !nullish(v.as_ref()) {
                        return Ok(v);
                    }
                }
                last.evaluate(vars)
            }
            Control::Switch(branches, default) => {
                for (case, then) in branches {
                    if case.evaluate_truthy(vars)? {
                        return then.evaluate(vars);
                    }
                }
                match default {
                    Some(d) => d.evaluate(vars),
                    None => Err(err(
                        40066,
                        "$switch could not find a matching branch for an input, and no default was specified.",
                    )),
                }
            }
            Control::Filter(input, var, cond) => {
                let Some(items) = iteration_input(input, vars, "$filter", 28651)? else {
                    return Ok(Some(Bson::Null));
                };
                let mut out = Vec::new();
                for item in items {
                    let binding = [(var.clone(), Some(item))];
                    let frame = Frame::new(&binding, vars.frame());
                    if cond.evaluate_truthy(&Vars::new(vars.root(), Some(&frame)))? {
                        let [(_, item)] = binding;
                        out.extend(item);
                    }
                }
                Ok(Some(Bson::Array(out)))
            }
            Control::Map(input, var, body) => {
                let Some(items) = iteration_input(input, vars, "$map", 16883)? else {
                    return Ok(Some(Bson::Null));
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let binding = [(var.clone(), Some(item))];
                    let frame = Frame::new(&binding, vars.frame());
                    let v = body.evaluate(&Vars::new(vars.root(), Some(&frame)))?;
                    out.push(v.unwrap_or(Bson::Null));
                }
                Ok(Some(Bson::Array(out)))
            }
            Control::Let(bindings, body) => {
                let mut values = Vec::with_capacity(bindings.len());
                for (name, expr) in bindings {
                    values.push((name.clone(), expr.evaluate(vars)?));
                }
                let frame = Frame::new(&values, vars.frame());
                body.evaluate(&Vars::new(vars.root(), Some(&frame)))
            }
        }
    }
}

/// The array $filter/$map iterate, `None` when null or missing.
fn iteration_input(
    input: &Expression,
    vars: &Vars<'_>,
    name: &str,
    code: i32,
) -> StatusResult<Option<Vec<Bson>>> {
    match input.evaluate(vars)? {
        v if nullish(v.as_ref()) => Ok(None),
        Some(Bson::Array(items)) => Ok(Some(items)),
        other => Err(err(
            code,
            format!(
                "input to {name} must be an array not {}",
                type_name(other.as_ref())
            ),
        )),
    }
}
