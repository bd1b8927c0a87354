//! Binding a Client to the running thread or task: `ThreadClient`, `AlternativeClientRegion`,
//! `ClientStrand` and [`run_with_client`], behind [`Client::current`](crate::Client::current).
//!
//! A thread binding lives in a thread-local and suits dedicated threads; a task binding lives in a tokio
//! task-local and follows the task across worker threads. A thread binding made inside an async task
//! stays with the worker thread, not the task, so async code uses [`run_with_client`].

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::client::{Client, UniqueClient};
use crate::monitor::lock;
use crate::service_context::ServiceContext;

thread_local! {
    static THREAD_CLIENT: RefCell<Option<Arc<Client>>> = const { RefCell::new(None) };
}

tokio::task_local! {
    static TASK_CLIENT: Arc<Client>;
}

/// The Client bound to the current task, else to the current thread.
pub(crate) fn current_client() -> Option<Arc<Client>> {
    if let Ok(client) = TASK_CLIENT.try_with(Arc::clone) {
        return Some(client);
    }
    THREAD_CLIENT.with(|bound| bound.borrow().clone())
}

fn swap_thread_client(client: Option<Arc<Client>>) -> Option<Arc<Client>> {
    THREAD_CLIENT.with(|bound| bound.replace(client))
}

/// Runs `work` with `client` bound to the task running it, wherever that task is polled.
pub async fn run_with_client<F: Future>(client: Arc<Client>, work: F) -> F::Output {
    TASK_CLIENT.scope(client, work).await
}

/// Restores the thread's previous binding when dropped (also when unwinding).
struct ThreadBinding {
    previous: Option<Arc<Client>>,
    // A thread binding must end on the thread that made it.
    _not_send: PhantomData<*const ()>,
}

impl ThreadBinding {
    fn bind(client: &Arc<Client>) -> ThreadBinding {
        ThreadBinding {
            previous: swap_thread_client(Some(Arc::clone(client))),
            _not_send: PhantomData,
        }
    }
}

impl Drop for ThreadBinding {
    fn drop(&mut self) {
        swap_thread_client(self.previous.take());
    }
}

/// Binds a Client to the current thread for its lifetime, and owns it (mongod's `ThreadClient`).
pub struct ThreadClient {
    // Declared first so the thread is unbound before the Client is destroyed.
    _binding: ThreadBinding,
    client: UniqueClient,
}

impl ThreadClient {
    /// Binds `client` to this thread; IllegalOperation if one is already bound (use an
    /// [`AlternativeClientRegion`] to swap temporarily).
    pub fn new(client: UniqueClient) -> StatusResult<ThreadClient> {
        if THREAD_CLIENT.with(|bound| bound.borrow().is_some()) {
            return Err(Status::new(
                ErrorCode::IllegalOperation,
                "a Client is already bound to this thread; use AlternativeClientRegion",
            ));
        }
        let binding = ThreadBinding::bind(client.client());
        Ok(ThreadClient {
            client,
            _binding: binding,
        })
    }

    /// Makes a local Client on `service` named `description` and binds it to this thread.
    pub fn make(service: &ServiceContext, description: impl Into<String>) -> StatusResult<ThreadClient> {
        ThreadClient::new(service.make_client(description, None)?)
    }
}

impl Deref for ThreadClient {
    type Target = UniqueClient;

    fn deref(&self) -> &UniqueClient {
        &self.client
    }
}

impl DerefMut for ThreadClient {
    fn deref_mut(&mut self) -> &mut UniqueClient {
        &mut self.client
    }
}

/// Binds another Client to this thread for a scope, restoring the previous one (if any) on drop
/// (mongod's `AlternativeClientRegion`). The caller keeps ownership of the swapped-in Client.
pub struct AlternativeClientRegion<'a> {
    client: &'a mut UniqueClient,
    _binding: ThreadBinding,
}

impl<'a> AlternativeClientRegion<'a> {
    /// Binds `client` to this thread until the region drops.
    pub fn new(client: &'a mut UniqueClient) -> AlternativeClientRegion<'a> {
        let binding = ThreadBinding::bind(client.client());
        AlternativeClientRegion {
            client,
            _binding: binding,
        }
    }
}

impl Deref for AlternativeClientRegion<'_> {
    type Target = UniqueClient;

    fn deref(&self) -> &UniqueClient {
        self.client
    }
}

impl DerefMut for AlternativeClientRegion<'_> {
    fn deref_mut(&mut self) -> &mut UniqueClient {
        self.client
    }
}

/// Runs work with one Client bound, on whatever thread calls it, one piece of work at a time
/// (mongod's `ClientStrand`). Clones share the Client.
#[derive(Clone)]
pub struct ClientStrand {
    client: Arc<Mutex<UniqueClient>>,
    shared: Arc<Client>,
}

impl ClientStrand {
    /// A strand that owns `client`.
    pub fn new(client: UniqueClient) -> ClientStrand {
        let shared = Arc::clone(client.client());
        ClientStrand {
            client: Arc::new(Mutex::new(client)),
            shared,
        }
    }

    /// The strand's Client.
    pub fn client(&self) -> &Arc<Client> {
        &self.shared
    }

    /// Runs `work` on this thread with the strand's Client bound (waiting for any other work on the
    /// strand to finish first), then restores this thread's previous binding. Work must not call `run`
    /// on the same strand: strands are serial, so that would wait for itself.
    pub fn run<R>(&self, work: impl FnOnce(&mut UniqueClient) -> R) -> R {
        let mut client = lock(&self.client);
        let _binding = ThreadBinding::bind(client.client());
        work(&mut client)
    }
}

impl std::fmt::Debug for ClientStrand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClientStrand").field(&self.shared).finish()
    }
}

impl std::fmt::Debug for ThreadClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ThreadClient").field(&self.client).finish()
    }
}
