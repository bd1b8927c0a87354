//! The server-selection specification tests (../shared/conformance/server-selection: server_selection,
//! in_window, rtt). Every file runs, except those listed in `SKIPPED` with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

#[path = "common/conformance.rs"]
mod conformance;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use bson::{Bson, Document};
use docwire_executor::sdam::{
    DEFAULT_LOCAL_THRESHOLD, Operation, ReadPreference, ReadPreferenceMode, SelectionRng, ServerDescription,
    ServerType, TopologyType, average_rtt, choose, in_latency_window, suitable_servers,
};

/// Files that cannot apply to this client, by name, with the reason.
const SKIPPED: &[(&str, &str)] = &[];

fn millis(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(v) => Some(f64::from(*v)),
        Bson::Int64(v) => Some(*v as f64),
        Bson::Double(v) => Some(*v),
        _ => None,
    }
}

fn server(doc: &Document) -> ServerDescription {
    let mut sd = ServerDescription::unknown(doc.get_str("address").unwrap());
    sd.server_type = match doc.get_str("type").unwrap() {
        "Standalone" => ServerType::Standalone,
        "Mongos" => ServerType::Mongos,
        "PossiblePrimary" => ServerType::PossiblePrimary,
        "RSPrimary" => ServerType::RSPrimary,
        "RSSecondary" => ServerType::RSSecondary,
        "RSArbiter" => ServerType::RSArbiter,
        "RSOther" => ServerType::RSOther,
        "RSGhost" => ServerType::RSGhost,
        "Unknown" => ServerType::Unknown,
        other => panic!("unknown server type {other}"),
    };
    sd.round_trip_time = doc
        .get("avg_rtt_ms")
        .and_then(millis)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0));
    sd.tags = doc.get_document("tags").cloned().unwrap_or_default();
    sd
}

fn topology_type(name: &str) -> TopologyType {
    match name {
        "Unknown" => TopologyType::Unknown,
        "Single" => TopologyType::Single,
        "ReplicaSetNoPrimary" => TopologyType::ReplicaSetNoPrimary,
        "ReplicaSetWithPrimary" => TopologyType::ReplicaSetWithPrimary,
        "Sharded" => TopologyType::Sharded,
        other => panic!("unknown topology type {other}"),
    }
}

fn addresses<'a>(servers: impl IntoIterator<Item = &'a ServerDescription>) -> BTreeSet<String> {
    servers.into_iter().map(|s| s.address.clone()).collect()
}

fn expected(test: &Document, key: &str) -> BTreeSet<String> {
    let list = test.get_array(key).unwrap();
    addresses(
        &list
            .iter()
            .map(|s| server(s.as_document().unwrap()))
            .collect::<Vec<_>>(),
    )
}

fn run_selection(test: &Document) -> Result<(), String> {
    let topology = test.get_document("topology_description").unwrap();
    let kind = topology_type(topology.get_str("type").unwrap());
    let servers: Vec<ServerDescription> = topology
        .get_array("servers")
        .unwrap()
        .iter()
        .map(|s| server(s.as_document().unwrap()))
        .collect();
    let operation = match test.get_str("operation").unwrap_or("read") {
        "write" => Operation::Write,
        _ => Operation::Read,
    };
    let read_preference = test.get_document("read_preference").unwrap();
    let read_preference = ReadPreference {
        mode: ReadPreferenceMode::parse(read_preference.get_str("mode").unwrap_or("primary")).unwrap(),
        tag_sets: read_preference
            .get_array("tag_sets")
            .map(|sets| sets.iter().map(|s| s.as_document().unwrap().clone()).collect())
            .unwrap_or_default(),
    };
    let deprioritized: Vec<String> = test
        .get_array("deprioritized_servers")
        .map(|list| {
            list.iter()
                .map(|s| s.as_document().unwrap().get_str("address").unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let suitable = suitable_servers(kind, &servers, operation, &read_preference, &deprioritized);
    let got = addresses(suitable.iter().copied());
    let want = expected(test, "suitable_servers");
    if got != want {
        return Err(format!("suitable: expected {want:?}, got {got:?}"));
    }
    let window = addresses(in_latency_window(&suitable, DEFAULT_LOCAL_THRESHOLD));
    let want = expected(test, "in_latency_window");
    if window != want {
        return Err(format!("in window: expected {want:?}, got {window:?}"));
    }
    Ok(())
}

fn run_rtt(test: &Document) -> Result<(), String> {
    let ms = |v: &Bson| Duration::from_secs_f64(millis(v).unwrap() / 1000.0);
    let previous = match test.get("avg_rtt_ms").unwrap() {
        Bson::String(s) if s == "NULL" => None,
        other => Some(ms(other)),
    };
    let got = average_rtt(previous, ms(test.get("new_rtt_ms").unwrap()));
    let want = ms(test.get("new_avg_rtt").unwrap());
    if got.abs_diff(want) > Duration::from_micros(1) {
        return Err(format!("expected {want:?}, got {got:?}"));
    }
    Ok(())
}

fn run_in_window(test: &Document) -> Result<(), String> {
    let topology = test.get_document("topology_description").unwrap();
    let servers: Vec<ServerDescription> = topology
        .get_array("servers")
        .unwrap()
        .iter()
        .map(|s| server(s.as_document().unwrap()))
        .collect();
    let counts: HashMap<String, usize> = test
        .get_array("mocked_topology_state")
        .unwrap()
        .iter()
        .map(|s| {
            let s = s.as_document().unwrap();
            let count = s.get("operation_count").and_then(millis).unwrap() as usize;
            (s.get_str("address").unwrap().to_owned(), count)
        })
        .collect();
    let kind = topology_type(topology.get_str("type").unwrap());
    let suitable = suitable_servers(
        kind,
        &servers,
        Operation::Read,
        &ReadPreference::new(ReadPreferenceMode::Nearest),
        &[],
    );
    let window = in_latency_window(&suitable, DEFAULT_LOCAL_THRESHOLD);
    let iterations = test.get("iterations").and_then(millis).unwrap() as usize;
    let mut rng = SelectionRng::new(42);
    let mut picked: HashMap<String, usize> = HashMap::new();
    for _ in 0..iterations {
        let chosen = choose(&window, |a| counts.get(a).copied().unwrap_or(0), &mut rng).unwrap();
        *picked.entry(chosen.address.clone()).or_default() += 1;
    }
    let outcome = test.get_document("outcome").unwrap();
    let tolerance = outcome.get("tolerance").and_then(millis).unwrap();
    for (address, frequency) in outcome.get_document("expected_frequencies").unwrap() {
        let want = millis(frequency).unwrap();
        let got = picked.get(address).copied().unwrap_or(0) as f64 / iterations as f64;
        if (got - want).abs() > tolerance {
            return Err(format!("{address}: expected frequency {want}, got {got}"));
        }
    }
    Ok(())
}

fn run_file(path: &Path) -> Result<(), String> {
    let test = conformance::load(path);
    if test.contains_key("new_rtt_ms") {
        run_rtt(&test)
    } else if test.contains_key("mocked_topology_state") {
        run_in_window(&test)
    } else {
        run_selection(&test)
    }
}

#[test]
fn server_selection_specification_tests() {
    let root = conformance::root().join("server-selection");
    let mut passed = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for path in conformance::json_files(&root) {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        if SKIPPED.iter().any(|(skip, _)| *skip == name) {
            skipped += 1;
            continue;
        }
        match run_file(&path) {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!(
        "server selection: {passed} passed, {skipped} skipped, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
