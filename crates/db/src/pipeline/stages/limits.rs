//! `$skip` and `$limit` arguments: whole non-negative (`$skip`) or positive (`$limit`) numbers.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

/// The number as an integer, or `None` when it is not a whole number.
fn whole(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        Bson::Double(_) | Bson::Decimal128(_) => {
            let f = crate::query::compare::as_f64(value);
            (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
        }
        _ => None,
    }
}

/// Parses `$skip` (15972 not a number, 15956 negative).
pub fn parse_skip(value: &Bson) -> StatusResult<u64> {
    let n = whole(value)
        .ok_or_else(|| Status::new(ErrorCode::Location(15972), "Argument to $skip must be a number"))?;
    u64::try_from(n)
        .map_err(|_| Status::new(ErrorCode::Location(15956), "Argument to $skip cannot be negative"))
}

/// Parses `$limit` (15957 not a number, 15958 not positive).
pub fn parse_limit(value: &Bson) -> StatusResult<u64> {
    let n = whole(value).ok_or_else(|| {
        Status::new(
            ErrorCode::Location(15957),
            "the limit must be specified as a number",
        )
    })?;
    u64::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Status::new(ErrorCode::Location(15958), "the limit must be positive"))
}
