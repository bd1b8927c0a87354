//! serverStatus' `security.authentication` counters, as mongod reports them: per mechanism, attempts
//! received and successful (all of them, and those that came speculatively inside hello), and how many
//! hellos asked for saslSupportedMechs.

use std::sync::atomic::{AtomicU64, Ordering};

use bson::{Document, doc};

use super::scram::ScramMechanism;

/// One received/successful pair.
#[derive(Debug, Default)]
struct Pair {
    received: AtomicU64,
    successful: AtomicU64,
}

impl Pair {
    fn to_document(&self) -> Document {
        let long = |n: &AtomicU64| i64::try_from(n.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        doc! {"received": long(&self.received), "successful": long(&self.successful)}
    }
}

/// One mechanism's counters.
#[derive(Debug, Default)]
struct MechanismCounters {
    authenticate: Pair,
    speculative: Pair,
}

/// The process's authentication counters.
#[derive(Debug, Default)]
pub struct AuthCounters {
    sha1: MechanismCounters,
    sha256: MechanismCounters,
    sasl_supported_mechs_received: AtomicU64,
}

impl AuthCounters {
    fn of(&self, mechanism: ScramMechanism) -> &MechanismCounters {
        match mechanism {
            ScramMechanism::Sha1 => &self.sha1,
            ScramMechanism::Sha256 => &self.sha256,
        }
    }

    /// An attempt began (speculatively inside hello or not).
    pub fn received(&self, mechanism: ScramMechanism, speculative: bool) {
        let counters = self.of(mechanism);
        counters.authenticate.received.fetch_add(1, Ordering::Relaxed);
        if speculative {
            counters.speculative.received.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An attempt succeeded.
    pub fn successful(&self, mechanism: ScramMechanism, speculative: bool) {
        let counters = self.of(mechanism);
        counters.authenticate.successful.fetch_add(1, Ordering::Relaxed);
        if speculative {
            counters.speculative.successful.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A hello asked for saslSupportedMechs.
    pub fn sasl_supported_mechs_received(&self) {
        self.sasl_supported_mechs_received.fetch_add(1, Ordering::Relaxed);
    }

    /// serverStatus' `security` section.
    pub fn to_document(&self) -> Document {
        let mut mechanisms = Document::new();
        for mechanism in ScramMechanism::ALL {
            let counters = self.of(mechanism);
            mechanisms.insert(
                mechanism.name(),
                doc! {
                    "speculativeAuthenticate": counters.speculative.to_document(),
                    "clusterAuthenticate": {"received": 0_i64, "successful": 0_i64},
                    "authenticate": counters.authenticate.to_document(),
                },
            );
        }
        let asked =
            i64::try_from(self.sasl_supported_mechs_received.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        doc! {"authentication": {"saslSupportedMechsReceived": asked, "mechanisms": mechanisms}}
    }
}
