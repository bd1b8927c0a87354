//! `AuthorizationManager`: the process's authentication and authorization (mongod's class of the same
//! name). It owns the user store and the options, declares the per-connection
//! [`AuthorizationSession`], runs SASL conversations, and answers the command gate: may this connection
//! run this command on this namespace?

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::{
    Client, ClientObserver, Clock, Decoration, PeriodicJob, PeriodicJobHandle, ServiceContext,
    ServiceContextBuilder, sleep_until,
};

use super::conversation::{ClientFirst, ScramConversation, authentication_failed};
use super::counters::AuthCounters;
use super::limits::{AuthOptions, UnauthenticatedCount};
use super::privilege::{ActionType, Privilege, Resource};
use super::required::{Requirement, requirement};
use super::roles::{RoleName, builtin_privileges};
use super::scram::ScramMechanism;
use super::session::{AuthenticatedUser, AuthorizationSession, PendingConversation};
use super::store::UserStore;
use super::user::UserName;
use crate::command::CommandRequest;
use crate::session::SessionInfo;
use crate::session_manager::SessionManager;

/// mongod's conversationId: one conversation per connection at a time.
pub const CONVERSATION_ID: i32 = 1;

/// What one SASL step answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslReply {
    /// The conversation's id.
    pub conversation_id: i32,
    /// Whether the conversation is complete (the client is authenticated).
    pub done: bool,
    /// The server's SASL message.
    pub payload: Vec<u8>,
}

/// Authentication and authorization for one process.
pub struct AuthorizationManager {
    store: Arc<dyn UserStore>,
    options: AuthOptions,
    clock: Arc<dyn Clock>,
    key: Decoration<Client, AuthorizationSession>,
    generation: AtomicU64,
    unauthenticated: UnauthenticatedCount,
    counters: AuthCounters,
}

impl std::fmt::Debug for AuthorizationManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationManager")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Takes an unauthenticated-connection slot for every new connection (with `--auth`).
struct SlotObserver(Arc<AuthorizationManager>);

impl ClientObserver for SlotObserver {
    fn on_create_client(&self, client: &Client) {
        let manager = &self.0;
        if client.is_local() || !manager.options.enabled {
            return;
        }
        let Some(session) = client.decoration(manager.key) else {
            return;
        };
        let mut state = session.lock();
        match manager
            .unauthenticated
            .acquire(manager.options.max_unauthenticated_conns)
        {
            Some(slot) => state.unauthenticated = Some(slot),
            None => state.over_limit = true,
        }
    }
}

impl AuthorizationManager {
    /// Declares the per-connection state on a ServiceContext being built with `clock`, and returns the
    /// manager over `store`.
    pub fn declare(
        builder: &mut ServiceContextBuilder,
        store: Arc<dyn UserStore>,
        options: AuthOptions,
        clock: Arc<dyn Clock>,
    ) -> Arc<AuthorizationManager> {
        let session_clock = clock.clone();
        let key = builder.decorate_client(move |_| Ok(AuthorizationSession::new(session_clock.now())));
        let manager = Arc::new(AuthorizationManager {
            store,
            options,
            clock,
            key,
            generation: AtomicU64::new(0),
            unauthenticated: UnauthenticatedCount::default(),
            counters: AuthCounters::default(),
        });
        builder.add_client_observer(Arc::new(SlotObserver(manager.clone())));
        manager
    }

    /// serverStatus' `security.authentication` counters.
    pub fn counters(&self) -> &AuthCounters {
        &self.counters
    }

    /// The options.
    pub fn options(&self) -> &AuthOptions {
        &self.options
    }

    /// Whether `--auth` is on.
    pub fn is_enabled(&self) -> bool {
        self.options.enabled
    }

    /// The user store.
    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    /// How many connections are open and unauthenticated (with `--auth`).
    pub fn unauthenticated_connections(&self) -> usize {
        self.unauthenticated.current()
    }

