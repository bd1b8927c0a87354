//! What ties later requests to one upstream: open cursors by (cursorId, namespace) and transactions by
//! lsid. Cursor pins expire after a TTL (refreshed by each getMore) and are capped, so clients that abandon
//! cursors cannot grow the table or hold upstream connections without bound. A cursor opened outside a
//! logical session is owned by its upstream connection, so that connection is held with the pin (up to a
//! separate cap; beyond it only the host is pinned).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bson::RawDocumentBuf;
use docwire_pool::{ClientConnection, ConnectionHandle};
use docwire_service::ClockTime;

/// Limits of the pin tables.
#[derive(Clone, Debug)]
pub struct PinOptions {
    /// How long an unused cursor pin lives (mongod's cursorTimeoutMillis: 10 minutes).
    pub cursor_ttl: Duration,
    /// At most this many cursor pins; the least recently used goes first.
    pub max_cursors: usize,
    /// At most this many upstream connections held for session-less cursors.
    pub max_pinned_connections: usize,
    /// How long an idle transaction pin lives (mongod's transactionLifetimeLimitSeconds: 60 s).
    pub transaction_ttl: Duration,
}

impl Default for PinOptions {
    fn default() -> Self {
        PinOptions {
            cursor_ttl: Duration::from_secs(600),
            max_cursors: 10_000,
            max_pinned_connections: 8,
            transaction_ttl: Duration::from_secs(60),
        }
    }
}

/// A cursor's upstream: the host, and the connection when the cursor is owned by it.
pub struct CursorPin {
    /// The host that opened the cursor.
    pub host: String,
    /// The connection that opened a session-less cursor.
    pub connection: Option<ConnectionHandle<ClientConnection>>,
    last_used: ClockTime,
}

struct TransactionPin {
    host: String,
    last_used: ClockTime,
}

#[derive(Default)]
struct Tables {
    cursors: HashMap<(i64, String), CursorPin>,
    transactions: HashMap<Vec<u8>, TransactionPin>,
}

/// The proxy's pins, shared by every client session (a driver may send getMore on another connection).
pub struct Pins {
    options: PinOptions,
    tables: Mutex<Tables>,
}

