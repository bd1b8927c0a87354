//! `Client`: one logical connection, and the Client lock that guards its changing state.
//!
//! The seed's lock rules are made into types. The owning task holds the only [`UniqueClient`]: it writes
//! through `&mut self` methods that take the lock, and reads its own state without the lock (from an
//! owner-side copy each write keeps in step). Every other task sees an `Arc<Client>`, whose changing state
//! can only be read through [`Client::lock`] and never written:
//!
//! | Internal state | owning task (`UniqueClient`) | other tasks (`Arc<Client>`) |
//! | -------------- | ---------------------------- | --------------------------- |
//! | reads          | always allowed, no lock      | through `lock()` only        |
//! | writes         | takes the lock               | no method exists             |
//!
//! ```compile_fail
//! # fn other_task(client: std::sync::Arc<docwire_service::Client>) {
//! client.set_tags(1); // only the owning UniqueClient can write
//! # }
//! ```

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::client_binding;
use crate::client_metadata::ClientMetadata;
use crate::decoration::{Decorable, Decoration, Decorations};
use crate::monitor::lock;
use crate::operation_context::{OperationContext, OperationHandle};
use crate::service_context::ServiceContext;

/// The transport's view of a connection, as much of it as a Client needs. Implemented by the transport
/// crate's session type; this crate never sees sockets.
pub trait TransportSession: Send + Sync {
    /// The connection id (mongod's `connectionId`, counted from 1).
    fn connection_id(&self) -> u64;

    /// The peer's address as `host:port`, reported as currentOp's `client`.
    fn remote_address(&self) -> String;

    /// Whether the peer is still connected (checked by operations marked kill-on-client-disconnect).
    fn is_connected(&self) -> bool;
}

/// One logical connection: to a driver through a session, or local (connection id 0) for work the
/// server does itself. Shared as `Arc<Client>`; owned by one [`UniqueClient`].
pub struct Client {
    pub(crate) registry_key: u64,
    description: String,
    session: Option<Arc<dyn TransportSession>>,
    service: ServiceContext,
    killed: AtomicBool,
    state: Mutex<ClientState>,
    decorations: Decorations<Client>,
}

/// A Client's changing state, behind the Client lock.
#[derive(Default)]
pub(crate) struct ClientState {
    pub(crate) metadata: Option<Arc<ClientMetadata>>,
    pub(crate) tags: u32,
    pub(crate) operation: Option<Arc<OperationHandle>>,
}

impl Decorable for Client {
    /// A decoration may keep a weak reference to its Client.
    type Link = Weak<Client>;
}

impl Client {
    pub(crate) fn new(
        registry_key: u64,
        description: String,
        session: Option<Arc<dyn TransportSession>>,
        service: ServiceContext,
        decorations: Decorations<Client>,
    ) -> Client {
        Client {
            registry_key,
            description,
            session,
            service,
            killed: AtomicBool::new(false),
            state: Mutex::new(ClientState::default()),
            decorations,
        }
    }

    /// The Client bound to the current task or thread, if any (mongod's `cc()`; prefer passing Clients).
    pub fn current() -> Option<Arc<Client>> {
        client_binding::current_client()
    }

    /// What this Client is for (e.g. `conn12`, or a job's name).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The connection id: the session's, or 0 for a local Client.
    pub fn connection_id(&self) -> u64 {
        self.session.as_ref().map_or(0, |s| s.connection_id())
    }

    /// Whether this is a local Client with no session (connection id 0).
    pub fn is_local(&self) -> bool {
        self.session.is_none()
    }

    /// The session this Client talks over, if any.
    pub fn session(&self) -> Option<&Arc<dyn TransportSession>> {
        self.session.as_ref()
    }

    /// The peer's `host:port`, if this Client has a session.
    pub fn remote_address(&self) -> Option<String> {
        self.session.as_ref().map(|s| s.remote_address())
    }

    /// The ServiceContext that made this Client.
    pub fn service_context(&self) -> &ServiceContext {
        &self.service
    }

