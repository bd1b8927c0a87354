//! Comparison operators: mongod's BSON order across types, with missing ordered below null.

use std::cmp::Ordering;

use bson::Bson;

use super::ops::Op;
use super::value::comparable;
use crate::query::compare::compare_bson;

/// `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte` (booleans) and `$cmp` (-1, 0 or 1).
pub fn compare(op: Op, lhs: Option<&Bson>, rhs: Option<&Bson>) -> Bson {
    let ord = compare_bson(comparable(lhs), comparable(rhs));
    match op {
        Op::Cmp => Bson::Int32(match ord {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }),
        Op::Eq => Bson::Boolean(ord == Ordering::Equal),
        Op::Ne => Bson::Boolean(ord != Ordering::Equal),
        Op::Gt => Bson::Boolean(ord == Ordering::Greater),
        Op::Gte => Bson::Boolean(ord != Ordering::Less),
        Op::Lt => Bson::Boolean(ord == Ordering::Less),
        _ => Bson::Boolean(ord != Ordering::Greater),
    }
}
