//! `UpdateSpec`: a parsed update (a replacement document or operators), and applying it to a
//! document with mongod's rules.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::array_filters::ArrayFilters;
use super::equality::documents_binary_equal;
use super::format::{document_string, element_string, id_string, type_name};
use super::leaf::{Leaf, LeafEnv};
use super::path::{array_filter_identifier, is_dynamic, is_prefix, parse_update_path};
use super::pipeline_update::{parse_update_pipeline, run_pipeline};
use super::rename::take_source;
use super::tree::{Tree, Walk};
use super::validate::{check_top_level_names, validate_for_storage};
use crate::pipeline::Pipeline;
use crate::query::compare::bson_equal;

/// The operators mongod's modifier table knows (`$bit` is recognised but not implemented here).
const OPERATORS: &[&str] = &[
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$min",
    "$max",
    "$rename",
    "$push",
    "$pull",
    "$pullAll",
    "$addToSet",
    "$pop",
    "$currentDate",
    "$setOnInsert",
];

/// What an update needs from its caller besides the document.
#[derive(Debug, Clone, Copy)]
pub struct ApplyContext {
    /// Whether this is the insert of an upsert (only then does `$setOnInsert` act).
    pub is_upsert_insert: bool,
    /// The time `$currentDate` writes.
    pub now: bson::DateTime,
}

/// A parsed update: a replacement document, a set of operators, or an aggregation pipeline.
#[derive(Debug, Clone)]
pub struct UpdateSpec {
    kind: Kind,
    array_filters: ArrayFilters,
    /// Whether some path has a `$` component.
    positional: bool,
}

#[derive(Debug, Clone)]
enum Kind {
    Replacement(Document),
    Operators {
        tree: Tree,
        /// `$rename` sources, by rename number (the targets are leaves in the tree).
        rename_sources: Vec<Vec<String>>,
    },
    /// `$addFields`/`$set`, `$project`/`$unset`, `$replaceRoot`/`$replaceWith` stages.
    Pipeline(Pipeline),
}

impl UpdateSpec {
    /// Parses an update document as mongod does: a first field starting with `$` makes it an
    /// operator update, anything else a replacement.
    pub fn parse(update: &Document) -> StatusResult<UpdateSpec> {
        UpdateSpec::parse_with_array_filters(update, &[])
    }

    /// Parses a command's update value: a document (see [`UpdateSpec::parse_with_array_filters`]) or
    /// an array of pipeline stages (see [`UpdateSpec::parse_pipeline`]); anything else is
    /// FailedToParse with mongod's message.
    pub fn parse_modification(update: &Bson, array_filters: &[Document]) -> StatusResult<UpdateSpec> {
        match update {
            Bson::Document(d) => UpdateSpec::parse_with_array_filters(d, array_filters),
            Bson::Array(stages) => UpdateSpec::parse_pipeline(stages, array_filters),
            _ => Err(Status::new(
                ErrorCode::FailedToParse,
                "Update argument must be either an object or an array",
            )),
        }
    }

    /// Parses a pipeline-style update; `arrayFilters` are not allowed with one (FailedToParse, with
    /// mongod's spelling), and only one-document-in, one-out stages are (InvalidOptions 72).
    pub fn parse_pipeline(stages: &[Bson], array_filters: &[Document]) -> StatusResult<UpdateSpec> {
        if !array_filters.is_empty() {
            return Err(Status::new(
                ErrorCode::FailedToParse,
                "arrayFilters may not be specified for pipeline-syle updates",
            ));
        }
        Ok(UpdateSpec {
            kind: Kind::Pipeline(parse_update_pipeline(stages)?),
            array_filters: ArrayFilters::default(),
            positional: false,
        })
    }

