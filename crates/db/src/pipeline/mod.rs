//! The aggregation pipeline: [`Pipeline::parse`] checks the stages with mongod's error codes,
//! [`Pipeline::run`] executes them over the documents the caller scans (`$lookup` reads other
//! collections through a [`CollectionSource`]), calling an interrupt check as it goes so
//! maxTimeMS and killOp can stop it.
//!
//! Stages: `$match` (with top-level `$expr`), `$project`, `$addFields`/`$set`, `$unset`, `$sort`,
//! `$skip`, `$limit`, `$count`, `$unwind`, `$group`, `$lookup` (equality and pipeline forms),
//! `$replaceRoot`/`$replaceWith`, `$sortByCount`. Expressions live in [`expression`].

mod exec;
pub mod expression;
mod stage;
pub mod stages;

use std::collections::HashMap;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

pub use exec::CHECK_INTERVAL;
use stage::{Stage, StageEntry};

/// Where `$lookup` reads the other collections of the database from.
pub trait CollectionSource {
    /// Every document of `collection` (empty when it does not exist).
    fn documents(&self, collection: &str) -> StatusResult<Vec<Document>>;
}

/// A source with no collections, for pipelines without `$lookup`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCollections;

impl CollectionSource for NoCollections {
    fn documents(&self, _collection: &str) -> StatusResult<Vec<Document>> {
        Ok(Vec::new())
    }
}

impl CollectionSource for HashMap<String, Vec<Document>> {
    fn documents(&self, collection: &str) -> StatusResult<Vec<Document>> {
        Ok(self.get(collection).cloned().unwrap_or_default())
    }
}

/// A parsed pipeline.
#[derive(Clone, Debug)]
pub struct Pipeline {
    entries: Vec<StageEntry>,
    count_field: Option<String>,
}

impl Pipeline {
    /// Parses the `pipeline` array of an aggregate command.
    pub fn parse(stages: &[Document]) -> StatusResult<Pipeline> {
        let mut entries = Vec::with_capacity(stages.len());
        for spec in stages {
            entries.extend(stage::parse_stage(spec)?);
        }
        Ok(Pipeline {
            count_field: count_only_field(stages),
            entries,
        })
    }

    /// Parses a pipeline given as BSON values (each must be a document: FailedToParse otherwise, as
    /// mongod says for `$lookup`'s `pipeline`).
    pub fn parse_array(stages: &[Bson]) -> StatusResult<Pipeline> {
        let docs = stages
            .iter()
            .map(|s| match s {
                Bson::Document(d) => Ok(d.clone()),
                _ => Err(Status::new(
                    ErrorCode::FailedToParse,
                    "Each element of the 'pipeline' array must be an object",
                )),
            })
            .collect::<StatusResult<Vec<_>>>()?;
        Pipeline::parse(&docs)
    }

    /// Runs the pipeline over `input`; `check` is called every [`CHECK_INTERVAL`] documents and its
    /// error (MaxTimeMSExpired, Interrupted...) ends the run.
    pub fn run(
        &self,
        input: Vec<Document>,
        source: &dyn CollectionSource,
        check: &mut dyn FnMut() -> StatusResult<()>,
    ) -> StatusResult<Vec<Document>> {
        self.run_iter(input.into_iter().map(Ok), source, check)
    }

    /// Like [`Pipeline::run`] over a fallible stream (a storage scan); a satisfied `$limit` stops
    /// reading it early.
    pub fn run_iter<I>(
        &self,
        input: I,
        source: &dyn CollectionSource,
        check: &mut dyn FnMut() -> StatusResult<()>,
    ) -> StatusResult<Vec<Document>>
    where
        I: IntoIterator<Item = StatusResult<Document>>,
    {
        let mut env = exec::Env::new(source, check);
        exec::run(&self.entries, input, &mut env, None)
    }

    /// The first stage's filter when it is a `$match` (without its `$expr` conditions), so the
    /// caller can pick an index and pre-filter; the pipeline still applies the whole `$match`.
    pub fn leading_match(&self) -> Option<&Document> {
        match self.entries.first().map(|e| &e.stage) {
            Some(Stage::Match(m)) => Some(m.query()),
            _ => None,
        }
    }

    /// Whether the pipeline is `[{$match}?, {$count: name}]`: the caller may count the documents
    /// matching [`Pipeline::leading_match`] and answer `[{name: n}]` (none when n is 0).
    pub fn is_count_only(&self) -> bool {
        self.count_field.is_some()
    }

    /// The `$count` output field when [`Pipeline::is_count_only`].
    pub fn count_field(&self) -> Option<&str> {
        self.count_field.as_deref()
    }

    /// The stages as explain shows them: `{stages: [{$match: ...}, ...]}` (`$count` and
    /// `$sortByCount` appear expanded, as in mongod).
    pub fn explain(&self) -> Document {
        let stages: Vec<Bson> = self
            .entries
            .iter()
            .map(|e| Bson::Document(e.explain.clone()))
            .collect();
        let mut out = Document::new();
        out.insert("stages", stages);
        out
    }

    /// How many executable stages there are (after expansion).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no stages (documents pass unchanged).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn entries(&self) -> &[StageEntry] {
        &self.entries
    }

    /// The name of the first stage an update pipeline may not hold (only `$addFields`/`$set`,
    /// `$project`/`$unset` and `$replaceRoot`/`$replaceWith` map one document to one); `$count`
    /// and `$sortByCount` name the `$group` they expand to, as mongod does.
    pub fn stage_not_allowed_in_update(&self) -> Option<String> {
        self.entries.iter().find_map(|e| match e.stage {
            Stage::Shape(_) | Stage::ReplaceRoot(_) => None,
            _ => Some(e.explain.keys().next().cloned().unwrap_or_default()),
        })
    }
}

/// `name` when the pipeline is `$count` after at most one `$match` without `$expr`.
fn count_only_field(stages: &[Document]) -> Option<String> {
    let (last, rest) = stages.split_last()?;
    let name = last.get_str("$count").ok()?;
    match rest {
        [] => Some(name.to_owned()),
        [first] => {
            let filter = first.get_document("$match").ok()?;
            (!filter.contains_key("$expr")).then(|| name.to_owned())
        }
        _ => None,
    }
}
