//! Object operators: `$mergeObjects` (later fields win; null and missing are skipped).

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::value::{nullish, type_name};

/// `$mergeObjects`: one document of every argument's fields, or of a single array argument's
/// documents.
pub fn merge_objects(args: Vec<Option<Bson>>) -> StatusResult<Option<Bson>> {
    let mut out = Document::new();
    for arg in args {
        if nullish(arg.as_ref()) {
            continue;
        }
        match arg {
            Some(Bson::Document(d)) => out.extend(d),
            other => {
                return Err(Status::new(
                    ErrorCode::Location(40400),
                    format!(
                        "$mergeObjects requires object inputs, but input {} is of type {}",
                        other.as_ref().map_or("missing".to_owned(), ToString::to_string),
                        type_name(other.as_ref())
                    ),
                ));
            }
        }
    }
    Ok(Some(Bson::Document(out)))
}
