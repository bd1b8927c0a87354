//! Type conversions: `$toString`, `$toInt`, `$toLong`, `$toDouble`, `$toBool` (mongod's `$convert`
//! without onError/onNull: null and missing give null, anything unconvertible is ConversionFailure).

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::date::iso_string;
use super::numeric::Num;
use super::ops::Op;
use super::value::{nullish, truthy, type_name};

fn failure(msg: String) -> Status {
    Status::new(
        ErrorCode::ConversionFailure,
        format!("{msg} in $convert with no onError value"),
    )
}

/// Runs one conversion operator.
pub fn convert(op: Op, arg: Option<&Bson>) -> StatusResult<Option<Bson>> {
    let Some(value) = arg.filter(|v| !nullish(Some(v))) else {
        return Ok(Some(Bson::Null));
    };
    let target = match op {
        Op::ToString => "string",
        Op::ToInt => "int",
        Op::ToLong => "long",
        Op::ToDouble => "double",
        _ => "bool",
    };
    let unsupported = || {
        failure(format!(
            "Unsupported conversion from {} to {target}",
            type_name(Some(value))
        ))
    };
    let out = match op {
        Op::ToString => Bson::String(match value {
            Bson::String(s) => s.clone(),
            Bson::Boolean(b) => b.to_string(),
            Bson::ObjectId(id) => id.to_hex(),
            Bson::DateTime(d) => iso_string(d.timestamp_millis()),
            Bson::Int32(i) => i.to_string(),
            Bson::Int64(i) => i.to_string(),
            Bson::Double(d) => d.to_string(),
            Bson::Decimal128(d) => d.to_string(),
            _ => return Err(unsupported()),
        }),
        Op::ToBool => Bson::Boolean(match value {
            Bson::Boolean(_) | Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
                truthy(Some(value))
            }
            _ => true,
        }),
        Op::ToDouble => Bson::Double(match value {
            Bson::Boolean(b) => f64::from(u8::from(*b)),
            Bson::DateTime(d) => d.timestamp_millis() as f64,
            Bson::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|_| !s.is_empty())
                .ok_or_else(|| failure(format!("Failed to parse number '{s}'")))?,
            v => Num::from_bson(v).ok_or_else(unsupported)?.as_f64(),
        }),
        _ => {
            let wide = integer(value, target, op == Op::ToLong)?;
            if op == Op::ToLong {
                Bson::Int64(wide)
            } else {
                Bson::Int32(
                    i32::try_from(wide)
                        .map_err(|_| failure(format!("Conversion would overflow target type: {value}")))?,
                )
            }
        }
    };
    Ok(Some(out))
}

/// The integer a value converts to for `$toInt` / `$toLong` (doubles truncate).
fn integer(value: &Bson, target: &str, allow_date: bool) -> StatusResult<i64> {
    match value {
        Bson::Boolean(b) => Ok(i64::from(*b)),
        Bson::DateTime(d) if allow_date => Ok(d.timestamp_millis()),
        Bson::String(s) => s
            .parse::<i64>()
            .map_err(|_| failure(format!("Failed to parse number '{s}'"))),
        v => match Num::from_bson(v) {
            Some(Num::Double(d)) if d.is_nan() => {
                Err(failure("Attempt to convert NaN value to integer type".into()))
            }
            Some(Num::Double(d)) => {
                let t = d.trunc();
                if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t) {
                    Err(failure(format!("Conversion would overflow target type: {d}")))
                } else {
                    Ok(t as i64)
                }
            }
            Some(n) => Ok(n.as_i64().unwrap_or(0)),
            None => Err(failure(format!(
                "Unsupported conversion from {} to {target}",
                type_name(Some(v))
            ))),
        },
    }
}
