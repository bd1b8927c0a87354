//! Small helpers the admin commands share: number parsing as mongod does it, the admin-only check, and
//! reading /proc.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::command::CommandRequest;

/// A whole number from an int32, int64 or integral double (mongod's `safeNumberLong` for options).
pub(crate) fn as_i64(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Int64(v) => Some(*v),
        Bson::Double(v) if v.fract() == 0.0 && v.is_finite() => Some(*v as i64),
        _ => None,
    }
}

/// Whether a value counts as true (mongod's `trueValue`).
pub(crate) fn truthy(value: &Bson) -> bool {
    match value {
        Bson::Boolean(b) => *b,
        Bson::Double(d) => *d != 0.0,
        Bson::Int32(i) => *i != 0,
        Bson::Int64(i) => *i != 0,
        Bson::Null | Bson::Undefined => false,
        _ => true,
    }
}

/// mongod's check for adminOnly commands (Unauthorized 13 elsewhere).
pub(crate) fn require_admin(request: &CommandRequest<'_>) -> StatusResult<()> {
    if request.database == "admin" {
        return Ok(());
    }
    Err(Status::new(
        ErrorCode::Unauthorized,
        format!("{} may only be run against the admin database.", request.name),
    ))
}

/// A `Key: value kB` line of /proc/self/status, in MiB.
pub(crate) fn proc_status_mb(key: &str) -> Option<i32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    i32::try_from(kb / 1024).ok()
}

/// This machine's host name (mongod's `getHostNameCached`).
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned())
}

/// A count as a BSON int64, saturating.
pub(crate) fn long(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A count as a BSON int32, saturating.
pub(crate) fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
