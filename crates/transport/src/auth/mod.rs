//! Authentication and authorization, as mongod does them.
//!
//! Users live in a [`UserStore`] in admin.system.users' shape ([`UserDocument`]: salted, iterated SCRAM
//! credentials, never the password). Clients authenticate with SCRAM-SHA-256 or SCRAM-SHA-1 through
//! saslStart / saslContinue or hello's speculativeAuthenticate ([`ScramConversation`], RFC 5802 and
//! 7677). Each connection's state is an [`AuthorizationSession`], a Client decoration. With `--auth`, the
//! [`AuthorizationManager`] gates every command: the handshake and authentication commands run for
//! anyone, everything else needs an authenticated user whose built-in roles ([`roles`]) grant the
//! privileges the command needs on its namespace ([`required`]); else Unauthorized (13). The localhost
//! exception lets a local connection create the first user. Failed attempts are logged with the
//! remote address and slowed down; unauthenticated connections are bounded in number and lifetime
//! ([`AuthOptions`]).

mod conversation;
mod counters;
mod limits;
mod manager;
pub mod privilege;
mod redact;
pub mod required;
pub mod roles;
mod scram;
mod session;
mod store;
mod user;

pub use conversation::{ClientFirst, ScramConversation, ScramStep, StepReply, authentication_failed};
pub use counters::AuthCounters;
pub use limits::{
    AuthOptions, DEFAULT_AUTH_FAILED_DELAY, DEFAULT_AUTHENTICATION_TIMEOUT, DEFAULT_MAX_UNAUTHENTICATED_CONNS,
};
pub use manager::{AuthorizationManager, CONVERSATION_ID, SaslReply, privilege_document, privileges_of};
pub use privilege::{ActionType, Privilege, Resource, ResourcePattern};
pub use redact::{SENSITIVE_FIELDS, redact, to_shell_string};
pub use roles::RoleName;
pub use scram::{ScramCredential, ScramMechanism};
pub use session::{AuthenticatedUser, AuthorizationSession};
pub use store::{MemoryUserStore, UserStore, user_exists, user_not_found};
pub use user::{UserDocument, UserName, derive_credentials};
