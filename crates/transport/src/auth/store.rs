//! `UserStore`: where users live. The db crate keeps them in admin.system.users in its storage
//! engine; [`MemoryUserStore`] keeps them in a map (tests, and servers without an engine). Calls are
//! synchronous and brief, like the storage engine's.

use std::collections::BTreeMap;
use std::sync::Mutex;

use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::user::{UserDocument, UserName};

/// Stored users, by (db, user).
pub trait UserStore: Send + Sync + 'static {
    /// The user, if it exists.
    fn get(&self, name: &UserName) -> StatusResult<Option<UserDocument>>;

    /// Adds a user; false (nothing written) if one of that name exists.
    fn create(&self, user: &UserDocument) -> StatusResult<bool>;

    /// Replaces a user; false if there is none of that name.
    fn update(&self, user: &UserDocument) -> StatusResult<bool>;

    /// Removes a user; false if there was none.
    fn drop_user(&self, name: &UserName) -> StatusResult<bool>;

    /// Every user of `db` (of every database when `None`), ordered by (db, user).
    fn list(&self, db: Option<&str>) -> StatusResult<Vec<UserDocument>>;

    /// Whether any user exists (the localhost exception closes once one does).
    fn has_users(&self) -> StatusResult<bool> {
        Ok(!self.list(None)?.is_empty())
    }
}

/// Users in memory.
#[derive(Debug, Default)]
pub struct MemoryUserStore {
    users: Mutex<BTreeMap<(String, String), UserDocument>>,
}

impl MemoryUserStore {
    /// An empty store.
    pub fn new() -> MemoryUserStore {
        MemoryUserStore::default()
    }

    fn users(&self) -> StatusResult<std::sync::MutexGuard<'_, BTreeMap<(String, String), UserDocument>>> {
        // A poisoned map is still consistent: every change is a single insert or remove.
        Ok(self
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

fn key(name: &UserName) -> (String, String) {
    (name.db.clone(), name.user.clone())
}

impl UserStore for MemoryUserStore {
    fn get(&self, name: &UserName) -> StatusResult<Option<UserDocument>> {
        Ok(self.users()?.get(&key(name)).cloned())
    }

    fn create(&self, user: &UserDocument) -> StatusResult<bool> {
        let mut users = self.users()?;
        if users.contains_key(&key(&user.name)) {
            return Ok(false);
        }
        users.insert(key(&user.name), user.clone());
        Ok(true)
    }

    fn update(&self, user: &UserDocument) -> StatusResult<bool> {
        let mut users = self.users()?;
        match users.get_mut(&key(&user.name)) {
            Some(stored) => {
                *stored = user.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn drop_user(&self, name: &UserName) -> StatusResult<bool> {
        Ok(self.users()?.remove(&key(name)).is_some())
    }

    fn list(&self, db: Option<&str>) -> StatusResult<Vec<UserDocument>> {
        Ok(self
            .users()?
            .values()
            .filter(|u| db.is_none_or(|db| u.name.db == db))
            .cloned()
            .collect())
    }

    fn has_users(&self) -> StatusResult<bool> {
        Ok(!self.users()?.is_empty())
    }
}

/// mongod's error for creating a user that exists (51003).
pub fn user_exists(name: &UserName) -> Status {
    Status::new(51003, format!("User \"{name}\" already exists"))
}

/// mongod's error for a user that does not exist.
pub fn user_not_found(name: &UserName) -> Status {
    Status::new(ErrorCode::UserNotFound, format!("User {name} not found"))
}
