//! Arithmetic operators ($add $subtract $multiply $divide $mod $abs $ceil $floor) and the array
//! forms of $sum $avg $min $max, with mongod's null propagation, type promotion and error codes.

use std::cmp::Ordering;

use bson::{Bson, DateTime};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::numeric::{self, Num, Sum};
use super::ops::Op;
use super::value::{nullish, type_name};
use crate::query::compare::compare_bson;

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// A date moved by a number of milliseconds (doubles rounded, as mongod's `llround`).
fn shift_date(date: DateTime, by: Num, sign: i64) -> Bson {
    let millis = match by {
        Num::Double(d) => d.round() as i64,
        other => other.as_i64().unwrap_or(0),
    };
    Bson::DateTime(DateTime::from_millis(
        date.timestamp_millis().wrapping_add(sign.wrapping_mul(millis)),
    ))
}

/// `$add`: numbers, plus at most one date; null or missing anywhere gives null.
pub fn add(args: &[Option<Bson>]) -> StatusResult<Option<Bson>> {
    let mut sum = Sum::default();
    let mut date: Option<DateTime> = None;
    for arg in args {
        match arg {
            v if nullish(v.as_ref()) => return Ok(Some(Bson::Null)),
            Some(Bson::DateTime(d)) => {
                if date.is_some() {
                    return Err(err(16612, "only one date allowed in an $add expression".into()));
                }
                date = Some(*d);
            }
            Some(v) if !sum.add(v) => {
                return Err(err(
                    16554,
                    format!(
                        "$add only supports numeric or date types, not {}",
                        type_name(Some(v))
                    ),
                ));
            }
            Some(_) => {}
            None => {}
        }
    }
    Ok(Some(match date {
        Some(d) => shift_date(d, sum.total(), 1),
        None => sum.total().to_bson(),
    }))
}

/// `$subtract`: numbers, date minus date (milliseconds as a long) or date minus number.
pub fn subtract(lhs: &Option<Bson>, rhs: &Option<Bson>) -> StatusResult<Option<Bson>> {
    if nullish(lhs.as_ref()) || nullish(rhs.as_ref()) {
        return Ok(Some(Bson::Null));
    }
    let (Some(l), Some(r)) = (lhs, rhs) else {
        return Ok(Some(Bson::Null));
    };
    match (l, r, Num::from_bson(l), Num::from_bson(r)) {
        (_, _, Some(a), Some(b)) => Ok(Some(numeric::subtract(a, b).to_bson())),
        (Bson::DateTime(a), Bson::DateTime(b), _, _) => Ok(Some(Bson::Int64(
            a.timestamp_millis().wrapping_sub(b.timestamp_millis()),
        ))),
        (Bson::DateTime(a), _, _, Some(b)) => Ok(Some(shift_date(*a, b, -1))),
        _ => Err(err(
            16556,
            format!(
                "can't $subtract {} from {}",
                type_name(Some(r)),
                type_name(Some(l))
            ),
        )),
    }
}

/// `$multiply`: numbers only; null or missing anywhere gives null.
pub fn multiply(args: &[Option<Bson>]) -> StatusResult<Option<Bson>> {
    let mut product = Num::Int(1);
    for arg in args {
        if nullish(arg.as_ref()) {
            return Ok(Some(Bson::Null));
        }
        match arg.as_ref().and_then(Num::from_bson) {
            Some(n) => product = numeric::multiply(product, n),
            None => {
                return Err(err(
                    16555,
                    format!(
                        "$multiply only supports numeric types, not {}",
                        type_name(arg.as_ref())
                    ),
                ));
            }
        }
    }
    Ok(Some(product.to_bson()))
}

