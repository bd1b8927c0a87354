//! Parsing a filter document into an [`Expr`], with mongod's rules for telling operator documents
//! from literal ones and its error codes and messages.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::expr::{Expr, ValueExpr};
use super::operators::{parse_all, parse_in, parse_mod, parse_regex_document, parse_size};
use super::predicate::{CmpOp, Pred};
use super::regex::QueryRegex;
use super::types::TypeSet;
use crate::query::path::FieldPath;

/// mongod refuses filters nested deeper than this; it also keeps recursion off the stack's edge.
const MAX_DEPTH: usize = 100;

/// Operators mongod accepts that docwire does not implement (geo and bitwise queries).
const UNSUPPORTED_FIELD_OPERATORS: &[&str] = &[
    "$near",
    "$nearSphere",
    "$geoNear",
    "$geoWithin",
    "$geoIntersects",
    "$within",
    "$maxDistance",
    "$minDistance",
    "$bitsAllSet",
    "$bitsAllClear",
    "$bitsAnySet",
    "$bitsAnyClear",
];

/// Top-level operators that take no path; they also decide between the two `$elemMatch` forms.
const PATHLESS_OPERATORS: &[&str] = &[
    "$and",
    "$or",
    "$nor",
    "$comment",
    "$alwaysTrue",
    "$alwaysFalse",
    "$expr",
    "$where",
    "$text",
    "$jsonSchema",
    "$sampleRate",
    "$ref",
    "$id",
    "$db",
];

/// Parses a whole filter (the top level, an `$and`/`$or`/`$nor` entry, or an `$elemMatch` object).
pub fn parse_filter(filter: &Document, depth: usize) -> StatusResult<Expr> {
    if depth > MAX_DEPTH {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!("exceeded depth limit of {MAX_DEPTH} when parsing the filter"),
        ));
    }
    let mut children = Vec::new();
    for (key, value) in filter {
        if key.starts_with('$') {
            if let Some(expr) = parse_top_level_operator(key, value, depth)? {
                children.push(expr);
            }
        } else {
            let expr = parse_field_value(key, value, depth)?;
            children.push(Expr::Path(FieldPath::new(key), expr));
        }
    }
    Ok(Expr::And(children))
}

fn parse_top_level_operator(key: &str, value: &Bson, depth: usize) -> StatusResult<Option<Expr>> {
    match key {
        "$and" | "$or" | "$nor" => {
            let Bson::Array(entries) = value else {
                return Err(bad_value(format!("{key} must be an array")));
            };
            if entries.is_empty() {
                return Err(bad_value("$and/$or/$nor must be a nonempty array"));
            }
            let mut children = Vec::with_capacity(entries.len());
            for entry in entries {
                let Bson::Document(sub) = entry else {
                    return Err(bad_value("$or/$and/$nor entries need to be full objects"));
                };
                children.push(parse_filter(sub, depth + 1)?);
            }
            Ok(Some(match key {
                "$and" => Expr::And(children),
                "$or" => Expr::Or(children),
                _ => Expr::Nor(children),
            }))
        }
        "$comment" => Ok(None),
        "$alwaysTrue" | "$alwaysFalse" => {
            if !is_integer_one(value) {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    format!("{key} must be an integer value of 1"),
                ));
            }
            Ok(Some(Expr::Const(key == "$alwaysTrue")))
        }
        "$expr" | "$where" | "$text" | "$jsonSchema" | "$sampleRate" => Err(Status::new(
            ErrorCode::NotImplemented,
            format!("{key} is not supported by docwire"),
        )),
        _ => Err(bad_value(format!("unknown top level operator: {key}"))),
    }
}

/// Parses the value given for a field: an operator document, a regex literal, or an equality.
pub fn parse_field_value(path: &str, value: &Bson, depth: usize) -> StatusResult<ValueExpr> {
    match value {
        Bson::Document(d) if is_operator_document(d, false) => parse_operators(path, d, depth + 1),
        Bson::RegularExpression(r) => Ok(ValueExpr::Pred(Pred::Regex(QueryRegex::from_bson(r)?))),
        _ => Ok(ValueExpr::Pred(Pred::Cmp(CmpOp::Eq, value.clone()))),
    }
}

/// Parses `{$gt: 1, $lt: 5, ...}` on `path` into an And of its operators.
pub fn parse_operators(path: &str, ops: &Document, depth: usize) -> StatusResult<ValueExpr> {
    if depth > MAX_DEPTH {
        return Err(bad_value(format!(
            "exceeded depth limit of {MAX_DEPTH} when parsing the filter"
        )));
    }
    let mut children = Vec::with_capacity(ops.len());
    for (op, arg) in ops {
        if let Some(child) = parse_operator(path, ops, op, arg, depth)? {
            children.push(child);
        }
    }
    Ok(match children.len() {
        1 => children.swap_remove(0),
        _ => ValueExpr::And(children),
    })
}

