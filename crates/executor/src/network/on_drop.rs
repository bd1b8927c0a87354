//! `OnDrop`: runs a closure when dropped unless disarmed; how a dropped command future tells its
//! network that it was cancelled.

/// Runs its closure on drop unless [`disarm`](OnDrop::disarm)ed first.
pub struct OnDrop {
    action: Option<Box<dyn FnOnce() + Send>>,
}

impl OnDrop {
    /// Arms `action`.
    pub fn new(action: impl FnOnce() + Send + 'static) -> OnDrop {
        OnDrop {
            action: Some(Box::new(action)),
        }
    }

    /// Drops the action without running it.
    pub fn disarm(mut self) {
        self.action = None;
    }
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(action) = self.action.take() {
            action();
        }
    }
}

impl std::fmt::Debug for OnDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnDrop")
            .field("armed", &self.action.is_some())
            .finish()
    }
}
