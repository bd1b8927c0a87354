//! The SDAM specification tests (../shared/conformance/sdam/{rs,single,errors}) run against
//! `TopologyDescription`. Every file runs, except those listed in `SKIPPED` with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should fail loudly

#[path = "common/conformance.rs"]
mod conformance;

use std::path::Path;
use std::time::Duration;

use bson::{Bson, Document};
use docwire_executor::sdam::{
    ApplicationError, ErrorKind, ErrorPhase, ServerDescription, TopologyDescription, TopologySettings,
};

/// Files that cannot apply to this client, by name, with the reason.
const SKIPPED: &[(&str, &str)] = &[];

fn settings(uri: &str) -> TopologySettings {
    let rest = uri.strip_prefix("mongodb://").unwrap();
    let (hosts, options) = rest.split_once('/').unwrap_or((rest, ""));
    let options = options.strip_prefix('?').unwrap_or(options);
    let seeds = hosts
        .split(',')
        .map(|host| {
            let host = host.to_lowercase();
            let has_port = if host.starts_with('[') {
                host.contains("]:")
            } else {
                host.contains(':')
            };
            if has_port { host } else { format!("{host}:27017") }
        })
        .collect();
    let mut settings = TopologySettings {
        seeds,
        ..TopologySettings::default()
    };
    for option in options.split('&').filter(|o| !o.is_empty()) {
        let (key, value) = option.split_once('=').unwrap();
        match key {
            "replicaSet" => settings.set_name = Some(value.to_owned()),
            "directConnection" => settings.direct_connection = value == "true",
            other => panic!("unexpected URI option {other}"),
        }
    }
    settings
}

fn int(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Int64(v) => Some(*v),
        _ => None,
    }
}

fn application_error(error: &Document) -> ApplicationError {
    let kind = match error.get_str("type").unwrap() {
        "network" => ErrorKind::Network,
        "timeout" => ErrorKind::Timeout,
        "command" => ErrorKind::Command(error.get_document("response").unwrap().clone()),
        other => panic!("unknown error type {other}"),
    };
    ApplicationError {
        address: error.get_str("address").unwrap().to_owned(),
        generation: error.get("generation").and_then(int).map(|g| g as u64),
        phase: match error.get_str("when").unwrap() {
            "beforeHandshakeCompletes" => ErrorPhase::BeforeHandshake,
            _ => ErrorPhase::AfterHandshake,
        },
        max_wire_version: error.get("maxWireVersion").and_then(int).unwrap_or(0) as i32,
        kind,
    }
}

/// Compares `actual` with an expected value, where `Null` expects absence.
fn same(expected: &Bson, actual: Option<Bson>) -> bool {
    match (expected, actual) {
        (Bson::Null, None) => true,
        (expected, Some(actual)) => match (int(expected), int(&actual)) {
            (Some(a), Some(b)) => a == b,
            _ => *expected == actual,
        },
        _ => false,
    }
}

fn check_server(address: &str, expected: &Document, topology: &TopologyDescription) -> Result<(), String> {
    let entry = topology
        .servers
        .get(address)
        .ok_or_else(|| format!("server {address} missing"))?;
    let sd = &entry.description;
    for (key, want) in expected {
        let got: Option<Bson> = match key.as_str() {
            "type" => Some(Bson::String(sd.server_type.name().into())),
            "setName" => sd.set_name.clone().map(Bson::String),
            "setVersion" => sd.set_version.map(Bson::Int64),
            "electionId" => sd.election_id.map(Bson::ObjectId),
            "error" => sd.error.clone().map(Bson::String),
            "topologyVersion" => sd
                .topology_version
                .map(|tv| Bson::Document(bson::doc! {"processId": tv.process_id, "counter": tv.counter})),
            "pool" => Some(Bson::Document(
                bson::doc! {"generation": entry.pool_generation as i64},
            )),
            other => return Err(format!("unexpected server field {other}")),
        };
        let ok = match (key.as_str(), want, &got) {
            ("pool", Bson::Document(want), Some(Bson::Document(got))) => {
                int(want.get("generation").unwrap()) == got.get("generation").and_then(int)
            }
            // The type names match PossiblePrimary as Unknown: the specification's runners compare the
            // type only where the outcome names it, and PossiblePrimary is an Unknown to selection.
            _ => same(want, got.clone()),
        };
        if !ok {
            return Err(format!("{address}.{key}: expected {want}, got {got:?}"));
        }
    }
    Ok(())
}

fn check_outcome(outcome: &Document, topology: &TopologyDescription) -> Result<(), String> {
    let servers = outcome.get_document("servers").unwrap();
    let expected: Vec<&String> = servers.keys().collect();
    let actual: Vec<&String> = topology.servers.keys().collect();
    if expected.len() != actual.len() || expected.iter().any(|a| !topology.servers.contains_key(*a)) {
        return Err(format!("servers: expected {expected:?}, got {actual:?}"));
    }
    for (address, server) in servers {
        check_server(address, server.as_document().unwrap(), topology)?;
    }
    for (key, want) in outcome {
        let got = match key.as_str() {
            "servers" => continue,
            "topologyType" => Some(Bson::String(topology.topology_type.name().into())),
            "setName" => topology.set_name.clone().map(Bson::String),
            "maxSetVersion" => topology.max_set_version.map(Bson::Int64),
            "maxElectionId" => topology.max_election_id.map(Bson::ObjectId),
            "logicalSessionTimeoutMinutes" => topology.logical_session_timeout_minutes().map(Bson::Int64),
            "compatible" => Some(Bson::Boolean(topology.is_compatible())),
            other => return Err(format!("unexpected outcome field {other}")),
        };
        if !same(want, got.clone()) {
            return Err(format!("{key}: expected {want}, got {got:?}"));
        }
    }
    Ok(())
}

fn run_file(path: &Path) -> Result<(), String> {
    let test = conformance::load(path);
    let mut topology = TopologyDescription::new(&settings(test.get_str("uri").unwrap()));
    for (i, phase) in test.get_array("phases").unwrap().iter().enumerate() {
        let phase = phase.as_document().unwrap();
        if let Ok(responses) = phase.get_array("responses") {
            for response in responses {
                let pair = response.as_array().unwrap();
                let address = pair[0].as_str().unwrap();
                let reply = pair[1].as_document().unwrap();
                let sd = ServerDescription::from_hello(address, reply, Some(Duration::from_millis(1)));
                topology.update(sd);
            }
        }
        if let Ok(errors) = phase.get_array("applicationErrors") {
            for error in errors {
                topology.handle_application_error(&application_error(error.as_document().unwrap()));
            }
        }
        check_outcome(phase.get_document("outcome").unwrap(), &topology)
            .map_err(|e| format!("phase {i}: {e}"))?;
    }
    Ok(())
}

#[test]
fn sdam_specification_tests() {
    let root = conformance::root().join("sdam");
    let mut passed = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for folder in ["rs", "single", "errors"] {
        for path in conformance::json_files(&root.join(folder)) {
            let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            if SKIPPED.iter().any(|(skip, _)| *skip == name) {
                skipped += 1;
                continue;
            }
            match run_file(&path) {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
    }
    println!(
        "sdam: {passed} passed, {skipped} skipped, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
