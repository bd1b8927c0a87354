//! One operator applied at one path (mongod's leaf update nodes): parsing its argument, and its effect
//! on an existing value or where the path is missing.

use std::cmp::Ordering;

use bson::{Bson, Timestamp};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::arithmetic::{self, ArithOp};
use super::array_ops::{self, PushSpec};
use super::equality::binary_equal;
use super::format::{element_string, safe_num_string, type_name};
use super::pull::PullCondition;
use super::spec::ApplyContext;
use crate::query::compare::{bson_equal, compare_bson};

/// An operator with its parsed argument.
#[derive(Debug, Clone)]
pub(crate) enum Leaf {
    /// `$set`.
    Set(Bson),
    /// `$setOnInsert`: a `$set` that only acts when an upsert inserts.
    SetOnInsert(Bson),
    /// `$unset`.
    Unset,
    /// `$inc` / `$mul`.
    Arith(ArithOp, Bson),
    /// `$min` (`true`) or `$max` (`false`).
    Compare { keep_lower: bool, value: Bson },
    /// `$currentDate`; `timestamp` picks a Timestamp over a Date.
    CurrentDate { timestamp: bool },
    /// `$push`.
    Push(PushSpec),
    /// `$addToSet` with its deduplicated values.
    AddToSet(Vec<Bson>),
    /// `$pull`.
    Pull(PullCondition),
    /// `$pullAll`.
    PullAll(Vec<Bson>),
    /// `$pop`; `front` pops the first element.
    Pop { front: bool },
    /// The source path of a `$rename`: it holds the place so nothing else updates it.
    RenameSource,
    /// The target path of `$rename` number `n`.
    RenameTarget(usize),
}

/// What a leaf does to an existing value.
pub(crate) enum Outcome {
    /// Nothing changed.
    NoOp,
    /// The value was changed in place.
    Changed,
    /// The field is to be removed (set to null inside an array).
    Remove,
    /// The value is to be replaced by this one.
    Replace(Bson),
}

/// What a leaf does where its path does not exist.
pub(crate) enum Missing {
    /// Nothing, wherever the path leads.
    Nothing,
    /// Nothing, but the path must be one that could be created (mongod's `checkViability`).
    NothingIfViable,
    /// Create the field with this value.
    Create(Bson),
}

/// What the leaf needs to know about the document to apply and to word errors.
pub(crate) struct LeafEnv<'a> {
    /// The update's context.
    pub(crate) ctx: &'a ApplyContext,
    /// `_id: 1` (or `no id`), for messages.
    pub(crate) id: &'a str,
    /// The values taken from `$rename` sources, by rename number.
    pub(crate) renamed: &'a [Option<Bson>],
}

fn parse_error(code: ErrorCode, reason: String) -> Status {
    Status::new(code, reason)
}

impl Leaf {
    /// Parses operator `op`'s argument for `field` (`$rename` is parsed by the spec).
    pub(crate) fn parse(op: &str, field: &str, value: &Bson) -> StatusResult<Leaf> {
        Ok(match op {
            "$set" => Leaf::Set(value.clone()),
            "$setOnInsert" => Leaf::SetOnInsert(value.clone()),
            "$unset" => Leaf::Unset,
            "$inc" | "$mul" => {
                let arith = if op == "$inc" {
                    ArithOp::Add
                } else {
                    ArithOp::Multiply
                };
                if !arithmetic::is_number(value) {
                    return Err(parse_error(
                        ErrorCode::TypeMismatch,
                        format!(
                            "Cannot {} with non-numeric argument: {{{}}}",
                            arith.verb(),
                            element_string(field, value)
                        ),
                    ));
                }
                Leaf::Arith(arith, value.clone())
            }
            "$min" | "$max" => Leaf::Compare {
                keep_lower: op == "$min",
                value: value.clone(),
            },
            "$currentDate" => Leaf::CurrentDate {
                timestamp: parse_current_date(value)?,
            },
            "$push" => Leaf::Push(PushSpec::parse(value)?),
            "$addToSet" => Leaf::AddToSet(array_ops::parse_add_to_set(value)?),
            "$pull" => Leaf::Pull(PullCondition::parse(value)?),
            "$pullAll" => Leaf::PullAll(array_ops::parse_pull_all(value)?),
            "$pop" => Leaf::Pop {
                front: array_ops::parse_pop(field, value)?,
            },
            other => {
                return Err(parse_error(
                    ErrorCode::FailedToParse,
                    format!("Unknown modifier: {other}"),
                ));
            }
        })
    }

