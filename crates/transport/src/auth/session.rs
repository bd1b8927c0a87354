//! `AuthorizationSession`: one connection's authentication state (mongod's Client decoration of the
//! same name): who authenticated, with which roles and privileges, and the SASL conversation in
//! progress. Guarded by a short std mutex, never held across an await.

use std::sync::{Mutex, MutexGuard, PoisonError};

use docwire_service::ClockTime;

use super::conversation::ScramConversation;
use super::limits::UnauthenticatedSlot;
use super::privilege::{ActionType, Privilege, Resource};
use super::roles::RoleName;
use super::user::UserName;

/// An authenticated user and what it may do.
#[derive(Clone, Debug)]
pub struct AuthenticatedUser {
    /// Who.
    pub name: UserName,
    /// Its roles when last loaded.
    pub roles: Vec<RoleName>,
    /// The privileges those roles grant.
    pub privileges: Vec<Privilege>,
    /// The user-store generation the roles were loaded at; a later one reloads them.
    pub generation: u64,
}

impl AuthenticatedUser {
    /// Whether the user may do `action` on `resource`.
    pub fn is_authorized(&self, action: ActionType, resource: &Resource) -> bool {
        self.privileges.iter().any(|p| p.allows(action, resource))
    }
}

/// A SASL conversation between saslStart and its last saslContinue.
#[derive(Debug)]
pub(crate) struct PendingConversation {
    /// The database the client authenticates against.
    pub(crate) db: String,
    /// The SCRAM state.
    pub(crate) conversation: ScramConversation,
    /// saslStart's `options.skipEmptyExchange`.
    pub(crate) skip_empty_exchange: bool,
    /// Whether it began inside hello (speculativeAuthenticate), for serverStatus.
    pub(crate) speculative: bool,
}

/// The state behind the lock.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    /// The user this connection authenticated as (mongod allows one).
    pub(crate) user: Option<AuthenticatedUser>,
    /// The conversation in progress, if any.
    pub(crate) pending: Option<PendingConversation>,
    /// Holds one of the bounded unauthenticated-connection slots until the connection authenticates.
    pub(crate) unauthenticated: Option<UnauthenticatedSlot>,
    /// Set when the connection arrived over the unauthenticated-connection limit: its first request
    /// closes it.
    pub(crate) over_limit: bool,
}

/// One connection's authentication state.
#[derive(Debug)]
pub struct AuthorizationSession {
    state: Mutex<SessionState>,
    created: ClockTime,
}

impl AuthorizationSession {
    /// The state of a connection made at `created`.
    pub(crate) fn new(created: ClockTime) -> AuthorizationSession {
        AuthorizationSession {
            state: Mutex::new(SessionState::default()),
            created,
        }
    }

    /// When the connection was made.
    pub fn created(&self) -> ClockTime {
        self.created
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SessionState> {
        // Every change is a single assignment, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The authenticated user, if any.
    pub fn user(&self) -> Option<AuthenticatedUser> {
        self.lock().user.clone()
    }

    /// Whether a user authenticated on this connection.
    pub fn is_authenticated(&self) -> bool {
        self.lock().user.is_some()
    }
}
