//! String operators ($concat $toLower $toUpper $substrCP $strLenCP) and mongod's coercion of
//! values to strings.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::date::iso_string;
use super::value::{nullish, type_name};

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// mongod's `coerceToString`: null and missing are "", numbers and dates are formatted.
pub fn coerce_to_string(value: Option<&Bson>) -> StatusResult<String> {
    match value {
        None | Some(Bson::Null | Bson::Undefined) => Ok(String::new()),
        Some(Bson::String(s) | Bson::Symbol(s)) => Ok(s.clone()),
        Some(Bson::Int32(i)) => Ok(i.to_string()),
        Some(Bson::Int64(i)) => Ok(i.to_string()),
        Some(Bson::Double(d)) => Ok(d.to_string()),
        Some(Bson::Decimal128(d)) => Ok(d.to_string()),
        Some(Bson::DateTime(d)) => Ok(iso_string(d.timestamp_millis())),
        other => Err(err(
            16007,
            format!("can't convert from BSON type {} to String", type_name(other)),
        )),
    }
}

/// `$concat`: strings only; null or missing gives null.
pub fn concat(args: &[Option<Bson>]) -> StatusResult<Option<Bson>> {
    let mut out = String::new();
    for arg in args {
        match arg {
            v if nullish(v.as_ref()) => return Ok(Some(Bson::Null)),
            Some(Bson::String(s)) => out.push_str(s),
            other => {
                return Err(err(
                    16702,
                    format!("$concat only supports strings, not {}", type_name(other.as_ref())),
                ));
            }
        }
    }
    Ok(Some(Bson::String(out)))
}

/// `$toLower` / `$toUpper` (ASCII letters only, as mongod).
pub fn change_case(arg: Option<&Bson>, upper: bool) -> StatusResult<Option<Bson>> {
    let s = coerce_to_string(arg)?;
    Ok(Some(Bson::String(if upper {
        s.to_ascii_uppercase()
    } else {
        s.to_ascii_lowercase()
    })))
}

/// An integral number that fits in an int32, for $substrCP's index and length.
fn int_argument(value: &Option<Bson>, what: &str, type_code: i32, int_code: i32) -> StatusResult<i64> {
    let n = match value {
        Some(v @ (Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_))) => {
            crate::query::compare::as_f64(v)
        }
        other => {
            return Err(err(
                type_code,
                format!(
                    "$substrCP: {what} must be a numeric type (is BSON type {})",
                    type_name(other.as_ref())
                ),
            ));
        }
    };
    if n.fract() != 0.0 || n < f64::from(i32::MIN) || n > f64::from(i32::MAX) {
        return Err(err(
            int_code,
            format!("$substrCP: {what} cannot be represented as a 32-bit integral value"),
        ));
    }
    Ok(n as i64)
}

/// `$substrCP: [string, start, count]` in code points.
pub fn substr_cp(s: &Option<Bson>, start: &Option<Bson>, len: &Option<Bson>) -> StatusResult<Option<Bson>> {
    let s = coerce_to_string(s.as_ref())?;
    let start = int_argument(start, "starting index", 34450, 34451)?;
    let len = int_argument(len, "length", 34452, 34453)?;
    if start < 0 {
        return Err(err(
            34455,
            format!("$substrCP: starting index must be non-negative (got: {start})"),
        ));
    }
    if len < 0 {
        return Err(err(
            34454,
            "$substrCP: length must be a nonnegative integer.".into(),
        ));
    }
    let out: String = s.chars().skip(start as usize).take(len as usize).collect();
    Ok(Some(Bson::String(out)))
}

/// `$strLenCP`: the number of code points of a string.
pub fn str_len_cp(arg: Option<&Bson>) -> StatusResult<Option<Bson>> {
    match arg {
        Some(Bson::String(s)) => Ok(Some(Bson::Int32(
            i32::try_from(s.chars().count()).unwrap_or(i32::MAX),
        ))),
        other => Err(err(
            34471,
            format!(
                "$strLenCP requires a string argument, found: {}",
                type_name(other)
            ),
        )),
    }
}