/// Both operands as numbers, or null when either is nullish, or `code`'s type error.
fn two_numbers(
    name: &str,
    code: i32,
    lhs: &Option<Bson>,
    rhs: &Option<Bson>,
) -> StatusResult<Option<(Num, Num)>> {
    if nullish(lhs.as_ref()) || nullish(rhs.as_ref()) {
        return Ok(None);
    }
    match (
        lhs.as_ref().and_then(Num::from_bson),
        rhs.as_ref().and_then(Num::from_bson),
    ) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        _ => Err(err(
            code,
            format!(
                "{name} only supports numeric types, not {} and {}",
                type_name(lhs.as_ref()),
                type_name(rhs.as_ref())
            ),
        )),
    }
}

/// `$divide`: always a double; dividing by zero is BadValue.
pub fn divide(lhs: &Option<Bson>, rhs: &Option<Bson>) -> StatusResult<Option<Bson>> {
    let Some((a, b)) = two_numbers("$divide", 16609, lhs, rhs)? else {
        return Ok(Some(Bson::Null));
    };
    if b.as_f64() == 0.0 {
        return Err(Status::new(ErrorCode::BadValue, "can't $divide by zero"));
    }
    Ok(Some(Bson::Double(a.as_f64() / b.as_f64())))
}

/// `$mod`: the remainder with the dividend's sign, in the wider operand type.
pub fn modulo(lhs: &Option<Bson>, rhs: &Option<Bson>) -> StatusResult<Option<Bson>> {
    let Some((a, b)) = two_numbers("$mod", 16611, lhs, rhs)? else {
        return Ok(Some(Bson::Null));
    };
    if b.as_f64() == 0.0 {
        return Err(err(16610, "can't $mod by zero".into()));
    }
    Ok(Some(numeric::modulo(a, b).to_bson()))
}

/// `$abs`, `$ceil`, `$floor`.
pub fn unary(op: Op, arg: Option<&Bson>) -> StatusResult<Option<Bson>> {
    if nullish(arg) {
        return Ok(Some(Bson::Null));
    }
    let Some(n) = arg.and_then(Num::from_bson) else {
        return Err(err(
            28765,
            format!(
                "{} only supports numeric types, not {}",
                op.name(),
                type_name(arg)
            ),
        ));
    };
    let out = match (op, n) {
        (Op::Abs, Num::Int(i)) => numeric::int_or_long(i64::from(i).abs()),
        (Op::Abs, Num::Long(i)) => match i.checked_abs() {
            Some(a) => Num::Long(a),
            None => return Err(err(28680, "can't take $abs of long long min".into())),
        },
        (Op::Abs, Num::Double(d)) => Num::Double(d.abs()),
        (Op::Ceil, Num::Double(d)) => Num::Double(d.ceil()),
        (Op::Floor, Num::Double(d)) => Num::Double(d.floor()),
        (_, integer) => integer,
    };
    Ok(Some(out.to_bson()))
}

/// The expression forms of `$sum`, `$avg`, `$min`, `$max`: over the elements of a single array
/// argument, or over the arguments; non-numbers (for sum and avg) and nulls are ignored.
pub fn fold(op: Op, args: Vec<Option<Bson>>) -> StatusResult<Option<Bson>> {
    let values: Vec<Bson> = match <[Option<Bson>; 1]>::try_from(args) {
        Ok([Some(Bson::Array(items))]) => items,
        Ok([single]) => single.into_iter().collect(),
        Err(args) => args.into_iter().flatten().collect(),
    };
    let out = match op {
        Op::Sum => {
            let mut sum = Sum::default();
            values.iter().for_each(|v| {
                sum.add(v);
            });
            sum.total().to_bson()
        }
        Op::Avg => {
            let mut sum = Sum::default();
            let count = values.iter().filter(|v| sum.add(v)).count();
            if count == 0 {
                Bson::Null
            } else {
                Bson::Double(sum.total_f64() / count as f64)
            }
        }
        _ => {
            let wanted = if op == Op::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            values
                .into_iter()
                .filter(|v| !nullish(Some(v)))
                .reduce(|best, v| {
                    if compare_bson(&v, &best) == wanted {
                        v
                    } else {
                        best
                    }
                })
                .unwrap_or(Bson::Null)
        }
    };
    Ok(Some(out))
}
