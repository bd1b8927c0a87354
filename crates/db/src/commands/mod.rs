//! The db commands: CRUD, cursors, collections, indexes and explain, registered into the transport
//! crate's `CommandRegistry` on top of the handshake and admin commands.

mod aggregate;
mod catalog;
mod context;
mod count_distinct;
mod delete;
mod explain;
mod find;
mod find_and_modify;
mod indexes;
mod insert;
mod plan;
mod retryable;
mod sessions;
mod update;
mod util;
mod write_result;

use std::sync::Arc;

use docwire_transport::CommandRegistry;

pub use context::DbDeps;
pub use plan::{IndexScanPlan, Plan, choose_plan};
pub use retryable::RetryableWrites;

/// Registers every db command.
pub fn register_db_commands(registry: &mut CommandRegistry, deps: &DbDeps) {
    let d = || deps.clone();
    registry
        .register(Arc::new(insert::Insert(d())))
        .register(Arc::new(find::Find(d())))
        .register(Arc::new(find::GetMore(d())))
        .register(Arc::new(find::KillCursors(d())))
        .register(Arc::new(update::Update(d())))
        .register(Arc::new(delete::Delete(d())))
        .register(Arc::new(find_and_modify::FindAndModify(d())))
        .register(Arc::new(count_distinct::Count(d())))
        .register(Arc::new(count_distinct::Distinct(d())))
        .register(Arc::new(catalog::Create(d())))
        .register(Arc::new(catalog::Drop(d())))
        .register(Arc::new(catalog::DropDatabase(d())))
        .register(Arc::new(catalog::ListCollections(d())))
        .register(Arc::new(catalog::ListDatabases(d())))
        .register(Arc::new(catalog::RenameCollection(d())))
        .register(Arc::new(catalog::CollStats(d())))
        .register(Arc::new(catalog::DbStats(d())))
        .register(Arc::new(indexes::CreateIndexes(d())))
        .register(Arc::new(indexes::ListIndexes(d())))
        .register(Arc::new(indexes::DropIndexes(d())))
        .register(Arc::new(explain::Explain(d())))
        .register(Arc::new(aggregate::Aggregate(d())))
        .register(Arc::new(sessions::EndSessions(d())));
}
