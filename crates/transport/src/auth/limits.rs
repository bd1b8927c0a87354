//! Authentication settings and abuse limits: `--auth`, mongod's `enableLocalhostAuthBypass` and
//! `authFailedDelayMs`, and docwire's bounds on unauthenticated connections (how many at once, and how
//! long one may take to authenticate).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// docwire's default for `authFailedDelayMs` (mongod's is 0; a delay makes guessing slow).
pub const DEFAULT_AUTH_FAILED_DELAY: Duration = Duration::from_millis(500);
/// docwire's default for `maxUnauthenticatedConns`.
pub const DEFAULT_MAX_UNAUTHENTICATED_CONNS: usize = 1000;
/// docwire's default for `authenticationTimeoutSecs`.
pub const DEFAULT_AUTHENTICATION_TIMEOUT: Duration = Duration::from_secs(60);

/// How authentication is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthOptions {
    /// `--auth`: commands need an authenticated user with the right roles.
    pub enabled: bool,
    /// `enableLocalhostAuthBypass`: a localhost connection may create the first user.
    pub enable_localhost_auth_bypass: bool,
    /// `authFailedDelayMs`: how long a failed authentication waits before it answers.
    pub auth_failed_delay: Duration,
    /// `maxUnauthenticatedConns`: connections beyond this many unauthenticated ones are closed at once
    /// (with `--auth` only).
    pub max_unauthenticated_conns: usize,
    /// `authenticationTimeoutSecs`: an unauthenticated connection older than this is closed at its next
    /// request or by the periodic sweep (with `--auth` only).
    pub authentication_timeout: Duration,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            enabled: false,
            enable_localhost_auth_bypass: true,
            auth_failed_delay: DEFAULT_AUTH_FAILED_DELAY,
            max_unauthenticated_conns: DEFAULT_MAX_UNAUTHENTICATED_CONNS,
            authentication_timeout: DEFAULT_AUTHENTICATION_TIMEOUT,
        }
    }
}

/// Counts unauthenticated connections.
#[derive(Clone, Debug, Default)]
pub(crate) struct UnauthenticatedCount(Arc<AtomicUsize>);

impl UnauthenticatedCount {
    /// A slot if fewer than `max` are taken.
    pub(crate) fn acquire(&self, max: usize) -> Option<UnauthenticatedSlot> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| UnauthenticatedSlot(self.0.clone()))
    }

    /// How many are taken.
    pub(crate) fn current(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// One unauthenticated connection's place in the count; released when dropped (the connection
/// authenticated or ended).
pub(crate) struct UnauthenticatedSlot(Arc<AtomicUsize>);

impl Drop for UnauthenticatedSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl fmt::Debug for UnauthenticatedSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnauthenticatedSlot")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn slots_are_bounded_and_released_on_drop() {
        let count = UnauthenticatedCount::default();
        let a = count.acquire(2).unwrap();
        let _b = count.acquire(2).unwrap();
        assert!(count.acquire(2).is_none());
        drop(a);
        assert_eq!(count.current(), 1);
        assert!(count.acquire(2).is_some());
    }
}
