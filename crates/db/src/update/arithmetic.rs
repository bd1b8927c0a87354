//! `$inc` and `$mul` with mongod's SafeNum typing: int32 stays int32 until it overflows (then int64),
//! int64 overflow is an error, any double makes a double, any decimal makes a decimal.

use std::str::FromStr;

use bson::{Bson, Decimal128};

use crate::query::compare::as_f64;

/// Which arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    /// `$inc`.
    Add,
    /// `$mul`.
    Multiply,
}

impl ArithOp {
    /// The operator's name in messages.
    pub(crate) fn modifier(self) -> &'static str {
        match self {
            ArithOp::Add => "$inc",
            ArithOp::Multiply => "$mul",
        }
    }

    /// The verb in mongod's parse error ("Cannot increment with non-numeric argument").
    pub(crate) fn verb(self) -> &'static str {
        match self {
            ArithOp::Add => "increment",
            ArithOp::Multiply => "multiply",
        }
    }
}

/// Whether a value is one of BSON's four number types.
pub(crate) fn is_number(value: &Bson) -> bool {
    matches!(
        value,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
    )
}

/// `current <op> operand`, or `None` when an int64 result overflows (mongod's invalid SafeNum).
/// Both values must be numbers.
pub(crate) fn combine(op: ArithOp, current: &Bson, operand: &Bson) -> Option<Bson> {
    match (current, operand) {
        (Bson::Decimal128(_), _) | (_, Bson::Decimal128(_)) => {
            // bson has no decimal arithmetic; go through f64 (exact for the integers and short
            // fractions counters use) and back to a decimal, keeping the result's type right.
            let value = apply_f64(op, as_f64(current), as_f64(operand));
            Decimal128::from_str(&format!("{value:?}"))
                .ok()
                .map(Bson::Decimal128)
        }
        (Bson::Double(_), _) | (_, Bson::Double(_)) => {
            Some(Bson::Double(apply_f64(op, as_f64(current), as_f64(operand))))
        }
        (Bson::Int32(a), Bson::Int32(b)) => {
            let narrow = match op {
                ArithOp::Add => a.checked_add(*b),
                ArithOp::Multiply => a.checked_mul(*b),
            };
            match narrow {
                Some(v) => Some(Bson::Int32(v)),
                None => apply_i64(op, i64::from(*a), i64::from(*b)),
            }
        }
        _ => apply_i64(op, as_i64(current)?, as_i64(operand)?),
    }
}

/// The value `$mul` creates for a missing field: zero of the operand's type.
pub(crate) fn zero_like(operand: &Bson) -> Bson {
    combine(ArithOp::Multiply, &Bson::Int32(0), operand).unwrap_or(Bson::Int32(0))
}

/// Whether two numbers are identical in type and value (SafeNum's `isIdentical`), so the update is a
/// no-op.
pub(crate) fn identical(a: &Bson, b: &Bson) -> bool {
    match (a, b) {
        (Bson::Double(x), Bson::Double(y)) => x.to_bits() == y.to_bits() || x == y,
        _ => a == b,
    }
}

fn apply_f64(op: ArithOp, a: f64, b: f64) -> f64 {
    match op {
        ArithOp::Add => a + b,
        ArithOp::Multiply => a * b,
    }
}

fn apply_i64(op: ArithOp, a: i64, b: i64) -> Option<Bson> {
    match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Multiply => a.checked_mul(b),
    }
    .map(Bson::Int64)
}

fn as_i64(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        _ => None,
    }
}
