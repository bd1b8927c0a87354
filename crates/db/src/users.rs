//! `EngineUserStore`: the users of the transport crate's authentication, kept where mongod keeps them,
//! in the admin.system.users collection of the storage engine (one document per user, `_id:
//! "<db>.<user>"`, SCRAM credentials and roles, never a password).

use std::ops::Bound;
use std::sync::Arc;

use bson::{Bson, Document};
use docwire_rpc::StatusResult;
use docwire_transport::auth::{UserDocument, UserName, UserStore};

use crate::storage::{Direction, StorageEngine};

/// The collection users live in.
pub const USERS_NAMESPACE: &str = "admin.system.users";

/// Users in admin.system.users.
#[derive(Debug, Clone)]
pub struct EngineUserStore {
    engine: Arc<dyn StorageEngine>,
}

impl EngineUserStore {
    /// A store over `engine`.
    pub fn new(engine: Arc<dyn StorageEngine>) -> EngineUserStore {
        EngineUserStore { engine }
    }
}

fn decode(raw: &bson::RawDocument) -> StatusResult<UserDocument> {
    let document = Document::try_from(raw).map_err(|e| {
        docwire_rpc::Status::new(
            docwire_rpc::ErrorCode::InvalidBSON,
            format!("corrupt user document: {e}"),
        )
    })?;
    UserDocument::from_document(&document)
}

fn encode(user: &UserDocument) -> StatusResult<bson::RawDocumentBuf> {
    bson::RawDocumentBuf::try_from(&user.to_document()).map_err(|e| {
        docwire_rpc::Status::new(
            docwire_rpc::ErrorCode::InvalidBSON,
            format!("cannot encode a user document: {e}"),
        )
    })
}

impl UserStore for EngineUserStore {
    fn get(&self, name: &UserName) -> StatusResult<Option<UserDocument>> {
        let txn = self.engine.begin_read()?;
        match txn.find_by_id(USERS_NAMESPACE, &Bson::String(name.id()))? {
            Some(raw) => decode(&raw).map(Some),
            None => Ok(None),
        }
    }

    fn create(&self, user: &UserDocument) -> StatusResult<bool> {
        let raw = encode(user)?;
        let mut txn = self.engine.begin_write()?;
        txn.ensure_collection(USERS_NAMESPACE)?;
        if txn
            .find_by_id(USERS_NAMESPACE, &Bson::String(user.name.id()))?
            .is_some()
        {
            return Ok(false);
        }
        txn.insert(USERS_NAMESPACE, &raw)?;
        txn.commit()?;
        Ok(true)
    }

    fn update(&self, user: &UserDocument) -> StatusResult<bool> {
        let raw = encode(user)?;
        let mut txn = self.engine.begin_write()?;
        if !txn.replace(USERS_NAMESPACE, &raw)? {
            return Ok(false);
        }
        txn.commit()?;
        Ok(true)
    }

    fn drop_user(&self, name: &UserName) -> StatusResult<bool> {
        let mut txn = self.engine.begin_write()?;
        if !txn.delete(USERS_NAMESPACE, &Bson::String(name.id()))? {
            return Ok(false);
        }
        txn.commit()?;
        Ok(true)
    }

    fn list(&self, db: Option<&str>) -> StatusResult<Vec<UserDocument>> {
        let txn = self.engine.begin_read()?;
        let mut users = Vec::new();
        for record in txn.scan(USERS_NAMESPACE, Bound::Unbounded, Direction::Forward)? {
            let user = decode(&record?.doc)?;
            if db.is_none_or(|db| user.name.db == db) {
                users.push(user);
            }
        }
        // _ids are "<db>.<user>", so _id order is (db, user) order except where a db name has a dot
        // prefix in common with another; sort to keep the contract exact.
        users.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(users)
    }

    fn has_users(&self) -> StatusResult<bool> {
        let txn = self.engine.begin_read()?;
        let mut records = txn.scan(USERS_NAMESPACE, Bound::Unbounded, Direction::Forward)?;
        Ok(records.next().transpose()?.is_some())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::storage::MemoryEngine;
    use docwire_transport::auth::{RoleName, ScramMechanism};

    #[test]
    fn users_live_in_admin_system_users_without_passwords() {
        let engine: Arc<dyn StorageEngine> = Arc::new(MemoryEngine::new());
        let store = EngineUserStore::new(engine.clone());
        assert!(!store.has_users().unwrap());
        let name = UserName::new("alice", "test");
        let mut user = UserDocument::new(
            name.clone(),
            "pencil-secret",
            &ScramMechanism::ALL,
            vec![RoleName::new("read", "test")],
        )
        .unwrap();
        assert!(store.create(&user).unwrap());
        assert!(!store.create(&user).unwrap());
        assert!(store.has_users().unwrap());
        let raw = engine
            .begin_read()
            .unwrap()
            .find_by_id(USERS_NAMESPACE, &Bson::String("test.alice".into()))
            .unwrap()
            .unwrap();
        let stored = Document::try_from(raw.as_ref()).unwrap();
        assert_eq!(stored.get_str("user").unwrap(), "alice");
        assert!(!format!("{stored}").contains("pencil-secret"));
        assert_eq!(store.get(&name).unwrap().unwrap(), user);

        user.roles.push(RoleName::new("readWrite", "test"));
        assert!(store.update(&user).unwrap());
        assert_eq!(store.get(&name).unwrap().unwrap().roles.len(), 2);
        assert_eq!(store.list(Some("test")).unwrap().len(), 1);
        assert!(store.list(Some("other")).unwrap().is_empty());
        assert!(store.drop_user(&name).unwrap());
        assert!(!store.drop_user(&name).unwrap());
        assert!(store.get(&name).unwrap().is_none());
    }
}
