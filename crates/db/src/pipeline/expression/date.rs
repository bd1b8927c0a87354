//! Date parts in UTC ($year $month $dayOfMonth $hour $minute $second $millisecond $dayOfWeek
//! $dayOfYear) and the ISO-8601 form mongod prints for dates.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::ops::Op;
use super::value::{nullish, type_name};

/// A UTC instant broken into calendar fields.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
    /// Days since 1970-01-01.
    days: i64,
}

fn civil(millis: i64) -> Civil {
    let days = millis.div_euclid(86_400_000);
    let rem = millis.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: rem / 3_600_000,
        minute: rem / 60_000 % 60,
        second: rem / 1000 % 60,
        millis: rem % 1000,
        days,
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn day_of_year(c: &Civil) -> i64 {
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap = i64::from(c.month > 2 && is_leap(c.year));
    BEFORE[(c.month - 1).clamp(0, 11) as usize] + c.day + leap
}

/// `2024-01-31T12:00:00.000Z`.
pub fn iso_string(millis: i64) -> String {
    let c = civil(millis);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
    )
}

/// One date part of a date (or of `{date: <date>}`; only UTC is supported).
pub fn part(op: Op, arg: Option<&Bson>) -> StatusResult<Option<Bson>> {
    let arg = match arg {
        Some(Bson::Document(spec)) if spec.contains_key("date") => {
            if let Some(tz) = spec.get("timezone").filter(|tz| !nullish(Some(tz)))
                && !matches!(tz, Bson::String(s) if s == "UTC" || s == "GMT" || s == "Z")
            {
                {
                    return Err(Status::new(
                        ErrorCode::NotImplemented,
                        format!("{}: only the UTC timezone is supported by docwire", op.name()),
                    ));
                }
            }
            spec.get("date")
        }
        other => other,
    };
    if nullish(arg) {
        return Ok(Some(Bson::Null));
    }
    let millis = match arg {
        Some(Bson::DateTime(d)) => d.timestamp_millis(),
        Some(Bson::ObjectId(id)) => id.timestamp().timestamp_millis(),
        Some(Bson::Timestamp(ts)) => i64::from(ts.time) * 1000,
        other => {
            return Err(Status::new(
                ErrorCode::Location(16006),
                format!("can't convert from BSON type {} to Date", type_name(other)),
            ));
        }
    };
    let c = civil(millis);
    let value = match op {
        Op::Year => c.year,
        Op::Month => c.month,
        Op::DayOfMonth => c.day,
        Op::Hour => c.hour,
        Op::Minute => c.minute,
        Op::Second => c.second,
        Op::Millisecond => c.millis,
        // 1 = Sunday; 1970-01-01 was a Thursday.
        Op::DayOfWeek => (c.days + 4).rem_euclid(7) + 1,
        _ => day_of_year(&c),
    };
    Ok(Some(Bson::Int32(i32::try_from(value).unwrap_or(i32::MAX))))
}