impl Pins {
    /// Empty tables with `options`' limits.
    pub fn new(options: PinOptions) -> Pins {
        Pins {
            options,
            tables: Mutex::new(Tables::default()),
        }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Pins cursor `id` on `ns` to `host` (with `connection` for a session-less cursor, if the connection
    /// cap allows; otherwise the connection is handed back). Evicts expired pins, then the least recently
    /// used beyond the cap.
    pub fn pin_cursor(
        &self,
        id: i64,
        ns: &str,
        host: &str,
        connection: Option<ConnectionHandle<ClientConnection>>,
        now: ClockTime,
    ) -> Option<ConnectionHandle<ClientConnection>> {
        let mut tables = self.tables();
        self.evict_expired(&mut tables, now);
        let held = tables.cursors.values().filter(|p| p.connection.is_some()).count();
        let (kept, returned) = match connection {
            Some(c) if held < self.options.max_pinned_connections => (Some(c), None),
            other => (None, other),
        };
        tables.cursors.insert(
            (id, ns.to_owned()),
            CursorPin {
                host: host.to_owned(),
                connection: kept,
                last_used: now,
            },
        );
        while tables.cursors.len() > self.options.max_cursors {
            let oldest = tables
                .cursors
                .iter()
                .min_by_key(|(_, pin)| pin.last_used)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => {
                    tables.cursors.remove(&key);
                }
                None => break,
            }
        }
        returned
    }

    /// Takes cursor `id`'s pin for a getMore (the caller puts it back with [`pin_cursor`] if the cursor
    /// stays open). `None`: unknown or expired.
    pub fn take_cursor(&self, id: i64, ns: &str, now: ClockTime) -> Option<CursorPin> {
        let mut tables = self.tables();
        self.evict_expired(&mut tables, now);
        tables.cursors.remove(&(id, ns.to_owned()))
    }

    /// The host of cursor `id` without taking its pin (killCursors).
    pub fn cursor_host(&self, id: i64, ns: &str) -> Option<String> {
        self.tables()
            .cursors
            .get(&(id, ns.to_owned()))
            .map(|p| p.host.clone())
    }

    /// Forgets cursor `id` (killed, exhausted).
    pub fn unpin_cursor(&self, id: i64, ns: &str) {
        self.tables().cursors.remove(&(id, ns.to_owned()));
    }

    /// Forgets every cursor on `host` (it failed: those cursors are gone); returns how many.
    pub fn drop_host(&self, host: &str) -> usize {
        let mut tables = self.tables();
        let before = tables.cursors.len();
        tables.cursors.retain(|_, pin| pin.host != host);
        tables.transactions.retain(|_, pin| pin.host != host);
        before - tables.cursors.len()
    }

    /// Pins the transaction of `lsid` to `host`.
    pub fn pin_transaction(&self, lsid: &RawDocumentBuf, host: &str, now: ClockTime) {
        let mut tables = self.tables();
        self.evict_expired(&mut tables, now);
        tables.transactions.insert(
            lsid.as_bytes().to_vec(),
            TransactionPin {
                host: host.to_owned(),
                last_used: now,
            },
        );
    }

    /// The host `lsid`'s transaction is pinned to, refreshing the pin.
    pub fn transaction_host(&self, lsid: &RawDocumentBuf, now: ClockTime) -> Option<String> {
        let mut tables = self.tables();
        let pin = tables.transactions.get_mut(lsid.as_bytes())?;
        pin.last_used = now;
        Some(pin.host.clone())
    }

    /// Ends `lsid`'s transaction pin (commit, abort, or a failed host).
    pub fn unpin_transaction(&self, lsid: &RawDocumentBuf) {
        self.tables().transactions.remove(lsid.as_bytes());
    }

    /// How many cursors and transactions are pinned, and how many connections the cursors hold.
    pub fn counts(&self) -> (usize, usize, usize) {
        let tables = self.tables();
        let held = tables.cursors.values().filter(|p| p.connection.is_some()).count();
        (tables.cursors.len(), tables.transactions.len(), held)
    }

    fn evict_expired(&self, tables: &mut Tables, now: ClockTime) {
        let (cursor_ttl, txn_ttl) = (self.options.cursor_ttl, self.options.transaction_ttl);
        tables
            .cursors
            .retain(|_, pin| now.saturating_duration_since(pin.last_used) < cursor_ttl);
        tables
            .transactions
            .retain(|_, pin| now.saturating_duration_since(pin.last_used) < txn_ttl);
    }
}

impl CursorPin {
    /// Marks the pin used at `now` (before it is put back).
    pub fn touch(&mut self, now: ClockTime) {
        self.last_used = now;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use bson::rawdoc;
    use docwire_service::{Clock, MockClock};

    fn pins(max_cursors: usize) -> Pins {
        Pins::new(PinOptions {
            max_cursors,
            ..PinOptions::default()
        })
    }

    #[test]
    fn a_cursor_pin_is_found_by_id_and_namespace_until_it_expires() {
        let clock = MockClock::new();
        let pins = pins(10);
        pins.pin_cursor(7, "db.c", "h1:1", None, clock.now());
        assert_eq!(pins.cursor_host(7, "db.c").as_deref(), Some("h1:1"));
        assert_eq!(
            pins.cursor_host(7, "db.other"),
            None,
            "the namespace is part of the key"
        );
        clock.advance(Duration::from_secs(599));
        let mut pin = pins.take_cursor(7, "db.c", clock.now()).expect("still pinned");
        pin.touch(clock.now());
        pins.pin_cursor(7, "db.c", &pin.host, None, clock.now());
        // The getMore refreshed it: 599 s later it is still there, 601 s later it is gone.
        clock.advance(Duration::from_secs(599));
        assert!(pins.take_cursor(7, "db.c", clock.now()).is_some());
        pins.pin_cursor(7, "db.c", "h1:1", None, clock.now());
        clock.advance(Duration::from_secs(601));
        assert!(pins.take_cursor(7, "db.c", clock.now()).is_none());
    }

    #[test]
    fn the_cap_evicts_the_least_recently_used_cursor() {
        let clock = MockClock::new();
        let pins = pins(3);
        for id in 1..=4 {
            pins.pin_cursor(id, "db.c", "h", None, clock.now());
            clock.advance(Duration::from_millis(1));
        }
        assert_eq!(pins.counts().0, 3);
        assert_eq!(pins.cursor_host(1, "db.c"), None, "the oldest went first");
        assert!(pins.cursor_host(4, "db.c").is_some());
    }

    #[test]
    fn a_failed_host_loses_its_cursors_and_transactions() {
        let clock = MockClock::new();
        let pins = pins(10);
        pins.pin_cursor(1, "db.c", "a:1", None, clock.now());
        pins.pin_cursor(2, "db.c", "b:1", None, clock.now());
        let lsid = rawdoc! {"id": 1};
        pins.pin_transaction(&lsid, "a:1", clock.now());
        assert_eq!(pins.drop_host("a:1"), 1);
        assert_eq!(pins.transaction_host(&lsid, clock.now()), None);
        assert_eq!(pins.cursor_host(2, "db.c").as_deref(), Some("b:1"));
    }

    #[test]
    fn transactions_are_pinned_by_lsid_until_unpinned() {
        let clock = MockClock::new();
        let pins = pins(10);
        let (a, b) = (rawdoc! {"id": 1}, rawdoc! {"id": 2});
        pins.pin_transaction(&a, "h1:1", clock.now());
        assert_eq!(pins.transaction_host(&a, clock.now()).as_deref(), Some("h1:1"));
        assert_eq!(pins.transaction_host(&b, clock.now()), None);
        pins.unpin_transaction(&a);
        assert_eq!(pins.transaction_host(&a, clock.now()), None);
    }
}
