//! Parsers for the operators with structured arguments: `$in`/`$nin`, `$all`, `$mod`, `$size` and
//! the `$regex`/`$options` pair, with mongod's messages.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::expr::ValueExpr;
use super::parse::{bad_value, is_operator_document, parse_elem_match};
use super::predicate::{CmpOp, Pred};
use super::regex::QueryRegex;
use crate::query::compare::{as_f64, compare_bson};

/// `$in` / `$nin` (`op` names the operator in the error): an array of values and regexes.
pub fn parse_in(arg: &Bson, op: &str) -> StatusResult<Pred> {
    let Bson::Array(items) = arg else {
        return Err(bad_value(format!("{op} needs an array")));
    };
    let mut values = Vec::with_capacity(items.len());
    let mut regexes = Vec::new();
    for item in items {
        match item {
            Bson::Document(d) if is_operator_document(d, false) => {
                return Err(bad_value("cannot nest $ under $in"));
            }
            Bson::RegularExpression(r) => regexes.push(QueryRegex::from_bson(r)?),
            other => values.push(other.clone()),
        }
    }
    // Sorted so a candidate is found by binary search; equal values (1 and 1.0) may both stay.
    values.sort_by(compare_bson);
    Ok(Pred::In { values, regexes })
}

/// `$all`: every listed value (or regex) matches, or every listed `$elemMatch` does.
pub fn parse_all(_path: &str, arg: &Bson, depth: usize) -> StatusResult<ValueExpr> {
    let Bson::Array(items) = arg else {
        return Err(bad_value("$all needs an array"));
    };
    let first_is_elem_match = matches!(items.first(), Some(Bson::Document(d))
        if d.keys().next().is_some_and(|k| k == "$elemMatch"));
    let mut children = Vec::with_capacity(items.len());
    for item in items {
        if first_is_elem_match {
            let elem_match = match item {
                Bson::Document(d) if d.keys().next().is_some_and(|k| k == "$elemMatch") => {
                    d.iter().next().map(|(_, v)| v)
                }
                _ => None,
            };
            let Some(inner) = elem_match else {
                return Err(bad_value("$all/$elemMatch has to be consistent"));
            };
            children.push(ValueExpr::Pred(parse_elem_match(inner, depth)?));
            continue;
        }
        children.push(ValueExpr::Pred(match item {
            Bson::RegularExpression(r) => Pred::Regex(QueryRegex::from_bson(r)?),
            Bson::Document(d) if is_operator_document(d, false) => {
                return Err(bad_value("no $ expressions in $all"));
            }
            other => Pred::Cmp(CmpOp::Eq, other.clone()),
        }));
    }
    if children.is_empty() {
        return Ok(ValueExpr::Pred(Pred::Never));
    }
    Ok(ValueExpr::And(children))
}

/// `$mod: [divisor, remainder]`, both numbers (truncated to integers), divisor non-zero.
pub fn parse_mod(arg: &Bson) -> StatusResult<Pred> {
    let Bson::Array(items) = arg else {
        return Err(bad_value("malformed mod, needs to be an array"));
    };
    let Some(divisor) = items.first() else {
        return Err(bad_value("malformed mod, not enough elements"));
    };
    let divisor = integer(divisor).ok_or_else(|| bad_value("malformed mod, divisor not a number"))?;
    let Some(remainder) = items.get(1) else {
        return Err(bad_value("malformed mod, not enough elements"));
    };
    let remainder = integer(remainder).ok_or_else(|| bad_value("malformed mod, remainder not a number"))?;
    if items.len() > 2 {
        return Err(bad_value("malformed mod, too many elements"));
    }
    if divisor == 0 {
        return Err(bad_value("divisor cannot be 0"));
    }
    Ok(Pred::Mod(divisor, remainder))
}

fn integer(v: &Bson) -> Option<i64> {
    match v {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        // Truncation toward zero (saturating), as mongod's numberLong().
        Bson::Double(_) | Bson::Decimal128(_) => Some(as_f64(v).trunc() as i64),
        _ => None,
    }
}

/// `$size`: a non-negative whole number that fits in 32 bits.
pub fn parse_size(arg: &Bson) -> StatusResult<Pred> {
    let size: i64 = match arg {
        Bson::Int32(i) => i64::from(*i),
        Bson::Int64(i) => {
            if i32::try_from(*i).is_err() {
                return Err(bad_value("$size must be representable as a 32-bit integer"));
            }
            *i
        }
        Bson::Double(d) => {
            if d.fract() != 0.0 || !d.is_finite() || d.abs() > f64::from(i32::MAX) {
                return Err(bad_value("$size must be a whole number"));
            }
            *d as i64
        }
        _ => return Err(bad_value("$size needs a number")),
    };
    let size = usize::try_from(size).map_err(|_| bad_value("$size may not be negative"))?;
    Ok(Pred::Size(size))
}

/// `{$regex: ..., $options: ...}` read as a pair (either order), as mongod's parseRegexDocument.
pub fn parse_regex_document(ops: &Document) -> StatusResult<Pred> {
    let mut pattern = "";
    let mut options = "";
    for (key, value) in ops {
        match (key.as_str(), value) {
            ("$regex", Bson::String(s)) => pattern = s,
            ("$regex", Bson::RegularExpression(r)) => {
                pattern = r.pattern.as_str();
                if !r.options.is_empty() {
                    if !options.is_empty() {
                        return Err(Status::new(
                            ErrorCode::Location(51074),
                            "options set in both $regex and $options",
                        ));
                    }
                    options = r.options.as_str();
                }
            }
            ("$regex", _) => return Err(bad_value("$regex has to be a string")),
            ("$options", Bson::String(s)) => {
                if !options.is_empty() {
                    return Err(Status::new(
                        ErrorCode::Location(51075),
                        "options set in both $regex and $options",
                    ));
                }
                options = s;
            }
            ("$options", _) => return Err(bad_value("$options has to be a string")),
            _ => {}
        }
    }
    Ok(Pred::Regex(QueryRegex::new(pattern, options)?))
}
