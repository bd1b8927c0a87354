//! Running stages: documents are pushed through the stages one at a time; `$sort` and `$group`
//! hold theirs until the input ends, then flush downstream. A satisfied `$limit` stops the input
//! early. `check` runs every [`CHECK_INTERVAL`] documents so the caller can interrupt.

use bson::{Bson, Document};
use docwire_rpc::StatusResult;

use super::CollectionSource;
use super::expression::path::set_nested_field;
use super::expression::{Frame, Vars};
use super::stage::{Stage, StageEntry};
use super::stages::group::GroupTable;

/// How many documents pass between calls to the interrupt check.
pub const CHECK_INTERVAL: u32 = 1000;

/// What a run reaches outside itself: other collections and the interrupt check.
pub struct Env<'a> {
    source: &'a dyn CollectionSource,
    check: &'a mut dyn FnMut() -> StatusResult<()>,
    ticks: u32,
}

impl<'a> Env<'a> {
    /// An environment over `source` calling `check` periodically.
    pub fn new(source: &'a dyn CollectionSource, check: &'a mut dyn FnMut() -> StatusResult<()>) -> Env<'a> {
        Env {
            source,
            check,
            ticks: 0,
        }
    }

    /// Counts one document of work, calling the check every [`CHECK_INTERVAL`].
    fn tick(&mut self) -> StatusResult<()> {
        self.ticks += 1;
        if self.ticks >= CHECK_INTERVAL {
            self.ticks = 0;
            (self.check)()?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    More,
    /// Downstream wants nothing more (a `$limit` was reached).
    Done,
}

/// Per-stage state for one run.
enum State {
    None,
    Counter(u64),
    Sort(Vec<(Vec<Bson>, Document)>),
    Group(GroupTable),
    Foreign(Option<Vec<Document>>),
}

struct Runner<'r, 'e> {
    stages: &'r [StageEntry],
    states: Vec<State>,
    env: &'r mut Env<'e>,
    frame: Option<&'r Frame<'r>>,
    out: Vec<Document>,
}

/// Runs `stages` over `input` with `frame`'s variables in scope.
pub fn run<I>(
    stages: &[StageEntry],
    input: I,
    env: &mut Env<'_>,
    frame: Option<&Frame<'_>>,
) -> StatusResult<Vec<Document>>
where
    I: IntoIterator<Item = StatusResult<Document>>,
{
    let states = stages
        .iter()
        .map(|e| match &e.stage {
            Stage::Skip(_) | Stage::Limit(_) => State::Counter(0),
            Stage::Sort(_) => State::Sort(Vec::new()),
            Stage::Group(_) => State::Group(GroupTable::default()),
            Stage::Lookup(_) => State::Foreign(None),
            _ => State::None,
        })
        .collect();
    let mut runner = Runner {
        stages,
        states,
        env,
        frame,
        out: Vec::new(),
    };
    for doc in input {
        runner.env.tick()?;
        if runner.push(0, doc?)? == Flow::Done {
            break;
        }
    }
    runner.finish(0)?;
    Ok(runner.out)
}

impl Runner<'_, '_> {
    fn push(&mut self, i: usize, doc: Document) -> StatusResult<Flow> {
        let stages = self.stages;
        let Some(entry) = stages.get(i) else {
            self.out.push(doc);
            return Ok(Flow::More);
        };
        let vars = Vars::new(&doc, self.frame);
        match &entry.stage {
            Stage::Match(m) => {
                if m.matches(&vars)? {
                    self.push(i + 1, doc)
                } else {
                    Ok(Flow::More)
                }
            }
            Stage::Shape(shape) => {
                let shaped = shape.apply(&vars)?;
                self.push(i + 1, shaped)
            }
            Stage::ReplaceRoot(r) => {
                let replaced = r.apply(&vars)?;
                self.push(i + 1, replaced)
            }
            Stage::Skip(n) => {
                if let Some(State::Counter(skipped)) = self.states.get_mut(i)
                    && *skipped < *n
                {
                    *skipped += 1;
                    return Ok(Flow::More);
                }
                self.push(i + 1, doc)
            }
            Stage::Limit(n) => {
                let Some(State::Counter(passed)) = self.states.get_mut(i) else {
                    return Ok(Flow::Done);
                };
                if *passed >= *n {
                    return Ok(Flow::Done);
                }
                *passed += 1;
                let reached = *passed >= *n;
                let flow = self.push(i + 1, doc)?;
                Ok(if reached { Flow::Done } else { flow })
            }
            Stage::Unwind(u) => {
                for unwound in u.apply(doc) {
                    self.env.tick()?;
                    if self.push(i + 1, unwound)? == Flow::Done {
                        return Ok(Flow::Done);
                    }
                }
                Ok(Flow::More)
            }
            Stage::Sort(spec) => {
                let key = spec.key(&doc);
                // A $sort followed by $limit n only ever needs its best n documents.
                let keep = match stages.get(i + 1).map(|e| &e.stage) {
                    Some(Stage::Limit(n)) => usize::try_from(*n).ok(),
                    _ => None,
                };
                if let Some(State::Sort(buffer)) = self.states.get_mut(i) {
                    buffer.push((key, doc));
                    if let Some(keep) = keep.filter(|k| buffer.len() >= k.saturating_mul(2).max(64)) {
                        buffer.sort_by(|a, b| spec.compare_keys(&a.0, &b.0));
                        buffer.truncate(keep);
                    }
                }
                Ok(Flow::More)
            }
            Stage::Group(group) => {
                if let Some(State::Group(table)) = self.states.get_mut(i) {
                    table.add(group, &vars)?;
                }
                Ok(Flow::More)
            }
            Stage::Lookup(lookup) => {
                if let Some(State::Foreign(cache @ None)) = self.states.get_mut(i) {
                    *cache = Some(self.env.source.documents(lookup.from())?);
                }
                let matched = match self.states.get(i) {
                    Some(State::Foreign(Some(foreign))) => lookup.matching(&doc, foreign)?,
                    _ => Vec::new(),
                };
                let results = match lookup.pipeline() {
                    Some(sub) => {
                        let values = lookup.let_values(&vars)?;
                        let frame = Frame::new(&values, self.frame);
                        run(sub.entries(), matched.into_iter().map(Ok), self.env, Some(&frame))?
                    }
                    None => matched,
                };
                let mut doc = doc;
                let results = results.into_iter().map(Bson::Document).collect();
                set_nested_field(&mut doc, lookup.as_path(), Some(Bson::Array(results)));
                self.push(i + 1, doc)
            }
        }
    }

    /// Ends the input at stage `i`: blocking stages flush, then the next stage ends.
    fn finish(&mut self, i: usize) -> StatusResult<()> {
        let stages = self.stages;
        let Some(entry) = stages.get(i) else {
            return Ok(());
        };
        let flushed = match (&entry.stage, self.states.get_mut(i)) {
            (Stage::Sort(spec), Some(State::Sort(buffer))) => {
                let mut buffer = std::mem::take(buffer);
                buffer.sort_by(|a, b| spec.compare_keys(&a.0, &b.0));
                buffer.into_iter().map(|(_, d)| d).collect()
            }
            (Stage::Group(group), Some(State::Group(table))) => std::mem::take(table).finish(group),
            _ => Vec::new(),
        };
        for doc in flushed {
            self.env.tick()?;
            if self.push(i + 1, doc)? == Flow::Done {
                break;
            }
        }
        self.finish(i + 1)
    }
}