    /// A connection's authentication state.
    pub fn session<'a>(&self, client: &'a Client) -> Option<&'a AuthorizationSession> {
        client.decoration(self.key)
    }

    /// Tells the manager that users changed, so connections reload their roles.
    pub fn users_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The connection-level limits, checked before each request with `--auth`: an `Err` closes the
    /// connection (over the unauthenticated-connection limit, or unauthenticated for too long).
    pub fn check_connection(&self, client: &Client) -> StatusResult<()> {
        if !self.options.enabled || client.is_local() {
            return Ok(());
        }
        let Some(session) = self.session(client) else {
            return Ok(());
        };
        let state = session.lock();
        if state.user.is_some() {
            return Ok(());
        }
        let remote = client.remote_address().unwrap_or_default();
        if state.over_limit {
            tracing::warn!(
                remote = %remote,
                limit = self.options.max_unauthenticated_conns,
                "Closing a connection: too many unauthenticated connections (maxUnauthenticatedConns)"
            );
            return Err(Status::new(
                ErrorCode::Unauthorized,
                "too many unauthenticated connections",
            ));
        }
        if self.is_past_authentication_deadline(session) {
            tracing::warn!(
                remote = %remote,
                timeout_secs = self.options.authentication_timeout.as_secs(),
                "Closing a connection that did not authenticate in time (authenticationTimeoutSecs)"
            );
            return Err(Status::new(
                ErrorCode::Unauthorized,
                "the connection did not authenticate in time",
            ));
        }
        Ok(())
    }

    /// Ends, through `sessions`, every connection still unauthenticated past `authenticationTimeoutSecs`
    /// or over `maxUnauthenticatedConns` (idle ones included: the per-request check never sees them);
    /// returns how many.
    pub fn end_expired_connections(&self, service: &ServiceContext, sessions: &SessionManager) -> usize {
        if !self.options.enabled {
            return 0;
        }
        let mut ended = 0;
        for client in service.clients() {
            if client.is_local() {
                continue;
            }
            let Some(session) = self.session(&client) else {
                continue;
            };
            let (authenticated, over_limit) = {
                let state = session.lock();
                (state.user.is_some(), state.over_limit)
            };
            if authenticated || !(over_limit || self.is_past_authentication_deadline(session)) {
                continue;
            }
            if sessions.end_session(client.connection_id()) {
                tracing::warn!(
                    remote = %client.remote_address().unwrap_or_default(),
                    over_limit,
                    "Ending an unauthenticated connection (authenticationTimeoutSecs, maxUnauthenticatedConns)"
                );
                ended += 1;
            }
        }
        ended
    }

    /// Starts the job that runs [`AuthorizationManager::end_expired_connections`] every second (or
    /// more often for a shorter timeout); `None` without `--auth`. It stops when the handle drops.
    pub fn start_authentication_sweep(
        self: &Arc<Self>,
        service: &ServiceContext,
        sessions: Arc<SessionManager>,
    ) -> StatusResult<Option<PeriodicJobHandle>> {
        if !self.options.enabled {
            return Ok(None);
        }
        let interval = self
            .options
            .authentication_timeout
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(10));
        let manager = Arc::clone(self);
        let job = service.periodic_runner().make_job(PeriodicJob::new(
            "authenticationSweep",
            interval,
            move |client| {
                let service = client.service_context().clone();
                manager.end_expired_connections(&service, &sessions);
            },
        ));
        job.start()?;
        Ok(Some(job))
    }

    /// Whether an unauthenticated connection has outlived `authenticationTimeoutSecs`.
    pub fn is_past_authentication_deadline(&self, session: &AuthorizationSession) -> bool {
        self.clock.now().saturating_duration_since(session.created()) >= self.options.authentication_timeout
    }

    /// The command gate (with `--auth`): Unauthorized (13) unless the connection may run `request`.
    pub fn check_command(
        &self,
        client: &Client,
        transport: Option<&SessionInfo>,
        request: &CommandRequest<'_>,
    ) -> StatusResult<()> {
        if !self.options.enabled {
            return Ok(());
        }
        let needs = requirement(request.name, request.database, request.body);
        if needs == Requirement::Nothing {
            return Ok(());
        }
        let user = self.current_user(client);
        let Some(user) = user else {
            if request.name == "createUser" && self.localhost_exception_applies(client, transport)? {
                return Ok(());
            }
            return Err(Status::new(
                ErrorCode::Unauthorized,
                format!("Command {} requires authentication", request.name),
            ));
        };
        let Requirement::Privileges(privileges) = needs else {
            return Ok(());
        };
        if privileges
            .iter()
            .all(|(action, resource)| user.is_authorized(*action, resource))
            || names_only_self(request, &user.name)
        {
            return Ok(());
        }
        Err(Status::new(
            ErrorCode::Unauthorized,
            format!(
                "not authorized on {} to execute command {}",
                request.database,
                redacted_command(request)
            ),
        ))
    }

    /// Whether the connection's user may do `action` on `resource` (true for everyone without `--auth`).
    pub fn is_authorized(&self, client: &Client, action: ActionType, resource: &Resource) -> bool {
        !self.options.enabled
            || self
                .current_user(client)
                .is_some_and(|u| u.is_authorized(action, resource))
    }

    /// Whether the connection's user has any privilege on database `db` or one of its collections
    /// (mongod's test for listing a database to a user without listDatabases).
    pub fn has_any_privilege_on(&self, client: &Client, db: &str) -> bool {
        use super::privilege::ResourcePattern;
        if !self.options.enabled {
            return true;
        }
        self.current_user(client).is_some_and(|user| {
            user.privileges.iter().any(|p| match &p.resource {
                ResourcePattern::AnyResource | ResourcePattern::AnyNormalResource => true,
                ResourcePattern::Database(d) | ResourcePattern::Collection(d, _) => d == db,
                ResourcePattern::Cluster => false,
            })
        })
    }

    /// The authenticated user, with roles reloaded if users changed since they were loaded (a dropped
    /// user keeps its name and loses every privilege).
    pub fn current_user(&self, client: &Client) -> Option<AuthenticatedUser> {
        let session = self.session(client)?;
        let mut state = session.lock();
        let user = state.user.as_mut()?;
        let generation = self.generation.load(Ordering::Acquire);
        if user.generation != generation {
            let roles = match self.store.get(&user.name) {
                Ok(Some(stored)) => stored.roles,
                Ok(None) => Vec::new(),
                Err(status) => {
                    tracing::warn!(%status, user = %user.name, "cannot reload a user's roles");
                    Vec::new()
                }
            };
            user.privileges = privileges_of(&roles);
            user.roles = roles;
            user.generation = generation;
        }
        Some(user.clone())
    }

    /// mongod's localhost exception: with no user yet, a connection from this host may create the first.
    fn localhost_exception_applies(
        &self,
        client: &Client,
        transport: Option<&SessionInfo>,
    ) -> StatusResult<bool> {
        if !self.options.enable_localhost_auth_bypass {
            return Ok(false);
        }
        let local = match transport {
            Some(info) => info.is_unix() || is_loopback(info.remote()),
            None => client.is_local(),
        };
        Ok(local && !self.store.has_users()?)
    }

    /// saslStart: begins a conversation for `mechanism` on `db` with the client-first `payload`
    /// (`speculative` when it came inside hello).
    pub async fn sasl_start(
        &self,
        client: &Client,
        db: &str,
        mechanism: &str,
        payload: &[u8],
        skip_empty_exchange: bool,
        speculative: bool,
    ) -> StatusResult<SaslReply> {
        let Some(mechanism) = ScramMechanism::from_name(mechanism) else {
            return Err(Status::new(
                ErrorCode::MechanismUnavailable,
                format!("Received authentication for mechanism {mechanism} which is not enabled"),
            ));
        };
        let Some(session) = self.session(client) else {
            return Err(Status::new(
                ErrorCode::InternalError,
                "this connection has no authentication state",
            ));
        };
        session.lock().pending = None;
        self.counters.received(mechanism, speculative);
        let first = match ClientFirst::parse(payload) {
            Ok(first) => first,
            Err(status) => return Err(self.failed(client, db, "", mechanism, &status).await),
        };
        let name = UserName::new(first.user.clone(), db);
        let credential = match self.store.get(&name)? {
            Some(user) => user.credential(mechanism).cloned(),
            None => None,
        };
        let Some(credential) = credential else {
            let status = Status::new(ErrorCode::UserNotFound, format!("Could not find user \"{name}\""));
            return Err(self.failed(client, db, &first.user, mechanism, &status).await);
        };
        let (conversation, reply) = ScramConversation::start(mechanism, &first, credential);
        session.lock().pending = Some(PendingConversation {
            db: db.to_owned(),
            conversation,
            skip_empty_exchange,
            speculative,
        });
        Ok(SaslReply {
            conversation_id: CONVERSATION_ID,
            done: false,
            payload: reply,
        })
    }

    /// saslContinue: the next step of the conversation `conversation_id`.
    pub async fn sasl_continue(
        &self,
        client: &Client,
        conversation_id: i32,
        payload: &[u8],
    ) -> StatusResult<SaslReply> {
        let Some(session) = self.session(client) else {
            return Err(no_conversation());
        };
        let Some(mut pending) = session.lock().pending.take() else {
            return Err(no_conversation());
        };
        if conversation_id != CONVERSATION_ID {
            return Err(Status::new(
                ErrorCode::ProtocolError,
                format!("sasl: Mismatched conversation id {conversation_id}"),
            ));
        }
        let mechanism = pending.conversation.mechanism();
        let user = pending.conversation.user().to_owned();
        let step = match pending.conversation.step(payload, pending.skip_empty_exchange) {
            Ok(step) => step,
            Err(status) => return Err(self.failed(client, &pending.db, &user, mechanism, &status).await),
        };
        let reply = SaslReply {
            conversation_id: CONVERSATION_ID,
            done: step.done,
            payload: step.payload,
        };
        if step.done {
            self.counters.successful(mechanism, pending.speculative);
            self.authenticated(
                client,
                session,
                UserName::new(user, pending.db.clone()),
                mechanism,
            )?;
        } else {
            session.lock().pending = Some(pending);
        }
        Ok(reply)
    }

    /// Records a successful authentication.
    fn authenticated(
        &self,
        client: &Client,
        session: &AuthorizationSession,
        name: UserName,
        mechanism: ScramMechanism,
    ) -> StatusResult<()> {
        let roles = self.store.get(&name)?.map(|u| u.roles).unwrap_or_default();
        tracing::info!(
            remote = %client.remote_address().unwrap_or_default(),
            user = %name.user,
            db = %name.db,
            mechanism = mechanism.name(),
            "Successfully authenticated"
        );
        let mut state = session.lock();
        state.user = Some(AuthenticatedUser {
            privileges: privileges_of(&roles),
            roles,
            name,
            generation: self.generation.load(Ordering::Acquire),
        });
        // Authenticated connections no longer count against maxUnauthenticatedConns.
        state.unauthenticated = None;
        state.over_limit = false;
        Ok(())
    }

    /// A failed attempt: logged with the remote address (never the password or the proof), slowed down
    /// by `authFailedDelayMs`, and answered as mongod does, saying only that it failed.
    async fn failed(
        &self,
        client: &Client,
        db: &str,
        user: &str,
        mechanism: ScramMechanism,
        cause: &Status,
    ) -> Status {
        tracing::warn!(
            remote = %client.remote_address().unwrap_or_default(),
            user,
            db,
            mechanism = mechanism.name(),
            error = %cause.code().code_name(),
            "Authentication failed"
        );
        if let Some(session) = self.session(client) {
            session.lock().pending = None;
        }
        if !self.options.auth_failed_delay.is_zero() {
            let until = self.clock.now().saturating_add(self.options.auth_failed_delay);
            sleep_until(self.clock.as_ref(), until).await;
        }
        authentication_failed()
    }

    /// logout: forgets the user authenticated on `db` (mongod answers ok even if there was none).
    pub fn logout(&self, client: &Client, db: &str) {
        if let Some(session) = self.session(client) {
            let mut state = session.lock();
            if state.user.as_ref().is_some_and(|u| u.name.db == db) {
                state.user = None;
            }
            state.pending = None;
        }
    }

    /// hello's `saslSupportedMechs: "<db>.<user>"`: the user's mechanisms, `None` if no such user.
    pub fn supported_mechanisms(&self, db_user: &str) -> StatusResult<Option<Vec<&'static str>>> {
        self.counters.sasl_supported_mechs_received();
        let Some((db, user)) = db_user.split_once('.') else {
            return Err(Status::new(
                ErrorCode::BadValue,
                "saslSupportedMechs must be of the form <db>.<user>",
            ));
        };
        Ok(self
            .store
            .get(&UserName::new(user, db))?
            .map(|u| u.mechanisms().into_iter().map(ScramMechanism::name).collect()))
    }

    /// connectionStatus' `authInfo`: the authenticated users and their roles (and privileges).
    pub fn auth_info(&self, client: &Client, show_privileges: bool) -> Document {
        let user = self.current_user(client);
        let users: Vec<Bson> = user
            .iter()
            .map(|u| Bson::Document(u.name.to_document()))
            .collect();
        let roles: Vec<Bson> = user
            .iter()
            .flat_map(|u| u.roles.iter().map(|r| Bson::Document(r.to_document())))
            .collect();
        let mut info = bson::doc! {"authenticatedUsers": users, "authenticatedUserRoles": roles};
        if show_privileges {
            let privileges: Vec<Bson> = user
                .iter()
                .flat_map(|u| u.privileges.iter().map(privilege_document))
                .collect();
            info.insert("authenticatedUserPrivileges", privileges);
        }
        info
    }
}

