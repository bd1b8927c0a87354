//! Pipeline-style updates (`u: [{$set: ...}, {$unset: ...}]`): the aggregation stages that map one
//! document to one, run on the matched document, whose result then replaces it as mongod's
//! `PipelineExecutor` does (through the replacement rules: the original `_id` kept when the result
//! has none, a changed `_id` is ImmutableField).

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::{NoCollections, Pipeline};

/// Parses an update pipeline: every element a document (TypeMismatch 14), the stages valid for an
/// aggregation, and each one allowed in an update (InvalidOptions 72 otherwise).
pub(super) fn parse_update_pipeline(stages: &[Bson]) -> StatusResult<Pipeline> {
    let docs = stages
        .iter()
        .map(|stage| match stage {
            Bson::Document(d) => Ok(d.clone()),
            _ => Err(Status::new(
                ErrorCode::TypeMismatch,
                "Each element of the 'pipeline' array must be an object",
            )),
        })
        .collect::<StatusResult<Vec<_>>>()?;
    let pipeline = Pipeline::parse(&docs)?;
    if let Some(name) = pipeline.stage_not_allowed_in_update() {
        return Err(Status::new(
            ErrorCode::InvalidOptions,
            format!("{name} is not allowed to be used within an update"),
        ));
    }
    Ok(pipeline)
}

/// Runs `pipeline` on `doc`: the document that replaces it (see `spec::replace` for `_id`).
pub(super) fn run_pipeline(doc: &Document, pipeline: &Pipeline) -> StatusResult<Document> {
    // One document in, one out: the allowed stages neither drop nor add documents, so a run is
    // short enough that it needs no interrupt check of its own.
    let mut no_check = || Ok(());
    let mut out = pipeline.run(vec![doc.clone()], &NoCollections, &mut no_check)?;
    Ok(out.pop().unwrap_or_default())
}
