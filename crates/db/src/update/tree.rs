//! The update tree (mongod's UpdateObjectNode): the operators' paths merged into one tree, so that
//! conflicting paths are caught at parse time and each level is applied in mongod's sorted order
//! (which is why new fields are appended in lexicographic order of their names).

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::array_filters::ArrayFilters;
use super::format::element_string;
use super::leaf::{Leaf, LeafEnv, Missing, Outcome};
use super::path::{array_filter_identifier, array_index, compare_components};

/// mongod's limit on the nulls `$set` may add to reach an array index.
const MAX_PADDING: usize = 1_500_000;

/// A level of the tree: children sorted by [`compare_components`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    children: Vec<(String, Node)>,
}

/// A child: an inner level or an operator.
#[derive(Debug, Clone)]
enum Node {
    Inner(Tree),
    Leaf(Leaf),
}

impl Tree {
    /// Adds `leaf` at `path`; a path that is equal to, under or above another is a conflict.
    pub(crate) fn insert(&mut self, path: &[String], leaf: Leaf) -> StatusResult<()> {
        let dotted = path.join(".");
        let conflict = |at: &str| {
            Status::new(
                ErrorCode::ConflictingUpdateOperators,
                format!("Updating the path '{dotted}' would create a conflict at '{at}'"),
            )
        };
        let Some((last, parents)) = path.split_last() else {
            return Err(conflict(""));
        };
        let mut level = self;
        for (i, part) in parents.iter().enumerate() {
            let slot = level.slot(part);
            let node = match slot {
                Ok(found) => &mut level.children[found].1,
                Err(at) => {
                    level
                        .children
                        .insert(at, (part.clone(), Node::Inner(Tree::default())));
                    &mut level.children[at].1
                }
            };
            match node {
                Node::Inner(inner) => level = inner,
                Node::Leaf(_) => return Err(conflict(&path[..=i].join("."))),
            }
        }
        match level.slot(last) {
            Ok(_) => Err(conflict(&dotted)),
            Err(at) => {
                level.children.insert(at, (last.clone(), Node::Leaf(leaf)));
                Ok(())
            }
        }
    }

    fn slot(&self, name: &str) -> Result<usize, usize> {
        self.children
            .binary_search_by(|(child, _)| compare_components(child, name))
    }
}

/// A missing path that could not be created, remembered while a missing subtree is applied: the
/// first missing field and the element that blocks it.
#[derive(Clone)]
struct Blocked {
    field: String,
    element: String,
}

/// The state of one application of a tree to a document.
pub(crate) struct Walk<'a> {
    /// What the leaves need.
    pub(crate) leaf_env: LeafEnv<'a>,
    /// Whether the document had an `_id` before the update (then `_id` is immutable).
    pub(crate) has_id: bool,
    /// Whether anything changed.
    pub(crate) changed: bool,
    /// The array position the query matched through, which a `$` component stands for.
    pub(crate) position: Option<usize>,
    blocked: Option<Blocked>,
    array_filters: &'a ArrayFilters,
}

