//! `$group`: documents bucketed by the `_id` expression (mongod's equality, so `1` and `1.0` share
//! a group; missing is null), each output field folded by an accumulator. Groups come out in
//! first-seen order (mongod leaves the order unspecified).

mod accumulator;
mod key;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::expression::{Expression, Vars};
pub use accumulator::Kind;
use accumulator::State;
use key::ValueSet;

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// A parsed `$group`.
#[derive(Clone, Debug)]
pub struct Group {
    id: Expression,
    fields: Vec<(String, Kind, Expression)>,
}

impl Group {
    /// Parses the stage with mongod's errors (15947, 15955, 40234-40238, 15952).
    pub fn parse(spec: &Bson) -> StatusResult<Group> {
        let Bson::Document(spec) = spec else {
            return Err(err(
                15947,
                "a group's fields must be specified in an object".into(),
            ));
        };
        let mut id = None;
        let mut fields = Vec::new();
        for (name, value) in spec {
            if name == "_id" {
                id = Some(Expression::parse(value)?);
                continue;
            }
            if name.contains('.') {
                return Err(err(40235, format!("The field name '{name}' cannot contain '.'")));
            }
            if name.starts_with('$') {
                return Err(err(
                    40236,
                    format!("The field name '{name}' cannot be an operator name"),
                ));
            }
            let Bson::Document(acc) = value else {
                return Err(err(
                    40234,
                    format!("The field '{name}' must be an accumulator object"),
                ));
            };
            let mut ops = acc.iter();
            let (Some((op, arg)), None) = (ops.next(), ops.next()) else {
                return Err(err(
                    40238,
                    format!("The field '{name}' must specify one accumulator"),
                ));
            };
            let (kind, expr) = accumulator::parse(op, arg)?;
            fields.push((name.clone(), kind, expr));
        }
        let id = id.ok_or_else(|| err(15955, "a group specification must include an _id".into()))?;
        Ok(Group { id, fields })
    }

    /// `{_id: <id>, <field>: {$sum: 1}}`, as `$count` and `$sortByCount` expand.
    pub fn counting(id: Expression, field: &str) -> Group {
        Group {
            id,
            fields: vec![(field.to_owned(), Kind::Sum, Expression::Literal(Bson::Int32(1)))],
        }
    }
}

/// The groups being accumulated.
#[derive(Debug, Default)]
pub struct GroupTable {
    keys: ValueSet,
    states: Vec<Vec<State>>,
}

impl GroupTable {
    /// Adds the document `vars` evaluates against.
    pub fn add(&mut self, group: &Group, vars: &Vars<'_>) -> StatusResult<()> {
        let key = group.id.evaluate(vars)?.unwrap_or(Bson::Null);
        let (i, new) = self.keys.insert(key);
        if new {
            self.states.push(
                group
                    .fields
                    .iter()
                    .map(|(_, kind, _)| State::new(*kind))
                    .collect(),
            );
        }
        for (j, (_, _, expr)) in group.fields.iter().enumerate() {
            let value = expr.evaluate(vars)?;
            if let Some(state) = self.states.get_mut(i).and_then(|s| s.get_mut(j)) {
                state.accumulate(value);
            }
        }
        Ok(())
    }

    /// One document per group: `_id` then the accumulated fields.
    pub fn finish(self, group: &Group) -> Vec<Document> {
        self.keys
            .into_values()
            .into_iter()
            .zip(self.states)
            .map(|(key, states)| {
                let mut doc = Document::new();
                doc.insert("_id", key);
                for ((name, _, _), state) in group.fields.iter().zip(states) {
                    doc.insert(name.clone(), state.finish());
                }
                doc
            })
            .collect()
    }
}
