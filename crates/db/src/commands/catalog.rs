//! Collection and database commands: create, drop, dropDatabase, listCollections, listDatabases,
//! renameCollection, collStats, dbStats.

use async_trait::async_trait;
use bson::{Bson, Document, RawDocumentBuf, doc};
use docwire_rpc::{ErrorCode, ReplyBuilder, Status, StatusResult};
use docwire_transport::{Command, CommandRequest, RequestContext};

use super::context::DbDeps;
use super::util::{command_document, encode, optional_bool, optional_document, target_namespace};
use crate::cursor::batch_reply;
use crate::query::matcher::Matcher;

/// Declares a command struct holding the db deps.
macro_rules! db_command {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(pub DbDeps);
    };
}

db_command!(Create, "The create command.");
db_command!(Drop, "The drop command.");
db_command!(DropDatabase, "The dropDatabase command.");
db_command!(ListCollections, "The listCollections command.");
db_command!(ListDatabases, "The listDatabases command.");
db_command!(RenameCollection, "The renameCollection command.");
db_command!(CollStats, "The collStats command.");
db_command!(DbStats, "The dbStats command.");

#[async_trait]
impl Command for Create {
    fn names(&self) -> &'static [&'static str] {
        &["create"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let mut options = command_document(req)?;
        for generic in [
            "create",
            "$db",
            "lsid",
            "$clusterTime",
            "writeConcern",
            "txnNumber",
            "$readPreference",
            "comment",
        ] {
            options.remove(generic);
        }
        let mut txn = self.0.engine.begin_write()?;
        txn.create_collection(&ns, &options)?;
        txn.commit()?;
        reply.set_command_reply(doc! {"ok": 1.0});
        Ok(())
    }
}

#[async_trait]
impl Command for Drop {
    fn names(&self) -> &'static [&'static str] {
        &["drop"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let mut txn = self.0.engine.begin_write()?;
        let nindexes = txn.collection(&ns)?.map(|c| c.indexes.len() as i32);
        let existed = txn.drop_collection(&ns)?;
        txn.commit()?;
        match (existed, nindexes) {
            (true, Some(n)) => reply.set_command_reply(doc! {"nIndexesWas": n, "ns": ns, "ok": 1.0}),
            // mongod 7+ answers ok for a missing collection.
            _ => reply.set_command_reply(doc! {"ok": 1.0}),
        }
        Ok(())
    }
}

#[async_trait]
impl Command for DropDatabase {
    fn names(&self) -> &'static [&'static str] {
        &["dropDatabase"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let mut txn = self.0.engine.begin_write()?;
        txn.drop_database(req.database)?;
        txn.commit()?;
        reply.set_command_reply(doc! {"dropped": req.database, "ok": 1.0});
        Ok(())
    }
}

#[async_trait]
impl Command for ListCollections {
    fn names(&self) -> &'static [&'static str] {
        &["listCollections"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let command = command_document(req)?;
        let filter = Matcher::parse(&optional_document(&command, "filter")?.unwrap_or_default())?;
        let name_only = optional_bool(&command, "nameOnly")?.unwrap_or(false);
        let read = self.0.engine.begin_read()?;
        let mut batch: Vec<RawDocumentBuf> = Vec::new();
        for info in read.list_collections(req.database)? {
            let entry = if name_only {
                doc! {"name": &info.name, "type": "collection"}
            } else {
                doc! {
                    "name": &info.name,
                    "type": "collection",
                    "options": info.options.clone(),
                    "info": {"readOnly": false, "uuid": info.uuid},
                    "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
                }
            };
            if filter.matches(&entry) {
                batch.push(encode(&entry)?);
            }
        }
        let ns = format!("{}.$cmd.listCollections", req.database);
        reply.set_raw_command_reply(batch_reply("firstBatch", &batch, 0, &ns)?);
        Ok(())
    }
}

