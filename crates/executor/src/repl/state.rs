//! `ReplState`: one member's view of the role-simulated set (its role, the highest term seen, the
//! primary it knows, what each heartbeat said) and the transitions between roles. Pure: every change
//! takes the time as an argument and says whether what hello reports changed.

use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use docwire_service::ClockTime;

use super::config::ReplSetConfig;

/// This member's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes; its electionId is the state's term.
    Primary,
    /// Refuses writes; may stand for election from `electable_at` on (later after a step-down).
    Secondary {
        /// When the member may become primary again.
        electable_at: ClockTime,
    },
}

/// What the last heartbeat to a member found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Not checked yet.
    Unknown,
    /// It answered, as primary (with its term) or as secondary (`None`).
    Up {
        /// The term it reported as primary, or `None` for a secondary.
        primary_term: Option<u64>,
    },
    /// It did not answer.
    Down,
}

/// What this member knows of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The last heartbeat's finding.
    pub health: Health,
    /// When that heartbeat ended.
    pub last_heartbeat: Option<ClockTime>,
}

/// What one heartbeat (a hello to a member) found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// The member is primary in `term`.
    Primary {
        /// The term of its electionId.
        term: u64,
    },
    /// The member is a secondary.
    Secondary,
    /// No usable reply.
    Failed,
}

/// One member's view of the set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplState {
    /// This member's role.
    pub role: Role,
    /// The highest term seen (this member's own term while it is primary).
    pub term: u64,
    /// The index of the primary this member knows, if any.
    pub primary: Option<usize>,
    /// What each member (by index; this member's own entry is unused) last answered.
    pub peers: Vec<Peer>,
    /// Since when no primary is known.
    pub no_primary_since: ClockTime,
}

impl ReplState {
    /// A member that just started: secondary, electable, knowing no primary, at `now`.
    pub fn new(members: usize, now: ClockTime) -> ReplState {
        let peer = Peer {
            health: Health::Unknown,
            last_heartbeat: None,
        };
        ReplState {
            role: Role::Secondary {
                electable_at: ClockTime::ZERO,
            },
            term: 0,
            primary: None,
            peers: vec![peer; members],
            no_primary_since: now,
        }
    }

    /// Whether this member is primary.
    pub fn is_primary(&self) -> bool {
        self.role == Role::Primary
    }

    fn shape(&self) -> (bool, Option<usize>, u64) {
        (
            self.is_primary(),
            self.primary,
            if self.is_primary() { self.term } else { 0 },
        )
    }

    fn set_primary(&mut self, primary: Option<usize>, now: ClockTime) {
        if primary.is_none() && self.primary.is_some() {
            self.no_primary_since = now;
        }
        self.primary = primary;
    }

    /// Applies what a heartbeat to member `from` found; returns whether hello's answer changed. A
    /// primary that hears of a higher term steps down (mongod's reaction to a newer electionId).
    pub fn on_heartbeat(&mut self, from: usize, heartbeat: Heartbeat, now: ClockTime) -> bool {
        let before = self.shape();
        let Some(peer) = self.peers.get_mut(from) else {
            return false;
        };
        peer.last_heartbeat = Some(now);
        match heartbeat {
            Heartbeat::Primary { term } => {
                peer.health = Health::Up {
                    primary_term: Some(term),
                };
                if term > self.term {
                    self.term = term;
                    if self.is_primary() {
                        self.role = Role::Secondary {
                            electable_at: ClockTime::ZERO,
                        };
                    }
                    self.set_primary(Some(from), now);
                } else if term == self.term && !self.is_primary() {
                    self.set_primary(Some(from), now);
                }
            }
            Heartbeat::Secondary | Heartbeat::Failed => {
                peer.health = if heartbeat == Heartbeat::Failed {
                    Health::Down
                } else {
                    Health::Up { primary_term: None }
                };
                if self.primary == Some(from) {
                    self.set_primary(None, now);
                }
            }
        }
        self.shape() != before
    }

    /// Makes member `me` primary in a new term (replSetStepUp, or an election it stands in); returns
    /// whether it changed anything. CommandFailed while it is barred by a step-down.
    pub fn step_up(&mut self, me: usize, now: ClockTime) -> StatusResult<bool> {
        match self.role {
            Role::Primary => Ok(false),
            Role::Secondary { electable_at } if now < electable_at => Err(Status::new(
                ErrorCode::CommandFailed,
                format!(
                    "Election failed: this member stepped down and may not stand for another {:?}",
                    electable_at.saturating_duration_since(now)
                ),
            )),
            Role::Secondary { .. } => {
                self.term += 1;
                self.role = Role::Primary;
                self.primary = Some(me);
                Ok(true)
            }
        }
    }

    /// Makes the primary a secondary that may not stand for `period` (replSetStepDown). Without
    /// `force` it needs a reachable member to hand over to (ExceededTimeLimit otherwise).
    pub fn step_down(&mut self, period: Duration, force: bool, now: ClockTime) -> StatusResult<()> {
        if !self.is_primary() {
            return Err(Status::new(
                ErrorCode::NotWritablePrimary,
                "not primary so can't step down",
            ));
        }
        let reachable = self.peers.iter().any(|p| matches!(p.health, Health::Up { .. }));
        if !force && !reachable {
            return Err(Status::new(
                ErrorCode::ExceededTimeLimit,
                "No electable secondaries caught up as of the step-down request",
            ));
        }
        self.role = Role::Secondary {
            electable_at: now.saturating_add(period),
        };
        self.set_primary(None, now);
        Ok(())
    }

    /// Whether member `config.me` should stand for election now: a secondary, electable, that has known
    /// no primary for its election timeout (longer the lower its priority).
    pub fn should_stand(&self, config: &ReplSetConfig, now: ClockTime) -> bool {
        let Role::Secondary { electable_at } = self.role else {
            return false;
        };
        let rank = u32::try_from(config.me).unwrap_or(u32::MAX).saturating_add(1);
        let timeout = config.election_timeout.saturating_mul(rank);
        self.primary.is_none()
            && now >= electable_at
            && now.saturating_duration_since(self.no_primary_since) >= timeout
    }

    /// The member a stepping-down primary hands over to: the next reachable one after it in the list
    /// (mongod's election handoff).
    pub fn handoff_target(&self, config: &ReplSetConfig) -> Option<usize> {
        let n = config.members.len();
        (1..n)
            .map(|k| (config.me + k) % n)
            .find(|&i| matches!(self.peers.get(i).map(|p| p.health), Some(Health::Up { .. })))
    }
}
