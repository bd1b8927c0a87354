//! `$group` accumulators: $sum (int32 → int64 → double promotion) $avg $min $max $first $last
//! $push $addToSet and `$count: {}`.

use std::cmp::Ordering;

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::key::ValueSet;
use crate::pipeline::expression::Expression;
use crate::pipeline::expression::numeric::Sum;
use crate::pipeline::expression::value::nullish;
use crate::query::compare::compare_bson;

/// Which accumulator a field uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `$sum` (and `$count`, as a sum of 1).
    Sum,
    /// `$avg`.
    Avg,
    /// `$min`.
    Min,
    /// `$max`.
    Max,
    /// `$first`.
    First,
    /// `$last`.
    Last,
    /// `$push`.
    Push,
    /// `$addToSet`.
    AddToSet,
}

/// Parses `{$op: <expression>}` for the field `name`.
pub fn parse(op: &str, arg: &Bson) -> StatusResult<(Kind, Expression)> {
    let kind = match op {
        "$sum" => Kind::Sum,
        "$avg" => Kind::Avg,
        "$min" => Kind::Min,
        "$max" => Kind::Max,
        "$first" => Kind::First,
        "$last" => Kind::Last,
        "$push" => Kind::Push,
        "$addToSet" => Kind::AddToSet,
        "$count" => {
            if !matches!(arg, Bson::Document(d) if d.is_empty()) {
                return Err(Status::new(
                    ErrorCode::Location(5_313_800),
                    "$count takes no arguments, i.e. $count:{}",
                ));
            }
            return Ok((Kind::Sum, Expression::Literal(Bson::Int32(1))));
        }
        _ => {
            return Err(Status::new(
                ErrorCode::Location(15952),
                format!("unknown group operator '{op}'"),
            ));
        }
    };
    if matches!(arg, Bson::Array(_)) {
        return Err(Status::new(
            ErrorCode::Location(40237),
            format!("The {op} accumulator is a unary operator"),
        ));
    }
    Ok((kind, Expression::parse(arg)?))
}

/// One group's running state for one accumulator.
#[derive(Clone, Debug)]
pub enum State {
    /// A running sum.
    Sum(Sum),
    /// A running sum and how many numbers it holds.
    Avg(Sum, u64),
    /// The best value so far (min or max), ignoring null and missing.
    Best(Option<Bson>, Ordering),
    /// The first value (null when missing), once seen.
    First(Option<Bson>),
    /// The last value.
    Last(Bson),
    /// Every non-missing value.
    Push(Vec<Bson>),
    /// Distinct non-missing values.
    AddToSet(ValueSet),
}

impl State {
    /// The empty state for `kind`.
    pub fn new(kind: Kind) -> State {
        match kind {
            Kind::Sum => State::Sum(Sum::default()),
            Kind::Avg => State::Avg(Sum::default(), 0),
            Kind::Min => State::Best(None, Ordering::Less),
            Kind::Max => State::Best(None, Ordering::Greater),
            Kind::First => State::First(None),
            Kind::Last => State::Last(Bson::Null),
            Kind::Push => State::Push(Vec::new()),
            Kind::AddToSet => State::AddToSet(ValueSet::default()),
        }
    }

    /// Folds in one document's value (`None` = missing).
    pub fn accumulate(&mut self, value: Option<Bson>) {
        match self {
            State::Sum(sum) => {
                if let Some(v) = &value {
                    sum.add(v);
                }
            }
            State::Avg(sum, count) => {
                if value.as_ref().is_some_and(|v| sum.add(v)) {
                    *count += 1;
                }
            }
            State::Best(best, wanted) => {
                if let Some(v) = value.filter(|v| !nullish(Some(v))) {
                    let better = best.as_ref().is_none_or(|b| compare_bson(&v, b) == *wanted);
                    if better {
                        *best = Some(v);
                    }
                }
            }
            State::First(first) => {
                if first.is_none() {
                    *first = Some(value.unwrap_or(Bson::Null));
                }
            }
            State::Last(last) => *last = value.unwrap_or(Bson::Null),
            State::Push(items) => items.extend(value),
            State::AddToSet(set) => {
                if let Some(v) = value {
                    set.insert(v);
                }
            }
        }
    }

    /// The accumulated result.
    pub fn finish(self) -> Bson {
        match self {
            State::Sum(sum) => sum.total().to_bson(),
            State::Avg(_, 0) => Bson::Null,
            State::Avg(sum, count) => Bson::Double(sum.total_f64() / count as f64),
            State::Best(best, _) => best.unwrap_or(Bson::Null),
            State::First(first) => first.unwrap_or(Bson::Null),
            State::Last(last) => last,
            State::Push(items) => Bson::Array(items),
            State::AddToSet(set) => Bson::Array(set.into_values()),
        }
    }
}