    /// Applies the leaf to the existing value at `path` (`dotted`).
    pub(crate) fn apply_existing(
        &self,
        value: &mut Bson,
        dotted: &str,
        field: &str,
        env: &LeafEnv<'_>,
    ) -> StatusResult<Outcome> {
        Ok(match self {
            Leaf::Set(new) => replace_unless_identical(value, new),
            Leaf::SetOnInsert(new) if env.ctx.is_upsert_insert => replace_unless_identical(value, new),
            Leaf::SetOnInsert(_) | Leaf::RenameSource => Outcome::NoOp,
            Leaf::Unset => Outcome::Remove,
            Leaf::Arith(op, operand) => {
                if !arithmetic::is_number(value) {
                    return Err(Status::new(
                        ErrorCode::TypeMismatch,
                        format!(
                            "Cannot apply {} to a value of non-numeric type. {{{}}} has the field '{}' of non-numeric type {}",
                            op.modifier(),
                            env.id,
                            field,
                            type_name(value)
                        ),
                    ));
                }
                let Some(result) = arithmetic::combine(*op, value, operand) else {
                    return Err(Status::new(
                        ErrorCode::BadValue,
                        format!(
                            "Failed to apply {} operations to current value ({}) for document {{{}}}",
                            op.modifier(),
                            safe_num_string(value),
                            env.id
                        ),
                    ));
                };
                if arithmetic::identical(&result, value) {
                    Outcome::NoOp
                } else {
                    Outcome::Replace(result)
                }
            }
            Leaf::Compare {
                keep_lower,
                value: operand,
            } => {
                let wanted = if *keep_lower {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                if compare_bson(operand, value) == wanted {
                    Outcome::Replace(operand.clone())
                } else {
                    Outcome::NoOp
                }
            }
            Leaf::CurrentDate { timestamp } => Outcome::Replace(current_date(*timestamp, env.ctx)),
            Leaf::Push(spec) => match value {
                Bson::Array(items) => changed_if(spec.apply(items)),
                other => {
                    return Err(Status::new(
                        ErrorCode::BadValue,
                        format!(
                            "The field '{dotted}' must be an array but is of type {} in document {{{}}}",
                            type_name(other),
                            env.id
                        ),
                    ));
                }
            },
            Leaf::AddToSet(values) => match value {
                Bson::Array(items) => changed_if(array_ops::add_to_set(items, values)),
                other => {
                    return Err(Status::new(
                        ErrorCode::BadValue,
                        format!(
                            "Cannot apply $addToSet to non-array field. Field named '{field}' has non-array type {}",
                            type_name(other)
                        ),
                    ));
                }
            },
            Leaf::Pull(condition) => cull(value, |e| condition.matches(e))?,
            Leaf::PullAll(values) => cull(value, |e| values.iter().any(|v| bson_equal(e, v)))?,
            Leaf::Pop { front } => match value {
                Bson::Array(items) if items.is_empty() => Outcome::NoOp,
                Bson::Array(items) => {
                    if *front {
                        items.remove(0);
                    } else {
                        items.pop();
                    }
                    Outcome::Changed
                }
                other => {
                    return Err(Status::new(
                        ErrorCode::TypeMismatch,
                        format!(
                            "Path '{dotted}' contains an element of non-array type '{}'",
                            type_name(other)
                        ),
                    ));
                }
            },
            Leaf::RenameTarget(n) => match env.renamed.get(*n) {
                // mongod's SetElementNode never reports a rename as a no-op.
                Some(Some(moved)) => Outcome::Replace(moved.clone()),
                _ => Outcome::NoOp,
            },
        })
    }

    /// What the leaf does where its path is missing.
    pub(crate) fn apply_missing(&self, env: &LeafEnv<'_>) -> Missing {
        match self {
            Leaf::Set(v) => Missing::Create(v.clone()),
            Leaf::SetOnInsert(v) if env.ctx.is_upsert_insert => Missing::Create(v.clone()),
            Leaf::SetOnInsert(_) | Leaf::Unset | Leaf::RenameSource => Missing::Nothing,
            Leaf::Arith(ArithOp::Add, operand) => Missing::Create(operand.clone()),
            Leaf::Arith(ArithOp::Multiply, operand) => Missing::Create(arithmetic::zero_like(operand)),
            Leaf::Compare { value, .. } => Missing::Create(value.clone()),
            Leaf::CurrentDate { timestamp } => Missing::Create(current_date(*timestamp, env.ctx)),
            Leaf::Push(spec) => {
                let mut items = Vec::new();
                spec.apply(&mut items);
                Missing::Create(Bson::Array(items))
            }
            Leaf::AddToSet(values) => Missing::Create(Bson::Array(values.clone())),
            Leaf::Pull(_) | Leaf::PullAll(_) | Leaf::Pop { .. } => Missing::NothingIfViable,
            Leaf::RenameTarget(n) => match env.renamed.get(*n) {
                Some(Some(moved)) => Missing::Create(moved.clone()),
                _ => Missing::Nothing,
            },
        }
    }
}

fn replace_unless_identical(value: &Bson, new: &Bson) -> Outcome {
    if binary_equal(value, new) {
        Outcome::NoOp
    } else {
        Outcome::Replace(new.clone())
    }
}

fn changed_if(changed: bool) -> Outcome {
    if changed { Outcome::Changed } else { Outcome::NoOp }
}

/// Removes the array elements `remove` picks (`$pull`, `$pullAll`).
fn cull(value: &mut Bson, remove: impl Fn(&Bson) -> bool) -> StatusResult<Outcome> {
    let Bson::Array(items) = value else {
        return Err(Status::new(
            ErrorCode::BadValue,
            "Cannot apply $pull to a non-array value",
        ));
    };
    let before = items.len();
    items.retain(|e| !remove(e));
    Ok(changed_if(items.len() != before))
}

fn current_date(timestamp: bool, ctx: &ApplyContext) -> Bson {
    if timestamp {
        // mongod reserves a cluster-time tick; without a clock source here, the second of `now`
        // with increment 1 is the closest pure equivalent.
        let secs = ctx.now.timestamp_millis().div_euclid(1000);
        Bson::Timestamp(Timestamp {
            time: u32::try_from(secs).unwrap_or(0),
            increment: 1,
        })
    } else {
        Bson::DateTime(ctx.now)
    }
}

/// Parses `$currentDate`'s value: a boolean (a date), or `{$type: "date" | "timestamp"}`; returns
/// whether a timestamp is wanted.
fn parse_current_date(value: &Bson) -> StatusResult<bool> {
    match value {
        Bson::Boolean(_) => Ok(false),
        Bson::Document(options) => {
            let mut wanted = None;
            for (key, v) in options {
                if key != "$type" {
                    return Err(Status::new(
                        ErrorCode::BadValue,
                        format!("Unrecognized $currentDate option: {key}"),
                    ));
                }
                match v {
                    Bson::String(s) if s == "date" => wanted = Some(false),
                    Bson::String(s) if s == "timestamp" => wanted = Some(true),
                    _ => {}
                }
            }
            wanted.ok_or_else(|| {
                Status::new(
                    ErrorCode::BadValue,
                    "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
                )
            })
        }
        other => Err(Status::new(
            ErrorCode::BadValue,
            format!(
                "{} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({{$type: 'timestamp/date'}}).",
                type_name(other)
            ),
        )),
    }
}