#[async_trait]
impl Command for ListDatabases {
    fn names(&self) -> &'static [&'static str] {
        &["listDatabases"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        if req.database != "admin" {
            return Err(Status::new(
                ErrorCode::Unauthorized,
                "listDatabases may only be run against the admin database.",
            ));
        }
        let command = command_document(req)?;
        let name_only = optional_bool(&command, "nameOnly")?.unwrap_or(false);
        let filter = Matcher::parse(&optional_document(&command, "filter")?.unwrap_or_default())?;
        let read = self.0.engine.begin_read()?;
        let mut databases = Vec::new();
        let mut total: i64 = 0;
        for name in read.list_database_names()? {
            let stats = read.database_stats(&name)?;
            let size = (stats.storage_size + stats.index_size) as i64;
            total += size;
            let entry = if name_only {
                doc! {"name": &name}
            } else {
                doc! {"name": &name, "sizeOnDisk": size, "empty": stats.objects == 0}
            };
            if filter.matches(&entry) {
                databases.push(Bson::Document(entry));
            }
        }
        let mut out = doc! {"databases": databases};
        if !name_only {
            out.insert("totalSize", total);
            out.insert("totalSizeMb", total / (1024 * 1024));
        }
        out.insert("ok", 1.0);
        reply.set_command_reply(out);
        Ok(())
    }
}

#[async_trait]
impl Command for RenameCollection {
    fn names(&self) -> &'static [&'static str] {
        &["renameCollection"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        if req.database != "admin" {
            return Err(Status::new(
                ErrorCode::Unauthorized,
                "renameCollection may only be run against the admin database.",
            ));
        }
        let command = command_document(req)?;
        let (Ok(from), Ok(to)) = (command.get_str("renameCollection"), command.get_str("to")) else {
            return Err(Status::new(
                ErrorCode::TypeMismatch,
                "renameCollection and to must be namespace strings",
            ));
        };
        let drop_target = optional_bool(&command, "dropTarget")?.unwrap_or(false);
        let mut txn = self.0.engine.begin_write()?;
        txn.rename_collection(from, to, drop_target)?;
        txn.commit()?;
        reply.set_command_reply(doc! {"ok": 1.0});
        Ok(())
    }
}

#[async_trait]
impl Command for CollStats {
    fn names(&self) -> &'static [&'static str] {
        &["collStats"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let (ns, _) = target_namespace(req)?;
        let read = self.0.engine.begin_read()?;
        if read.collection(&ns)?.is_none() {
            return Err(Status::new(
                ErrorCode::NamespaceNotFound,
                format!("Collection [{ns}] not found."),
            ));
        }
        let s = read.collection_stats(&ns)?;
        let sizes: Document = s
            .index_sizes
            .iter()
            .map(|(n, v)| (n.clone(), Bson::Int64(*v as i64)))
            .collect();
        reply.set_command_reply(doc! {
            "ns": &ns,
            "size": s.size as i64,
            "count": s.count as i64,
            "avgObjSize": s.avg_obj_size as i64,
            "storageSize": s.storage_size as i64,
            "nindexes": s.nindexes as i64,
            "totalIndexSize": s.total_index_size as i64,
            "totalSize": (s.storage_size + s.total_index_size) as i64,
            "indexSizes": sizes,
            "capped": false,
            "ok": 1.0,
        });
        Ok(())
    }
}

#[async_trait]
impl Command for DbStats {
    fn names(&self) -> &'static [&'static str] {
        &["dbStats"]
    }

    async fn run(
        &self,
        _: &mut RequestContext<'_>,
        req: &CommandRequest<'_>,
        reply: &mut ReplyBuilder,
    ) -> StatusResult<()> {
        let read = self.0.engine.begin_read()?;
        let s = read.database_stats(req.database)?;
        reply.set_command_reply(doc! {
            "db": req.database,
            "collections": s.collections as i64,
            "views": 0_i64,
            "objects": s.objects as i64,
            "avgObjSize": s.avg_obj_size as f64,
            "dataSize": s.data_size as f64,
            "storageSize": s.storage_size as f64,
            "indexes": s.indexes as i64,
            "indexSize": s.index_size as f64,
            "totalSize": (s.storage_size + s.index_size) as f64,
            "scaleFactor": 1_i64,
            "ok": 1.0,
        });
        Ok(())
    }
}
