//! Server selection: read preferences (mode and tag sets), the latency window, RTT averaging and the
//! power-of-two-choices pick among the servers in the window (the server-selection specification).

use std::time::Duration;

use bson::{Bson, Document};

use super::server_description::{ServerDescription, ServerType};
use super::topology::TopologyType;

/// How far above the fastest server's RTT a server may be and still be chosen (localThresholdMS).
pub const DEFAULT_LOCAL_THRESHOLD: Duration = Duration::from_millis(15);

/// A read preference mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadPreferenceMode {
    /// Only the primary.
    Primary,
    /// The primary, else secondaries.
    PrimaryPreferred,
    /// Only secondaries.
    Secondary,
    /// Secondaries, else the primary.
    SecondaryPreferred,
    /// Any data-bearing member, by latency.
    Nearest,
}

impl ReadPreferenceMode {
    /// Parses the mode's name (as in `$readPreference.mode`, any case).
    pub fn parse(name: &str) -> Option<ReadPreferenceMode> {
        Some(match name.to_ascii_lowercase().as_str() {
            "primary" => ReadPreferenceMode::Primary,
            "primarypreferred" => ReadPreferenceMode::PrimaryPreferred,
            "secondary" => ReadPreferenceMode::Secondary,
            "secondarypreferred" => ReadPreferenceMode::SecondaryPreferred,
            "nearest" => ReadPreferenceMode::Nearest,
            _ => return None,
        })
    }
}

/// A read preference: a mode and tag sets tried in order (an empty set matches every server).
#[derive(Clone, Debug, PartialEq)]
pub struct ReadPreference {
    /// The mode.
    pub mode: ReadPreferenceMode,
    /// Tag sets, in preference order; none means any.
    pub tag_sets: Vec<Document>,
}

impl ReadPreference {
    /// A read preference with `mode` and no tags.
    pub fn new(mode: ReadPreferenceMode) -> ReadPreference {
        ReadPreference {
            mode,
            tag_sets: Vec::new(),
        }
    }

    /// The primary only.
    pub fn primary() -> ReadPreference {
        ReadPreference::new(ReadPreferenceMode::Primary)
    }
}

/// What the selection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A read, under a read preference.
    Read,
    /// A write: the primary (or the single server or mongoses).
    Write,
}

fn matches_tags(server: &ServerDescription, tags: &Document) -> bool {
    tags.iter()
        .all(|(key, value)| server.tags.get(key).is_some_and(|v: &Bson| v == value))
}

/// The servers among `candidates` matching the first tag set that matches any.
fn by_tags<'a>(candidates: Vec<&'a ServerDescription>, tag_sets: &[Document]) -> Vec<&'a ServerDescription> {
    if tag_sets.is_empty() {
        return candidates;
    }
    for tags in tag_sets {
        let matching: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|s| matches_tags(s, tags))
            .collect();
        if !matching.is_empty() {
            return matching;
        }
    }
    Vec::new()
}

/// The servers suitable for `operation` under `read_preference`, before the latency window. Servers in
/// `deprioritized` (ones that just failed this operation) are used only when nothing else is suitable.
pub fn suitable_servers<'a>(
    topology_type: TopologyType,
    servers: &'a [ServerDescription],
    operation: Operation,
    read_preference: &ReadPreference,
    deprioritized: &[String],
) -> Vec<&'a ServerDescription> {
    let preferred: Vec<&ServerDescription> = servers
        .iter()
        .filter(|s| !deprioritized.contains(&s.address))
        .collect();
    let chosen = select_from(topology_type, &preferred, operation, read_preference);
    if !chosen.is_empty() {
        return chosen;
    }
    let all: Vec<&ServerDescription> = servers.iter().collect();
    select_from(topology_type, &all, operation, read_preference)
}

fn select_from<'a>(
    topology_type: TopologyType,
    servers: &[&'a ServerDescription],
    operation: Operation,
    read_preference: &ReadPreference,
) -> Vec<&'a ServerDescription> {
    let of_type = |t: ServerType| -> Vec<&'a ServerDescription> {
        servers.iter().copied().filter(|s| s.server_type == t).collect()
    };
    match topology_type {
        TopologyType::Unknown => Vec::new(),
        TopologyType::Single => servers
            .iter()
            .copied()
            .filter(|s| s.server_type != ServerType::Unknown)
            .collect(),
        TopologyType::Sharded => of_type(ServerType::Mongos),
        TopologyType::ReplicaSetNoPrimary | TopologyType::ReplicaSetWithPrimary => {
            let primary = of_type(ServerType::RSPrimary);
            if operation == Operation::Write {
                return primary;
            }
            let secondaries = || by_tags(of_type(ServerType::RSSecondary), &read_preference.tag_sets);
            match read_preference.mode {
                ReadPreferenceMode::Primary => primary,
                ReadPreferenceMode::PrimaryPreferred if !primary.is_empty() => primary,
                ReadPreferenceMode::PrimaryPreferred | ReadPreferenceMode::Secondary => secondaries(),
                ReadPreferenceMode::SecondaryPreferred => {
                    let secondaries = secondaries();
                    if secondaries.is_empty() {
                        primary
                    } else {
                        secondaries
                    }
                }
                ReadPreferenceMode::Nearest => {
                    let members = servers
                        .iter()
                        .copied()
                        .filter(|s| matches!(s.server_type, ServerType::RSPrimary | ServerType::RSSecondary))
                        .collect();
                    by_tags(members, &read_preference.tag_sets)
                }
            }
        }
    }
}

/// The suitable servers whose RTT is within `threshold` of the fastest.
pub fn in_latency_window<'a>(
    suitable: &[&'a ServerDescription],
    threshold: Duration,
) -> Vec<&'a ServerDescription> {
    let rtt = |s: &ServerDescription| s.round_trip_time.unwrap_or(Duration::ZERO);
    let Some(fastest) = suitable.iter().map(|s| rtt(s)).min() else {
        return Vec::new();
    };
    suitable
        .iter()
        .copied()
        .filter(|s| rtt(s) <= fastest + threshold)
        .collect()
}

/// The new average RTT after a sample: the first sample, then an exponentially weighted average (0.2).
pub fn average_rtt(previous: Option<Duration>, sample: Duration) -> Duration {
    match previous {
        None => sample,
        Some(previous) => previous.mul_f64(0.8) + sample.mul_f64(0.2),
    }
}

/// A small xorshift generator: selection only needs to spread load, not to be unpredictable.
#[derive(Clone, Debug)]
pub struct SelectionRng(u64);

impl SelectionRng {
    /// A generator from `seed` (zero is replaced, as xorshift needs a non-zero state).
    pub fn new(seed: u64) -> SelectionRng {
        SelectionRng(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// A number below `bound` (which must be non-zero).
    pub fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Picks one server of the window: two at random, the one with fewer operations in flight.
pub fn choose<'a>(
    window: &[&'a ServerDescription],
    operation_count: impl Fn(&str) -> usize,
    rng: &mut SelectionRng,
) -> Option<&'a ServerDescription> {
    match window.len() {
        0 => None,
        1 => Some(window[0]),
        n => {
            let first = rng.below(n);
            let mut second = rng.below(n - 1);
            if second >= first {
                second += 1;
            }
            let (a, b) = (window[first], window[second]);
            Some(if operation_count(&b.address) < operation_count(&a.address) {
                b
            } else {
                a
            })
        }
    }
}
