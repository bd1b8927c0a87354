//! Numbers with mongod's type promotion: int32 widens to int64 on overflow and int64 to double;
//! any double makes the result a double. Decimal128 is computed as a double (docwire has no
//! decimal arithmetic).

use bson::Bson;

use crate::query::compare::as_f64;

/// A numeric value in one of the widths arithmetic distinguishes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    /// int32.
    Int(i32),
    /// int64.
    Long(i64),
    /// double (and decimals, approximated).
    Double(f64),
}

impl Num {
    /// The number a value holds, or `None` for a non-number.
    pub fn from_bson(value: &Bson) -> Option<Num> {
        match value {
            Bson::Int32(i) => Some(Num::Int(*i)),
            Bson::Int64(i) => Some(Num::Long(*i)),
            Bson::Double(d) => Some(Num::Double(*d)),
            Bson::Decimal128(_) => Some(Num::Double(as_f64(value))),
            _ => None,
        }
    }

    /// The value as BSON.
    pub fn to_bson(self) -> Bson {
        match self {
            Num::Int(i) => Bson::Int32(i),
            Num::Long(i) => Bson::Int64(i),
            Num::Double(d) => Bson::Double(d),
        }
    }

    /// The value as a double.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => f64::from(i),
            Num::Long(i) => i as f64,
            Num::Double(d) => d,
        }
    }

    /// The value as an integer, when it is one (int32 or int64).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Num::Int(i) => Some(i64::from(i)),
            Num::Long(i) => Some(i),
            Num::Double(_) => None,
        }
    }

    fn is_long(self) -> bool {
        matches!(self, Num::Long(_))
    }
}

/// An int32 when it fits, else an int64 (mongod's `Value::createIntOrLong`).
pub fn int_or_long(value: i64) -> Num {
    i32::try_from(value).map_or(Num::Long(value), Num::Int)
}

/// Applies an integer operation when both sides are integers (falling back to doubles on overflow)
/// and the double operation otherwise.
fn combine(
    a: Num,
    b: Num,
    int_op: impl Fn(i64, i64) -> Option<i64>,
    double_op: impl Fn(f64, f64) -> f64,
) -> Num {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => match int_op(x, y) {
            Some(r) if a.is_long() || b.is_long() => Num::Long(r),
            Some(r) => int_or_long(r),
            None => Num::Double(double_op(x as f64, y as f64)),
        },
        _ => Num::Double(double_op(a.as_f64(), b.as_f64())),
    }
}

/// `a - b`.
pub fn subtract(a: Num, b: Num) -> Num {
    combine(a, b, i64::checked_sub, |x, y| x - y)
}

/// `a * b`.
pub fn multiply(a: Num, b: Num) -> Num {
    combine(a, b, i64::checked_mul, |x, y| x * y)
}

/// `a % b` (b non-zero; the caller checks), with the sign of `a` as in C.
pub fn modulo(a: Num, b: Num) -> Num {
    combine(a, b, i64::checked_rem, |x, y| x % y)
}

/// A running sum as mongod's `$sum` and `$add` keep it: the widest input type decides the result's
/// type, and an int64 overflow moves the total to a double.
#[derive(Clone, Debug, Default)]
pub struct Sum {
    widest: u8,
    long_total: i64,
    double_total: f64,
    long_overflowed: bool,
}

const INT: u8 = 0;
const LONG: u8 = 1;
const DOUBLE: u8 = 2;

impl Sum {
    /// Adds a number; anything else is ignored (returns false).
    pub fn add(&mut self, value: &Bson) -> bool {
        match Num::from_bson(value) {
            Some(n) => {
                self.add_num(n);
                true
            }
            None => false,
        }
    }

    /// Adds a number.
    pub fn add_num(&mut self, n: Num) {
        match n {
            Num::Int(i) => self.add_integer(i64::from(i)),
            Num::Long(i) => {
                self.widest = self.widest.max(LONG);
                self.add_integer(i);
            }
            Num::Double(d) => {
                self.widest = DOUBLE;
                self.double_total += d;
            }
        }
    }

    fn add_integer(&mut self, i: i64) {
        match self.long_total.checked_add(i) {
            Some(total) => self.long_total = total,
            None => {
                // Past int64: keep going in doubles, as mongod does.
                self.long_overflowed = true;
                self.double_total += i as f64;
            }
        }
    }

    /// The total as a number of the promoted type.
    pub fn total(&self) -> Num {
        if self.widest == DOUBLE || self.long_overflowed {
            return Num::Double(self.double_total + self.long_total as f64);
        }
        if self.widest == INT {
            int_or_long(self.long_total)
        } else {
            Num::Long(self.long_total)
        }
    }

    /// The total as a double (for `$avg`).
    pub fn total_f64(&self) -> f64 {
        self.double_total + self.long_total as f64
    }
}
