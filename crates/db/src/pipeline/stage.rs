//! Stage parsing: one `{$name: spec}` document into one or more executable stages (`$count` and
//! `$sortByCount` expand as in mongod), each with the document `explain` shows for it.

use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::expression::Expression;
use super::stages::counting::{parse_count, parse_sort_by_count};
use super::stages::group::Group;
use super::stages::limits::{parse_limit, parse_skip};
use super::stages::lookup::Lookup;
use super::stages::match_stage::MatchStage;
use super::stages::replace_root::ReplaceRoot;
use super::stages::shape::Shape;
use super::stages::unwind::Unwind;
use crate::query::sort::SortSpec;

/// An executable stage.
#[derive(Clone, Debug)]
pub enum Stage {
    /// `$match`.
    Match(MatchStage),
    /// `$project`, `$addFields`/`$set`, `$unset`.
    Shape(Shape),
    /// `$sort`.
    Sort(SortSpec),
    /// `$skip`.
    Skip(u64),
    /// `$limit`.
    Limit(u64),
    /// `$unwind`.
    Unwind(Unwind),
    /// `$group`.
    Group(Group),
    /// `$lookup`.
    Lookup(Box<Lookup>),
    /// `$replaceRoot` / `$replaceWith`.
    ReplaceRoot(ReplaceRoot),
}

/// A stage and its explain form.
#[derive(Clone, Debug)]
pub struct StageEntry {
    /// What runs.
    pub stage: Stage,
    /// What explain shows.
    pub explain: Document,
}

fn entry(stage: Stage, name: &str, spec: &Bson) -> StageEntry {
    StageEntry {
        stage,
        explain: doc! { name: spec.clone() },
    }
}

/// Parses one stage document (40323 unless it has exactly one field, 40324 for unknown names).
pub fn parse_stage(spec: &Document) -> StatusResult<Vec<StageEntry>> {
    let mut fields = spec.iter();
    let (Some((name, value)), None) = (fields.next(), fields.next()) else {
        return Err(Status::new(
            ErrorCode::Location(40323),
            "A pipeline stage specification object must contain exactly one field.",
        ));
    };
    let name = name.as_str();
    let one = |stage: Stage| Ok(vec![entry(stage, name, value)]);
    match name {
        "$match" => one(Stage::Match(MatchStage::parse(value)?)),
        "$project" => one(Stage::Shape(Shape::parse_project(value)?)),
        "$addFields" | "$set" => one(Stage::Shape(Shape::parse_add_fields(value, name)?)),
        "$unset" => one(Stage::Shape(Shape::parse_unset(value)?)),
        "$sort" => {
            let Bson::Document(keys) = value else {
                return Err(Status::new(
                    ErrorCode::Location(15973),
                    "the $sort key specification must be an object",
                ));
            };
            one(Stage::Sort(SortSpec::parse(keys)?))
        }
        "$skip" => one(Stage::Skip(parse_skip(value)?)),
        "$limit" => one(Stage::Limit(parse_limit(value)?)),
        "$unwind" => one(Stage::Unwind(Unwind::parse(value)?)),
        "$group" => one(Stage::Group(Group::parse(value)?)),
        "$lookup" => one(Stage::Lookup(Box::new(Lookup::parse(value)?))),
        "$replaceRoot" => one(Stage::ReplaceRoot(ReplaceRoot::parse_replace_root(value)?)),
        "$replaceWith" => one(Stage::ReplaceRoot(ReplaceRoot::parse_replace_with(value)?)),
        "$count" => {
            let field = parse_count(value)?;
            let project = doc! { "_id": false };
            Ok(vec![
                StageEntry {
                    stage: Stage::Group(Group::counting(Expression::Literal(Bson::Null), &field)),
                    explain: doc! { "$group": { "_id": Bson::Null, field.as_str(): { "$sum": 1 } } },
                },
                StageEntry {
                    stage: Stage::Shape(Shape::parse_project(&Bson::Document(project.clone()))?),
                    explain: doc! { "$project": project },
                },
            ])
        }
        "$sortByCount" => {
            let id = parse_sort_by_count(value)?;
            let sort = doc! { "count": -1 };
            Ok(vec![
                StageEntry {
                    stage: Stage::Group(Group::counting(id, "count")),
                    explain: doc! { "$group": { "_id": value.clone(), "count": { "$sum": 1 } } },
                },
                StageEntry {
                    stage: Stage::Sort(SortSpec::parse(&sort)?),
                    explain: doc! { "$sort": sort },
                },
            ])
        }
        _ => Err(Status::new(
            ErrorCode::Location(40324),
            format!("Unrecognized pipeline stage name: '{name}'"),
        )),
    }
}
