//! The operators whose arguments are all evaluated before they run: the name table, arity checks
//! (mongod's 16020 and 28667 messages) and dispatch to the module implementing each family.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::{arithmetic, array, comparison, date, objects, string, types};

/// An eagerly evaluated operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    Add,
    Subtract,
    Multiply,
    Divide,
    Mod,
    Abs,
    Ceil,
    Floor,
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Cmp,
    Not,
    Concat,
    ToLower,
    ToUpper,
    SubstrCP,
    StrLenCP,
    Size,
    ArrayElemAt,
    In,
    IsArray,
    ConcatArrays,
    Type,
    ToString,
    ToInt,
    ToLong,
    ToDouble,
    ToBool,
    Year,
    Month,
    DayOfMonth,
    Hour,
    Minute,
    Second,
    Millisecond,
    DayOfWeek,
    DayOfYear,
    Sum,
    Avg,
    Min,
    Max,
    MergeObjects,
}

/// How many arguments an operator takes; `None` means any number.
type Arity = Option<usize>;

const TABLE: &[(&str, Op, Arity)] = &[
    ("$add", Op::Add, None),
    ("$subtract", Op::Subtract, Some(2)),
    ("$multiply", Op::Multiply, None),
    ("$divide", Op::Divide, Some(2)),
    ("$mod", Op::Mod, Some(2)),
    ("$abs", Op::Abs, Some(1)),
    ("$ceil", Op::Ceil, Some(1)),
    ("$floor", Op::Floor, Some(1)),
    ("$eq", Op::Eq, Some(2)),
    ("$ne", Op::Ne, Some(2)),
    ("$gt", Op::Gt, Some(2)),
    ("$gte", Op::Gte, Some(2)),
    ("$lt", Op::Lt, Some(2)),
    ("$lte", Op::Lte, Some(2)),
    ("$cmp", Op::Cmp, Some(2)),
    ("$not", Op::Not, Some(1)),
    ("$concat", Op::Concat, None),
    ("$toLower", Op::ToLower, Some(1)),
    ("$toUpper", Op::ToUpper, Some(1)),
    ("$substrCP", Op::SubstrCP, Some(3)),
    ("$strLenCP", Op::StrLenCP, Some(1)),
    ("$size", Op::Size, Some(1)),
    ("$arrayElemAt", Op::ArrayElemAt, Some(2)),
    ("$in", Op::In, Some(2)),
    ("$isArray", Op::IsArray, Some(1)),
    ("$concatArrays", Op::ConcatArrays, None),
    ("$type", Op::Type, Some(1)),
    ("$toString", Op::ToString, Some(1)),
    ("$toInt", Op::ToInt, Some(1)),
    ("$toLong", Op::ToLong, Some(1)),
    ("$toDouble", Op::ToDouble, Some(1)),
    ("$toBool", Op::ToBool, Some(1)),
    ("$year", Op::Year, Some(1)),
    ("$month", Op::Month, Some(1)),
    ("$dayOfMonth", Op::DayOfMonth, Some(1)),
    ("$hour", Op::Hour, Some(1)),
    ("$minute", Op::Minute, Some(1)),
    ("$second", Op::Second, Some(1)),
    ("$millisecond", Op::Millisecond, Some(1)),
    ("$dayOfWeek", Op::DayOfWeek, Some(1)),
    ("$dayOfYear", Op::DayOfYear, Some(1)),
    ("$sum", Op::Sum, None),
    ("$avg", Op::Avg, None),
    ("$min", Op::Min, None),
    ("$max", Op::Max, None),
    ("$mergeObjects", Op::MergeObjects, None),
];

impl Op {
    /// The operator named `name` (with its `$`), if it is one of these.
    pub fn from_name(name: &str) -> Option<Op> {
        TABLE.iter().find(|(n, _, _)| *n == name).map(|(_, op, _)| *op)
    }

    /// The operator's name, with its `$`.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, op, _)| *op == self)
            .map_or("$unknown", |(n, _, _)| n)
    }

    /// Rejects a wrong number of arguments as mongod does (16020).
    pub fn check_arity(self, count: usize) -> StatusResult<()> {
        let arity = TABLE
            .iter()
            .find(|(_, op, _)| *op == self)
            .and_then(|(_, _, a)| *a);
        match arity {
            Some(n) if n != count => Err(Status::new(
                ErrorCode::Location(16020),
                format!(
                    "Expression {} takes exactly {n} arguments. {count} were passed in.",
                    self.name()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Runs the operator on its evaluated arguments (`None` = missing).
    pub fn apply(self, args: Vec<Option<Bson>>) -> StatusResult<Option<Bson>> {
        match self {
            Op::Add => arithmetic::add(&args),
            Op::Subtract => arithmetic::subtract(&args[0], &args[1]),
            Op::Multiply => arithmetic::multiply(&args),
            Op::Divide => arithmetic::divide(&args[0], &args[1]),
            Op::Mod => arithmetic::modulo(&args[0], &args[1]),
            Op::Abs | Op::Ceil | Op::Floor => arithmetic::unary(self, args[0].as_ref()),
            Op::Eq | Op::Ne | Op::Gt | Op::Gte | Op::Lt | Op::Lte | Op::Cmp => Ok(Some(comparison::compare(
                self,
                args[0].as_ref(),
                args[1].as_ref(),
            ))),
            Op::Not => Ok(Some(Bson::Boolean(!super::value::truthy(args[0].as_ref())))),
            Op::Concat => string::concat(&args),
            Op::ToLower => string::change_case(args[0].as_ref(), false),
            Op::ToUpper => string::change_case(args[0].as_ref(), true),
            Op::SubstrCP => string::substr_cp(&args[0], &args[1], &args[2]),
            Op::StrLenCP => string::str_len_cp(args[0].as_ref()),
            Op::Size => array::size(args[0].as_ref()),
            Op::ArrayElemAt => array::elem_at(&args[0], &args[1]),
            Op::In => array::contains(&args[0], &args[1]),
            Op::IsArray => Ok(Some(Bson::Boolean(matches!(args[0], Some(Bson::Array(_)))))),
            Op::ConcatArrays => array::concat_arrays(args),
            Op::Type => Ok(Some(Bson::String(
                super::value::type_name(args[0].as_ref()).to_owned(),
            ))),
            Op::ToString | Op::ToInt | Op::ToLong | Op::ToDouble | Op::ToBool => {
                types::convert(self, args[0].as_ref())
            }
            Op::Year
            | Op::Month
            | Op::DayOfMonth
            | Op::Hour
            | Op::Minute
            | Op::Second
            | Op::Millisecond
            | Op::DayOfWeek
            | Op::DayOfYear => date::part(self, args[0].as_ref()),
            Op::Sum | Op::Avg | Op::Min | Op::Max => arithmetic::fold(self, args),
            Op::MergeObjects => objects::merge_objects(args),
        }
    }
}
