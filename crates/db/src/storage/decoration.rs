//! The storage engine as a ServiceContext decoration, so every command finds it from its context.

use std::sync::Arc;

use docwire_service::{Decoration, ServiceContext, ServiceContextBuilder};

use super::engine::StorageEngine;

/// Declares the decoration that carries `engine`; read it with `ServiceContext::decoration(key)`.
pub fn declare(
    builder: &mut ServiceContextBuilder,
    engine: Arc<dyn StorageEngine>,
) -> Decoration<ServiceContext, Arc<dyn StorageEngine>> {
    builder.decorate_service_context(move |_| Ok(engine.clone()))
}