impl<'a> Walk<'a> {
    /// A walk with nothing changed yet.
    pub(crate) fn new(leaf_env: LeafEnv<'a>, has_id: bool, array_filters: &'a ArrayFilters) -> Walk<'a> {
        Walk {
            leaf_env,
            has_id,
            changed: false,
            position: None,
            blocked: None,
            array_filters,
        }
    }

    /// Records a change at `path`, refusing one to an existing `_id`.
    pub(crate) fn record_change(&mut self, path: &[String]) -> StatusResult<()> {
        if self.has_id && path.first().map(String::as_str) == Some("_id") {
            return Err(Status::new(
                ErrorCode::ImmutableField,
                format!(
                    "Performing an update on the path '{}' would modify the immutable field '_id'",
                    path.join(".")
                ),
            ));
        }
        self.changed = true;
        Ok(())
    }

    /// Applies `tree` to `container` (the value at `path`); `nearest_array` names the closest array
    /// at or above it, for `$rename`'s message.
    pub(crate) fn apply(
        &mut self,
        tree: &Tree,
        container: &mut Bson,
        path: &mut Vec<String>,
        nearest_array: Option<&str>,
    ) -> StatusResult<()> {
        let own_name = path.last().cloned().unwrap_or_default();
        let here_array = if matches!(container, Bson::Array(_)) {
            Some(own_name.as_str())
        } else {
            nearest_array
        };
        if tree.children.iter().any(|(name, _)| name == "$") {
            return self.apply_positional(tree, container, path, &own_name, here_array);
        }
        for (name, node) in &tree.children {
            self.apply_named(name, node, container, path, &own_name, here_array)?;
        }
        Ok(())
    }

    /// A level with a `$` child: `$` becomes the matched position and takes its place in the sorted
    /// order among its siblings, as mongod merges its positional child into the level.
    fn apply_positional(
        &mut self,
        tree: &Tree,
        container: &mut Bson,
        path: &mut Vec<String>,
        own_name: &str,
        nearest_array: Option<&str>,
    ) -> StatusResult<()> {
        let Some(position) = self.position else {
            return Err(Status::new(
                ErrorCode::BadValue,
                "The positional operator did not find the match needed from the query.",
            ));
        };
        let matched = position.to_string();
        if tree.children.iter().any(|(name, _)| *name == matched) {
            let mut at = path.clone();
            at.push(matched);
            return Err(Status::new(
                ErrorCode::ConflictingUpdateOperators,
                format!("Update created a conflict at '{}'", at.join(".")),
            ));
        }
        let mut order: Vec<(&str, &Node)> = tree
            .children
            .iter()
            .map(|(name, node)| {
                (
                    if name == "$" {
                        matched.as_str()
                    } else {
                        name.as_str()
                    },
                    node,
                )
            })
            .collect();
        order.sort_by(|a, b| compare_components(a.0, b.0));
        for (name, node) in order {
            self.apply_named(name, node, container, path, own_name, nearest_array)?;
        }
        Ok(())
    }

    /// Applies one child of a level: a named field or index, or every element `$[...]` selects.
    fn apply_named(
        &mut self,
        name: &str,
        node: &Node,
        container: &mut Bson,
        path: &mut Vec<String>,
        own_name: &str,
        nearest_array: Option<&str>,
    ) -> StatusResult<()> {
        if let Some(identifier) = array_filter_identifier(name) {
            return self.apply_each(identifier, node, container, path, own_name, nearest_array);
        }
        path.push(name.to_owned());
        let result = self.apply_child(name, node, container, path, own_name, nearest_array);
        path.pop();
        result
    }

    /// `$[]` / `$[<identifier>]`: applies `node` to every element of the array `container` (that
    /// passes the identifier's filter), as if each index had been named.
    fn apply_each(
        &mut self,
        identifier: &str,
        node: &Node,
        container: &mut Bson,
        path: &mut Vec<String>,
        own_name: &str,
        nearest_array: Option<&str>,
    ) -> StatusResult<()> {
        let Bson::Array(items) = &*container else {
            return Err(Status::new(
                ErrorCode::BadValue,
                format!(
                    "The path '{}' must exist in the document in order to apply array updates.",
                    path.join(".")
                ),
            ));
        };
        let selected: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, element)| self.array_filters.matches(identifier, element))
            .map(|(i, _)| i)
            .collect();
        for index in selected {
            let name = index.to_string();
            path.push(name.clone());
            let result = self.apply_child(&name, node, container, path, own_name, nearest_array);
            path.pop();
            result?;
        }
        Ok(())
    }

    fn apply_child(
        &mut self,
        name: &str,
        node: &Node,
        container: &mut Bson,
        path: &mut Vec<String>,
        own_name: &str,
        nearest_array: Option<&str>,
    ) -> StatusResult<()> {
        let exists = match &*container {
            Bson::Document(d) => d.contains_key(name),
            Bson::Array(items) => array_index(name).is_some_and(|i| i < items.len()),
            _ => false,
        };
        if !exists {
            return self.apply_missing(name, node, container, path, own_name, nearest_array);
        }
        let leaf = match node {
            Node::Inner(inner) => {
                return match child_mut(container, name) {
                    Some(value) => self.apply(inner, value, path, nearest_array),
                    None => Ok(()),
                };
            }
            Node::Leaf(leaf) => leaf,
        };
        check_rename_destination(leaf, path, nearest_array, &self.leaf_env)?;
        let dotted = path.join(".");
        let Some(value) = child_mut(container, name) else {
            return Ok(());
        };
        match leaf.apply_existing(value, &dotted, name, &self.leaf_env)? {
            Outcome::NoOp => return Ok(()),
            Outcome::Changed => {}
            Outcome::Replace(new) => *value = new,
            Outcome::Remove => {
                if let Bson::Document(d) = container {
                    d.remove(name);
                } else if let Some(slot) = child_mut(container, name) {
                    // Removing from an array would shift the others; mongod leaves a null.
                    *slot = Bson::Null;
                }
            }
        }
        self.record_change(path)
    }

    fn apply_missing(
        &mut self,
        name: &str,
        node: &Node,
        container: &mut Bson,
        path: &mut Vec<String>,
        own_name: &str,
        nearest_array: Option<&str>,
    ) -> StatusResult<()> {
        let viable = match container {
            Bson::Document(_) => true,
            Bson::Array(_) => array_index(name).is_some(),
            _ => false,
        };
        let blocked = match (&self.blocked, viable) {
            (Some(b), _) => Some(b.clone()),
            (None, true) => None,
            (None, false) => Some(Blocked {
                field: name.to_owned(),
                element: element_string(own_name, container),
            }),
        };
        let created = match node {
            Node::Leaf(leaf) => {
                check_rename_destination(leaf, path, nearest_array, &self.leaf_env)?;
                match leaf.apply_missing(&self.leaf_env) {
                    Missing::Nothing => None,
                    Missing::NothingIfViable => match blocked {
                        Some(b) => {
                            return Err(Status::new(
                                ErrorCode::PathNotViable,
                                format!(
                                    "Cannot use the part ({}) of ({}) to traverse the element ({{{}}})",
                                    b.field,
                                    path.join("."),
                                    b.element
                                ),
                            ));
                        }
                        None => None,
                    },
                    Missing::Create(v) => Some(v),
                }
            }
            Node::Inner(inner) => {
                // Below a missing field nothing exists: apply the subtree to an empty document and
                // attach it only if something was created there.
                let saved = std::mem::replace(&mut self.blocked, blocked.clone());
                let mut fresh = Bson::Document(Document::new());
                let result = self.apply(inner, &mut fresh, path, nearest_array);
                self.blocked = saved;
                result?;
                match fresh {
                    Bson::Document(d) if !d.is_empty() => Some(Bson::Document(d)),
                    _ => None,
                }
            }
        };
        let Some(value) = created else {
            return Ok(());
        };
        if let Some(b) = blocked {
            return Err(Status::new(
                ErrorCode::PathNotViable,
                format!("Cannot create field '{}' in element {{{}}}", b.field, b.element),
            ));
        }
        match container {
            Bson::Document(d) => {
                d.insert(name, value);
            }
            Bson::Array(items) => {
                let index = array_index(name).unwrap_or(items.len());
                if index.saturating_sub(items.len()) > MAX_PADDING {
                    return Err(Status::new(
                        ErrorCode::CannotBackfillArray,
                        format!("can't backfill more than {MAX_PADDING} elements"),
                    ));
                }
                items.resize(index, Bson::Null);
                items.push(value);
            }
            _ => {}
        }
        self.record_change(path)
    }
}

/// `$rename` may not write into an array (checked only when the source exists, as mongod does).
fn check_rename_destination(
    leaf: &Leaf,
    path: &[String],
    nearest_array: Option<&str>,
    env: &LeafEnv<'_>,
) -> StatusResult<()> {
    let Leaf::RenameTarget(n) = leaf else {
        return Ok(());
    };
    if !matches!(env.renamed.get(*n), Some(Some(_))) {
        return Ok(());
    }
    match nearest_array {
        Some(array) => Err(Status::new(
            ErrorCode::BadValue,
            format!(
                "The destination field cannot be an array element, '{}' in doc with {} has an array field called '{array}'",
                path.join("."),
                env.id
            ),
        )),
        None => Ok(()),
    }
}

/// The existing child `name` of a document or array.
fn child_mut<'v>(container: &'v mut Bson, name: &str) -> Option<&'v mut Bson> {
    match container {
        Bson::Document(d) => d.get_mut(name),
        Bson::Array(items) => array_index(name).and_then(|i| items.get_mut(i)),
        _ => None,
    }
}
