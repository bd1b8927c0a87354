//! The update language: replacement documents and the update operators ($set $unset $inc $mul $min
//! $max $rename $push $pull $pullAll $addToSet $pop $currentDate $setOnInsert), on paths that may
//! use `$` (the array element the query matched), `$[]` and `$[<identifier>]` (with the command's
//! `arrayFilters`), applied to documents with mongod's rules, field order and error codes;
//! pipeline-style updates (`$set`/`$unset`/`$project`/`$replaceWith`... stages); and the document an
//! upsert starts from.

mod arithmetic;
mod array_filters;
mod array_ops;
mod equality;
mod format;
mod leaf;
mod path;
mod pipeline_update;
mod pull;
mod rename;
mod spec;
mod tree;
mod upsert;
mod validate;

pub use spec::{ApplyContext, UpdateSpec};
pub use upsert::upsert_seed;
pub use validate::{check_document_size, validate_for_storage};
