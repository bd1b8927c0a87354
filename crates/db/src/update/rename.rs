//! `$rename`'s first half: taking the source value out of the document before the tree is applied.
//! (The tree then writes it at the target, as mongod's RenameNode does with a $set and an $unset; the
//! conflict placeholder at the source guarantees no other operator sees the difference in timing.)

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::format::element_string;
use super::path::array_index;

/// Removes and returns the value at `from`, or `None` if there is none. A source inside an array is
/// BadValue; a path through a scalar is PathNotViable.
pub(crate) fn take_source(root: &mut Bson, from: &[String], id: &str) -> StatusResult<Option<Bson>> {
    let dotted = from.join(".");
    let Some((last, parents)) = from.split_last() else {
        return Ok(None);
    };
    let mut current = root;
    let mut current_name = String::new();
    let mut through_array: Option<String> = None;
    for part in parents {
        if matches!(current, Bson::Array(_)) {
            through_array = Some(current_name.clone());
        }
        let traversable = match &*current {
            Bson::Document(_) => true,
            Bson::Array(_) => array_index(part).is_some(),
            _ => false,
        };
        if !traversable {
            return Err(not_viable(part, &dotted, &current_name, current));
        }
        let next = match current {
            Bson::Document(d) => d.get_mut(part),
            Bson::Array(items) => array_index(part).and_then(|index| items.get_mut(index)),
            _ => None,
        };
        let Some(next) = next else {
            return Ok(None);
        };
        current = next;
        current_name = part.clone();
    }
    if matches!(current, Bson::Array(_)) {
        through_array = Some(current_name.clone());
    }
    let exists = match &*current {
        Bson::Document(d) => d.contains_key(last),
        Bson::Array(items) => array_index(last).is_some_and(|i| i < items.len()),
        _ => return Err(not_viable(last, &dotted, &current_name, current)),
    };
    if !exists {
        return Ok(None);
    }
    if let Some(array) = through_array {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!(
                "The source field cannot be an array element, '{dotted}' in doc with {id} has an array field called '{array}'"
            ),
        ));
    }
    match current {
        Bson::Document(d) => Ok(d.remove(last)),
        _ => Ok(None),
    }
}

fn not_viable(part: &str, dotted: &str, name: &str, element: &Bson) -> Status {
    Status::new(
        ErrorCode::PathNotViable,
        format!(
            "cannot use the part ({part} of {dotted}) to traverse the element ({{{}}})",
            element_string(name, element)
        ),
    )
}