/// The privileges that `roles` grant (unknown roles grant nothing).
pub fn privileges_of(roles: &[RoleName]) -> Vec<Privilege> {
    roles.iter().filter_map(builtin_privileges).flatten().collect()
}

/// A privilege as connectionStatus and usersInfo show it (`{resource, actions}`).
pub fn privilege_document(privilege: &Privilege) -> Bson {
    use super::privilege::ResourcePattern;
    let resource = match &privilege.resource {
        ResourcePattern::AnyResource => bson::doc! {"anyResource": true},
        ResourcePattern::AnyNormalResource => bson::doc! {"db": "", "collection": ""},
        ResourcePattern::Cluster => bson::doc! {"cluster": true},
        ResourcePattern::Database(db) => bson::doc! {"db": db.clone(), "collection": ""},
        ResourcePattern::Collection(db, coll) => bson::doc! {"db": db.clone(), "collection": coll.clone()},
    };
    let actions: Vec<Bson> = privilege.actions.iter().map(|a| Bson::from(a.name())).collect();
    Bson::Document(bson::doc! {"resource": resource, "actions": actions})
}

fn no_conversation() -> Status {
    Status::new(ErrorCode::ProtocolError, "No SASL session state found")
}

fn is_loopback(remote: &str) -> bool {
    remote.parse::<SocketAddr>().is_ok_and(|a| a.ip().is_loopback())
}

/// Whether `request` is a usersInfo about `user` alone, which mongod lets every user run.
fn names_only_self(request: &CommandRequest<'_>, user: &UserName) -> bool {
    if request.name != "usersInfo" {
        return false;
    }
    match request.body.get("usersInfo") {
        Ok(Some(bson::RawBsonRef::String(name))) => name == user.user && request.database == user.db,
        Ok(Some(bson::RawBsonRef::Document(name))) => {
            name.get_str("user").is_ok_and(|u| u == user.user)
                && name.get_str("db").is_ok_and(|d| d == user.db)
        }
        _ => false,
    }
}

/// The command as the Unauthorized message shows it, with passwords and SASL payloads blanked.
fn redacted_command(request: &CommandRequest<'_>) -> String {
    super::redact::to_shell_string(&Document::try_from(request.body).unwrap_or_default())
}
