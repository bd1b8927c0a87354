//! `ClientObserver`: hooks other crates register to hear of Client and OperationContext creation and
//! destruction (mongod's `ServiceContext::ClientObserver`).

use crate::{Client, OperationContext};

/// Called as Clients and OperationContexts come and go; every method defaults to doing nothing.
///
/// Creation hooks run after the object and its decorations are built; destruction hooks run before they
/// are dropped. Observers run in registration order on creation and in reverse on destruction.
pub trait ClientObserver: Send + Sync {
    /// A Client was made.
    fn on_create_client(&self, _client: &Client) {}

    /// A Client is about to be destroyed.
    fn on_destroy_client(&self, _client: &Client) {}

    /// An OperationContext was made.
    fn on_create_operation_context(&self, _operation: &OperationContext) {}

    /// An OperationContext is about to be destroyed.
    fn on_destroy_operation_context(&self, _operation: &OperationContext) {}
}
