//! The CRUD scenario every driver runs (tests/drivers/pymongo_crud.py, node_crud.mjs and
//! tests/tests/rust_driver_crud.rs) and what its JSON report must say: the same documents, steps and
//! expected results for each driver, checked step by step so one failure does not hide the others.

use serde_json::{Value, json};

/// How many documents the scenario inserts (`{_id: i, n: i, group: i % 5, tag: "t{i % 3}", sub: {k: i % 7},
/// s: "doc"}` for i in 0..N).
pub const N: i64 = 3000;

/// The batch size of the cursor iterated across many getMores.
pub const GET_MORE_BATCH: i64 = 7;

/// The batch size of the exhaust cursor.
pub const EXHAUST_BATCH: i64 = 50;

/// Whether the driver has an exhaust cursor (pymongo's CursorType.EXHAUST) or reports why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exhaust {
    /// The driver streams the cursor's batches with exhaustAllowed getMores.
    Supported,
    /// The driver has no exhaust cursor; its report says why (`{"supported": false, "reason": ...}`).
    Unsupported,
}

/// The results every driver's report must show, step by step.
pub fn expected_steps() -> Value {
    let ranged: Vec<Value> = (10..20)
        .rev()
        .filter(|i| i % 7 != 0)
        .map(|i| json!({"n": i, "sub": {"k": i % 7}}))
        .collect();
    json!({
        "insertMany": {"inserted": N},
        "find": {"ranged": ranged, "either": [0, 1, 2, N - 3, N - 2, N - 1]},
        "update": {
            "many": {"matched": 600, "modified": 600},
            "upsert": {"matched": 0, "modified": 0, "upsertedId": "up"},
            "again": {"matched": 1, "modified": 0, "upsertedId": null},
            "upserted": {"_id": "up", "n": -1},
            "touched": {"n": 100_010, "touched": true},
        },
        "delete": {"many": 600, "one": 1, "remaining": 2400},
        "findOneAndUpdate": {
            "after": {"_id": 7, "n": 8, "flag": "x"},
            "before": {"_id": 8, "n": 8},
            "missing": null,
        },
        "countDocuments": {"group1": 600, "all": 2400},
        "distinct": {"tags": ["t0", "t1", "t2"], "groups": [1, 2, 3]},
        "aggregate": {"groups": [
            {"_id": 3, "count": 600, "maxN": 2998, "total": 900_300},
            {"_id": 2, "count": 600, "maxN": 2997, "total": 899_701},
            {"_id": 1, "count": 600, "maxN": 2996, "total": 899_100},
        ]},
        "indexes": {
            "created": ["n_1", "tag_n"],
            "listed": ["_id_", "n_1", "tag_n"],
            "afterDrop": ["_id_", "tag_n"],
        },
        "w0": {"acknowledged": false, "visible": 101},
    })
}

/// Every way `report` (`{"driver": ..., "steps": {...}}`) differs from the scenario's expected results;
/// empty when it passes.
pub fn crud_failures(report: &Value, exhaust: Exhaust) -> Vec<String> {
    let steps = &report["steps"];
    let mut failures = Vec::new();
    let Some(expected) = expected_steps().as_object().cloned() else {
        return vec!["the expectations are not an object".into()];
    };
    for (name, want) in expected {
        // A driver may explain how it ran a step (`note`); the results are what count.
        let mut got = steps[&name].clone();
        if let Some(fields) = got.as_object_mut() {
            fields.remove("note");
        }
        if !same(&got, &want) {
            failures.push(format!("{name}: got {got}, want {want}"));
        }
    }
    let cursor = |name: &str, batch: i64, failures: &mut Vec<String>| {
        let got = &steps[name];
        let get_mores = got["getMores"].as_i64().unwrap_or(-1);
        // The first batch comes with the find; every later one needs a getMore.
        let least = (N - 1) / batch;
        if got["count"] != json!(N) || got["distinctIds"] != json!(N) || get_mores < least {
            failures.push(format!(
                "{name}: got {got}, want {N} distinct documents over at least {least} getMores"
            ));
        }
    };
    cursor("getMores", GET_MORE_BATCH, &mut failures);
    match exhaust {
        Exhaust::Supported => cursor("exhaust", EXHAUST_BATCH, &mut failures),
        Exhaust::Unsupported => {
            let got = &steps["exhaust"];
            if got["supported"] != json!(false) || !got["reason"].is_string() {
                failures.push(format!("exhaust: got {got}, want a reason it is unsupported"));
            }
        }
    }
    failures
}

/// Panics with every failure of `report` (and the whole report) unless it passes.
pub fn assert_crud(report: &Value, exhaust: Exhaust) {
    let failures = crud_failures(report, exhaust);
    assert!(
        failures.is_empty(),
        "{} CRUD scenario: {} step(s) failed:\n  {}\nreport: {report}",
        report["driver"],
        failures.len(),
        failures.join("\n  ")
    );
}

/// JSON equality where numbers compare by value (a driver may report 8 as 8.0 or as a 64-bit integer).
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => got == want,
    }
}
