//! Index commands: createIndexes, listIndexes, dropIndexes.

use async_trait::async_trait;
use bson::{Bson, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::DbDeps;
use super::util::{command_document, encode, target_namespace};
use crate::cursor::batch_reply;
use crate::storage::IndexRef;

/// The createIndexes command.
pub struct CreateIndexes(pub DbDeps);
/// The listIndexes command.
pub struct ListIndexes(pub DbDeps);
/// The dropIndexes command (also `deleteIndexes`).
pub struct DropIndexes(pub DbDeps);

#[async_trait]
impl Command for CreateIndexes {
    fn names(&self) -> &'static [&'static str] {
        &["createIndexes"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let command = command_document(req)?;
        let specs = match command.get("indexes") {
            Some(Bson::Array(specs)) if !specs.is_empty() => specs.clone(),
            _ => {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    "Must specify at least one index to create",
                ));
            }
        };
        let mut txn = self.0.engine.begin_write()?;
        let created_collection = txn.ensure_collection(&ns)?;
        let before = txn.list_indexes(&ns)?.len() as i32;
        for spec in &specs {
            let Bson::Document(spec) = spec else {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "each index specification must be an object",
                ));
            };
            txn.create_index(&ns, spec)?;
        }
        let after = txn.list_indexes(&ns)?.len() as i32;
        txn.commit()?;
        let mut out = doc! {
            "numIndexesBefore": before,
            "numIndexesAfter": after,
            "createdCollectionAutomatically": created_collection,
        };
        if before == after {
            out.insert("note", "all indexes already exist");
        }
        out.insert("ok", 1.0);
        reply.set_command_reply(out);
        Ok(())
    }
}

#[async_trait]
impl Command for ListIndexes {
    fn names(&self) -> &'static [&'static str] {
        &["listIndexes"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let read = self.0.engine.begin_read()?;
        let indexes = read.list_indexes(&ns)?;
        let batch = indexes
            .iter()
            .map(|i| encode(&i.spec))
            .collect::<StatusResult<Vec<_>>>()?;
        reply.set_raw_command_reply(batch_reply("firstBatch", &batch, 0, &ns)?);
        Ok(())
    }
}

#[async_trait]
impl Command for DropIndexes {
    fn names(&self) -> &'static [&'static str] {
        &["dropIndexes", "deleteIndexes"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let command = command_document(req)?;
        let mut txn = self.0.engine.begin_write()?;
        let existing = txn.list_indexes(&ns)?;
        let was = existing.len() as i32;
        match command.get("index") {
            Some(Bson::String(name)) if name == "*" => {
                for index in existing
                    .iter()
                    .filter(|i| i.name != crate::storage::ID_INDEX_NAME)
                {
                    txn.drop_index(&ns, IndexRef::Name(&index.name))?;
                }
            }
            Some(Bson::String(name)) => txn.drop_index(&ns, IndexRef::Name(name))?,
            Some(Bson::Document(pattern)) => txn.drop_index(&ns, IndexRef::KeyPattern(pattern))?,
            Some(Bson::Array(names)) => {
                for name in names {
                    let Bson::String(name) = name else {
                        return Err(Status::new(
                            ErrorCode::TypeMismatch,
                            "index names must be strings",
                        ));
                    };
                    txn.drop_index(&ns, IndexRef::Name(name))?;
                }
            }
            _ => {
                return Err(Status::new(
                    ErrorCode::FailedToParse,
                    "BSON field 'dropIndexes.index' is missing but a required field",
                ));
            }
        }
        txn.commit()?;
        reply.set_command_reply(doc! {"nIndexesWas": was, "ok": 1.0});
        Ok(())
    }
}
