//! A user as admin.system.users stores it: `{_id: "<db>.<user>", userId, user, db, credentials: {
//! "SCRAM-SHA-1": {...}, "SCRAM-SHA-256": {...}}, roles: [{role, db}], customData?}`. Never a password.

use std::fmt;

use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use super::roles::RoleName;
use super::scram::{ScramCredential, ScramMechanism};

/// A user's name and the database it is defined in (its authentication database).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserName {
    /// The user name.
    pub user: String,
    /// The database.
    pub db: String,
}

impl UserName {
    /// `user@db`.
    pub fn new(user: impl Into<String>, db: impl Into<String>) -> UserName {
        UserName {
            user: user.into(),
            db: db.into(),
        }
    }

    /// The document's `_id`: `<db>.<user>`.
    pub fn id(&self) -> String {
        format!("{}.{}", self.db, self.user)
    }

    /// `{user, db}`.
    pub fn to_document(&self) -> Document {
        doc! {"user": self.user.clone(), "db": self.db.clone()}
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.db)
    }
}

/// One stored user.
#[derive(Clone, Debug, PartialEq)]
pub struct UserDocument {
    /// Who.
    pub name: UserName,
    /// A UUID fixed at creation (mongod's userId).
    pub user_id: bson::Uuid,
    /// The credentials per mechanism (at least one).
    pub credentials: Vec<(ScramMechanism, ScramCredential)>,
    /// The roles granted.
    pub roles: Vec<RoleName>,
    /// Whatever the creator attached.
    pub custom_data: Option<Document>,
}

impl UserDocument {
    /// A new user with credentials for `mechanisms` derived from `password`.
    pub fn new(
        name: UserName,
        password: &str,
        mechanisms: &[ScramMechanism],
        roles: Vec<RoleName>,
    ) -> StatusResult<UserDocument> {
        Ok(UserDocument {
            credentials: derive_credentials(&name.user, password, mechanisms)?,
            name,
            user_id: bson::Uuid::new(),
            roles,
            custom_data: None,
        })
    }

    /// The credential for `mechanism`, if the user has one.
    pub fn credential(&self, mechanism: ScramMechanism) -> Option<&ScramCredential> {
        self.credentials
            .iter()
            .find(|(m, _)| *m == mechanism)
            .map(|(_, c)| c)
    }

    /// The mechanisms the user can authenticate with.
    pub fn mechanisms(&self) -> Vec<ScramMechanism> {
        self.credentials.iter().map(|(m, _)| *m).collect()
    }

    /// The document in mongod's admin.system.users shape.
    pub fn to_document(&self) -> Document {
        let mut credentials = Document::new();
        for (mechanism, credential) in &self.credentials {
            credentials.insert(mechanism.name(), credential.to_document());
        }
        let roles: Vec<Bson> = self
            .roles
            .iter()
            .map(|r| Bson::Document(r.to_document()))
            .collect();
        let mut document = doc! {
            "_id": self.name.id(),
            "userId": self.user_id,
            "user": self.name.user.clone(),
            "db": self.name.db.clone(),
            "credentials": credentials,
            "roles": roles,
        };
        if let Some(custom) = &self.custom_data {
            document.insert("customData", custom.clone());
        }
        document
    }

    /// Reads a stored document.
    pub fn from_document(document: &Document) -> StatusResult<UserDocument> {
        let bad = |field: &str| {
            Status::new(
                ErrorCode::FailedToParse,
                format!("user document has a missing or bad '{field}' field"),
            )
        };
        let user = document.get_str("user").map_err(|_| bad("user"))?;
        let db = document.get_str("db").map_err(|_| bad("db"))?;
        let user_id = match document.get("userId") {
            Some(Bson::Binary(binary)) => binary.to_uuid().map_err(|_| bad("userId"))?,
            _ => return Err(bad("userId")),
        };
        let stored = document
            .get_document("credentials")
            .map_err(|_| bad("credentials"))?;
        let mut credentials = Vec::new();
        for mechanism in ScramMechanism::ALL {
            if let Ok(credential) = stored.get_document(mechanism.name()) {
                credentials.push((mechanism, ScramCredential::from_document(credential)?));
            }
        }
        let mut roles = Vec::new();
        for role in document.get_array("roles").map_err(|_| bad("roles"))? {
            roles.push(RoleName::parse(role, db)?);
        }
        Ok(UserDocument {
            name: UserName::new(user, db),
            user_id,
            credentials,
            roles,
            custom_data: document.get_document("customData").ok().cloned(),
        })
    }
}

/// Fresh credentials for `mechanisms` (random salts, mongod's iteration counts).
pub fn derive_credentials(
    user: &str,
    password: &str,
    mechanisms: &[ScramMechanism],
) -> StatusResult<Vec<(ScramMechanism, ScramCredential)>> {
    mechanisms
        .iter()
        .map(|m| Ok((*m, ScramCredential::generate(*m, user, password)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn user_document_round_trips_and_holds_no_password() {
        let user = UserDocument::new(
            UserName::new("alice", "admin"),
            "sekret-password",
            &ScramMechanism::ALL,
            vec![RoleName::new("root", "admin")],
        )
        .unwrap();
        let document = user.to_document();
        assert_eq!(document.get_str("_id").unwrap(), "admin.alice");
        let credentials = document.get_document("credentials").unwrap();
        assert_eq!(
            credentials
                .get_document("SCRAM-SHA-1")
                .unwrap()
                .get_i32("iterationCount")
                .unwrap(),
            10_000
        );
        assert!(!format!("{document}").contains("sekret"));
        assert_eq!(UserDocument::from_document(&document).unwrap(), user);
    }
}
