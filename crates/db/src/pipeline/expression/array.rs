//! Array operators evaluated on their arguments: $size $arrayElemAt $in $concatArrays.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::numeric::Num;
use super::value::{comparable, nullish, type_name};
use crate::query::compare::bson_equal;

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// `$size`: the length of an array.
pub fn size(arg: Option<&Bson>) -> StatusResult<Option<Bson>> {
    match arg {
        Some(Bson::Array(items)) => Ok(Some(Bson::Int32(i32::try_from(items.len()).unwrap_or(i32::MAX)))),
        other => Err(err(
            17124,
            format!(
                "The argument to $size must be an array. Type was: {}",
                type_name(other)
            ),
        )),
    }
}

/// `$arrayElemAt: [array, index]`: negative indexes count from the end; out of range is missing.
pub fn elem_at(array: &Option<Bson>, index: &Option<Bson>) -> StatusResult<Option<Bson>> {
    if nullish(array.as_ref()) || nullish(index.as_ref()) {
        return Ok(Some(Bson::Null));
    }
    let Some(Bson::Array(items)) = array else {
        return Err(err(
            28689,
            format!(
                "$arrayElemAt's first argument must be an array, but is {}",
                type_name(array.as_ref())
            ),
        ));
    };
    let Some(n) = index.as_ref().and_then(Num::from_bson) else {
        return Err(err(
            28690,
            format!(
                "$arrayElemAt's second argument must be a numeric value, but is {}",
                type_name(index.as_ref())
            ),
        ));
    };
    let f = n.as_f64();
    if f.fract() != 0.0 || f < f64::from(i32::MIN) || f > f64::from(i32::MAX) {
        return Err(err(
            28691,
            format!("$arrayElemAt's second argument must be representable as a 32-bit integer: {f}"),
        ));
    }
    let i = f as i64;
    let len = items.len() as i64;
    let at = if i < 0 { len + i } else { i };
    if at < 0 || at >= len {
        return Ok(None);
    }
    Ok(items.get(at as usize).cloned())
}

/// `$in: [value, array]`: whether the array holds an equal value.
pub fn contains(value: &Option<Bson>, array: &Option<Bson>) -> StatusResult<Option<Bson>> {
    let Some(Bson::Array(items)) = array else {
        return Err(err(
            40081,
            format!(
                "$in requires an array as a second argument, found: {}",
                type_name(array.as_ref())
            ),
        ));
    };
    let needle = comparable(value.as_ref());
    Ok(Some(Bson::Boolean(
        items.iter().any(|item| bson_equal(needle, item)),
    )))
}

/// `$concatArrays`: null or missing anywhere gives null.
pub fn concat_arrays(args: Vec<Option<Bson>>) -> StatusResult<Option<Bson>> {
    let mut out = Vec::new();
    for arg in args {
        match arg {
            v if nullish(v.as_ref()) => return Ok(Some(Bson::Null)),
            Some(Bson::Array(items)) => out.extend(items),
            other => {
                return Err(err(
                    28664,
                    format!(
                        "$concatArrays only supports arrays, not {}",
                        type_name(other.as_ref())
                    ),
                ));
            }
        }
    }
    Ok(Some(Bson::Array(out)))
}