fn parse_operator(
    path: &str,
    ops: &Document,
    op: &str,
    arg: &Bson,
    depth: usize,
) -> StatusResult<Option<ValueExpr>> {
    let pred = |p: Pred| Ok(Some(ValueExpr::Pred(p)));
    let not = |p: Pred| Ok(Some(ValueExpr::Not(Box::new(ValueExpr::Pred(p)))));
    let range = |cmp: CmpOp| {
        if matches!(arg, Bson::RegularExpression(_)) {
            return Err(bad_value(format!(
                "Can't have RegEx as arg to predicate over field '{path}'."
            )));
        }
        pred(Pred::Cmp(cmp, arg.clone()))
    };
    match op {
        "$eq" => pred(Pred::Cmp(CmpOp::Eq, arg.clone())),
        "$ne" => {
            if matches!(arg, Bson::RegularExpression(_)) {
                return Err(bad_value("Can't have regex as arg to $ne."));
            }
            not(Pred::Cmp(CmpOp::Eq, arg.clone()))
        }
        "$lt" => range(CmpOp::Lt),
        "$lte" => range(CmpOp::Lte),
        "$gt" => range(CmpOp::Gt),
        "$gte" => range(CmpOp::Gte),
        "$in" => pred(parse_in(arg, "$in")?),
        "$nin" => not(parse_in(arg, "$nin")?),
        "$exists" if true_value(arg) => pred(Pred::Exists),
        "$exists" => not(Pred::Exists),
        "$type" => pred(Pred::Type(TypeSet::parse(arg, path)?)),
        "$mod" => pred(parse_mod(arg)?),
        "$size" => pred(parse_size(arg)?),
        "$regex" => pred(parse_regex_document(ops)?),
        // Read together with $regex, wherever it sits in the document.
        "$options" if ops.contains_key("$regex") => Ok(None),
        "$options" => Err(bad_value("$options needs a $regex")),
        "$elemMatch" => pred(parse_elem_match(arg, depth)?),
        "$all" => Ok(Some(parse_all(path, arg, depth)?)),
        "$not" => Ok(Some(ValueExpr::Not(Box::new(parse_not(path, arg, depth)?)))),
        "$where" => Err(bad_value("$where cannot be applied to a field")),
        _ if UNSUPPORTED_FIELD_OPERATORS.contains(&op) => Err(Status::new(
            ErrorCode::NotImplemented,
            format!("{op} is not supported by docwire"),
        )),
        _ => Err(bad_value(format!("unknown operator: {op}"))),
    }
}

fn parse_not(path: &str, arg: &Bson, depth: usize) -> StatusResult<ValueExpr> {
    match arg {
        Bson::RegularExpression(r) => Ok(ValueExpr::Pred(Pred::Regex(QueryRegex::from_bson(r)?))),
        Bson::Document(d) if d.is_empty() => Err(bad_value("$not cannot be empty")),
        Bson::Document(d) => parse_operators(path, d, depth + 1),
        _ => Err(bad_value("$not needs a regex or a document")),
    }
}

/// `$elemMatch`: the value form when the argument starts with a field operator (`{$gt: 1}`), else
/// a filter over the array's document elements.
pub fn parse_elem_match(arg: &Bson, depth: usize) -> StatusResult<Pred> {
    let Bson::Document(d) = arg else {
        return Err(bad_value("$elemMatch needs an Object"));
    };
    let value_form = is_operator_document(d, true)
        && d.keys()
            .next()
            .is_some_and(|k| !PATHLESS_OPERATORS.contains(&k.as_str()));
    if value_form {
        Ok(Pred::ElemMatchValue(Box::new(parse_operators("", d, depth + 1)?)))
    } else {
        Ok(Pred::ElemMatchObject(Box::new(parse_filter(d, depth + 1)?)))
    }
}

/// mongod's `isExpressionDocument`: a non-empty document whose first field starts with `$` and that
/// is not a DBRef (`$ref` + `$id`, or any of `$ref`/`$id`/`$db` when `allow_incomplete_dbref`).
pub fn is_operator_document(d: &Document, allow_incomplete_dbref: bool) -> bool {
    let Some(first) = d.keys().next() else {
        return false;
    };
    if !first.starts_with('$') {
        return false;
    }
    let (has_ref, has_id) = (d.contains_key("$ref"), d.contains_key("$id"));
    let dbref = if allow_incomplete_dbref {
        has_ref || has_id || d.contains_key("$db")
    } else {
        has_ref && has_id
    };
    !dbref
}

/// BSON truthiness as mongod's `trueValue()`: false, zero, null and undefined are false.
fn true_value(v: &Bson) -> bool {
    match v {
        Bson::Boolean(b) => *b,
        Bson::Int32(i) => *i != 0,
        Bson::Int64(i) => *i != 0,
        Bson::Double(d) => *d != 0.0,
        Bson::Decimal128(_) => crate::query::compare::as_f64(v) != 0.0,
        Bson::Null | Bson::Undefined => false,
        _ => true,
    }
}

fn is_integer_one(v: &Bson) -> bool {
    match v {
        Bson::Int32(i) => *i == 1,
        Bson::Int64(i) => *i == 1,
        Bson::Double(d) => *d == 1.0,
        _ => false,
    }
}

/// A BadValue status.
pub fn bad_value(reason: impl Into<String>) -> Status {
    Status::new(ErrorCode::BadValue, reason)
}