    /// Whether this Client was killed (its operations then fail with ClientMarkedKilled).
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// The decoration for `key`.
    pub fn decoration<T: 'static>(&self, key: Decoration<Client, T>) -> Option<&T> {
        self.decorations.get(key)
    }

    /// Takes the Client lock to read this Client's state from another task.
    pub fn lock(&self) -> LockedClient<'_> {
        LockedClient {
            client: self,
            state: lock(&self.state),
        }
    }

    /// Takes the Client lock if no one holds it.
    pub fn try_lock(&self) -> Option<LockedClient<'_>> {
        let state = match self.state.try_lock() {
            Ok(state) => state,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(LockedClient { client: self, state })
    }

    /// Sets the killed flag (an atomic, so killers need no write access to the state it guards).
    pub(crate) fn set_killed(&self) {
        self.killed.store(true, Ordering::Release);
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, ClientState> {
        lock(&self.state)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("description", &self.description)
            .field("connection_id", &self.connection_id())
            .finish_non_exhaustive()
    }
}

/// A Client's state read under the Client lock; read-only.
pub struct LockedClient<'a> {
    client: &'a Client,
    state: MutexGuard<'a, ClientState>,
}

impl LockedClient<'_> {
    /// The locked Client.
    pub fn client(&self) -> &Client {
        self.client
    }

    /// The Client's current operation, if one is running.
    pub fn operation(&self) -> Option<&Arc<OperationHandle>> {
        self.state.operation.as_ref()
    }

    /// The handshake metadata, once the driver has sent it.
    pub fn metadata(&self) -> Option<&ClientMetadata> {
        self.state.metadata.as_deref()
    }

    /// The application name from the metadata.
    pub fn app_name(&self) -> Option<&str> {
        self.metadata().and_then(ClientMetadata::app_name)
    }

    /// The Client's tags (a bit mask; see mongod's session tags).
    pub fn tags(&self) -> u32 {
        self.state.tags
    }
}

/// The owning handle of a Client: the one place its state is written. Not `Clone`; dropping it
/// unregisters the Client.
pub struct UniqueClient {
    client: Arc<Client>,
    // The owner's copy of what it wrote, so the owner reads without the lock.
    metadata: Option<Arc<ClientMetadata>>,
    tags: u32,
}

impl UniqueClient {
    pub(crate) fn new(client: Arc<Client>) -> UniqueClient {
        UniqueClient {
            client,
            metadata: None,
            tags: 0,
        }
    }

    /// The shared Client, for handing to other tasks (which may only read it under its lock).
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// The handshake metadata (owner read: no lock).
    pub fn metadata(&self) -> Option<&ClientMetadata> {
        self.metadata.as_deref()
    }

    /// The application name from the metadata (owner read: no lock).
    pub fn app_name(&self) -> Option<&str> {
        self.metadata().and_then(ClientMetadata::app_name)
    }

    /// The tags (owner read: no lock).
    pub fn tags(&self) -> u32 {
        self.tags
    }

    /// Records the handshake metadata; only once per connection (ClientMetadataCannotBeMutated after).
    pub fn set_metadata(&mut self, metadata: ClientMetadata) -> StatusResult<()> {
        if self.metadata.is_some() {
            return Err(Status::new(
                ErrorCode::ClientMetadataCannotBeMutated,
                "The client metadata document may only be sent in the first hello",
            ));
        }
        let metadata = Arc::new(metadata);
        self.client.state().metadata = Some(Arc::clone(&metadata));
        self.metadata = Some(metadata);
        Ok(())
    }

    /// Replaces the tags (owner write: under the lock).
    pub fn set_tags(&mut self, tags: u32) {
        self.client.state().tags = tags;
        self.tags = tags;
    }

    /// Makes this Client's operation. A Client runs one at a time: while one is live (and not delisted)
    /// this returns IllegalOperation.
    pub fn make_operation_context(&mut self) -> StatusResult<OperationContext> {
        OperationContext::make(&self.client)
    }
}

impl Deref for UniqueClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl fmt::Debug for UniqueClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UniqueClient").field(&self.client).finish()
    }
}

impl Drop for UniqueClient {
    fn drop(&mut self) {
        self.client.service.forget_client(&self.client);
    }
}