    /// Parses an update with the command's `arrayFilters`, one per `$[<identifier>]` the paths use.
    pub fn parse_with_array_filters(
        update: &Document,
        array_filters: &[Document],
    ) -> StatusResult<UpdateSpec> {
        let filters = ArrayFilters::parse(array_filters)?;
        let identifiers = filters.identifiers();
        let is_operators = update.keys().next().is_some_and(|k| k.starts_with('$'));
        if !is_operators {
            check_top_level_names(update, "")?;
            if let Some(unused) = identifiers.first() {
                return Err(unused_filter(unused, update));
            }
            return Ok(UpdateSpec {
                kind: Kind::Replacement(update.clone()),
                array_filters: filters,
                positional: false,
            });
        }
        let mut tree = Tree::default();
        let mut rename_sources = Vec::new();
        let mut used: Vec<String> = Vec::new();
        let mut positional = false;
        for (op, fields) in update {
            if !OPERATORS.contains(&op.as_str()) {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    format!(
                        "Unknown modifier: {op}. Expected a valid update modifier or pipeline-style update specified as an array"
                    ),
                ));
            }
            let Bson::Document(fields) = fields else {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    format!(
                        "Modifiers operate on fields but we found type {} instead. For example: {{$mod: {{<field>: ...}}}} not {{{}}}",
                        type_name(fields),
                        element_string(op, fields)
                    ),
                ));
            };
            // An empty operand is a no-op since MongoDB 5.0 (it was "'$set' is empty" before).
            for (field, value) in fields {
                if op == "$rename" {
                    parse_rename(&mut tree, &mut rename_sources, field, value)?;
                    continue;
                }
                let path = parse_update_path(field, &identifiers)?;
                positional |= path.iter().any(|part| part == "$");
                used.extend(
                    path.iter()
                        .filter_map(|part| array_filter_identifier(part))
                        .map(str::to_owned),
                );
                let leaf = Leaf::parse(op, field, value)?;
                tree.insert(&path, leaf)?;
            }
        }
        if let Some(unused) = identifiers.iter().find(|id| !used.contains(id)) {
            return Err(unused_filter(unused, update));
        }
        Ok(UpdateSpec {
            kind: Kind::Operators { tree, rename_sources },
            array_filters: filters,
            positional,
        })
    }

    /// Whether this is a replacement-style update.
    pub fn is_replacement(&self) -> bool {
        matches!(self.kind, Kind::Replacement(_))
    }

    /// Whether a path uses the positional `$`, so the caller must say which array element the query
    /// matched (see [`UpdateSpec::apply_at_position`]).
    pub fn uses_positional(&self) -> bool {
        self.positional
    }

    /// Applies the update to `doc`; returns whether it changed. On error `doc` is left as it was.
    /// A path with `$` fails as it does in mongod when the query matched through no array.
    pub fn apply(&self, doc: &mut Document, ctx: ApplyContext) -> StatusResult<bool> {
        self.apply_at_position(doc, ctx, None)
    }

    /// [`UpdateSpec::apply`] with the position of the array element the query matched through
    /// (`Matcher::matched_array_position`), which each `$` in a path stands for.
    pub fn apply_at_position(
        &self,
        doc: &mut Document,
        ctx: ApplyContext,
        position: Option<usize>,
    ) -> StatusResult<bool> {
        let updated = match &self.kind {
            Kind::Replacement(replacement) => replace(doc, replacement)?,
            Kind::Operators { tree, rename_sources } => {
                apply_operators(doc, tree, rename_sources, &self.array_filters, &ctx, position)?
            }
            Kind::Pipeline(pipeline) => replace(doc, &run_pipeline(doc, pipeline)?)?,
        };
        match updated {
            Some(new_doc) => {
                validate_for_storage(&new_doc)?;
                *doc = new_doc;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// mongod's error for an `arrayFilters` entry no path uses.
fn unused_filter(identifier: &str, update: &Document) -> Status {
    Status::new(
        ErrorCode::FailedToParse,
        format!(
            "The array filter for identifier '{identifier}' was not used in the update {}",
            document_string(update)
        ),
    )
}

/// `{$rename: {from: "to"}}`: a placeholder at the source, then the target, as mongod's parser does.
fn parse_rename(
    tree: &mut Tree,
    rename_sources: &mut Vec<Vec<String>>,
    field: &str,
    value: &Bson,
) -> StatusResult<()> {
    let dynamic = |p: &str| is_dynamic(&p.split('.').map(str::to_owned).collect::<Vec<_>>());
    if dynamic(field) {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!("The source field for $rename may not be dynamic: {field}"),
        ));
    }
    let from = parse_update_path(field, &[])?;
    tree.insert(&from, Leaf::RenameSource)?;
    let Bson::String(target) = value else {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!(
                "The 'to' field for $rename must be a string: {}",
                element_string(field, value)
            ),
        ));
    };
    if dynamic(target) {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!("The destination field for $rename may not be dynamic: {target}"),
        ));
    }
    let to = parse_update_path(target, &[])?;
    if from == to {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!(
                "The source and target field for $rename must differ: {}",
                element_string(field, value)
            ),
        ));
    }
    if is_prefix(&from, &to) || is_prefix(&to, &from) {
        return Err(Status::new(
            ErrorCode::BadValue,
            format!(
                "The source and target field for $rename must not be on the same path: {}",
                element_string(field, value)
            ),
        ));
    }
    tree.insert(&to, Leaf::RenameTarget(rename_sources.len()))?;
    rename_sources.push(from);
    Ok(())
}

/// The replaced document, or `None` when it is identical. The original `_id` stays (first); a
/// different `_id` is ImmutableField.
fn replace(doc: &Document, replacement: &Document) -> StatusResult<Option<Document>> {
    let mut new_doc = Document::new();
    match (doc.get("_id"), replacement.get("_id")) {
        (Some(old), Some(new)) if !bson_equal(old, new) => {
            return Err(Status::new(
                ErrorCode::ImmutableField,
                format!(
                    "After applying the update, the (immutable) field '_id' was found to have been altered to {}",
                    element_string("_id", new)
                ),
            ));
        }
        (_, Some(new)) => {
            new_doc.insert("_id", new.clone());
        }
        (Some(old), None) => {
            new_doc.insert("_id", old.clone());
        }
        (None, None) => {}
    }
    for (key, value) in replacement {
        if key != "_id" {
            new_doc.insert(key.clone(), value.clone());
        }
    }
    if documents_binary_equal(doc, &new_doc) {
        return Ok(None);
    }
    Ok(Some(new_doc))
}

/// Applies operators to a copy of `doc`; returns the copy if anything changed.
fn apply_operators(
    doc: &Document,
    tree: &Tree,
    rename_sources: &[Vec<String>],
    array_filters: &ArrayFilters,
    ctx: &ApplyContext,
    position: Option<usize>,
) -> StatusResult<Option<Document>> {
    let id = id_string(doc);
    let has_id = doc.contains_key("_id");
    let mut root = Bson::Document(doc.clone());
    let mut renamed = Vec::with_capacity(rename_sources.len());
    let mut source_removed = Vec::new();
    for from in rename_sources {
        let taken = take_source(&mut root, from, &id)?;
        if taken.is_some() {
            source_removed.push(from.clone());
        }
        renamed.push(taken);
    }
    let mut walk = Walk::new(
        LeafEnv {
            ctx,
            id: &id,
            renamed: &renamed,
        },
        has_id,
        array_filters,
    );
    walk.position = position;
    for from in &source_removed {
        walk.record_change(from)?;
    }
    walk.apply(tree, &mut root, &mut Vec::new(), None)?;
    match (walk.changed, root) {
        (true, Bson::Document(new_doc)) => Ok(Some(new_doc)),
        _ => Ok(None),
    }
}
