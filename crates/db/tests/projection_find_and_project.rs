//! find's projection and the pipeline's `$project` on the specifications they share (0/1/true/false
//! values, dotted paths, `_id`): the same documents out, field order included, and the same mongod
//! error (code and message) for mixed modes, colliding paths and bad field names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Document, doc};
use docwire_db::pipeline::{NoCollections, Pipeline};
use docwire_db::query::projection::Projection;

/// What a projection did: the projected documents, or the error's code and message.
type Outcome = Result<Vec<Document>, (i32, String)>;

fn by_find(spec: &Document, input: &[Document]) -> Outcome {
    let projection = Projection::parse(spec).map_err(|e| (e.code().code(), e.reason().to_owned()))?;
    Ok(input.iter().map(|d| projection.apply(d)).collect())
}

fn by_project(spec: &Document, input: &[Document]) -> Outcome {
    let pipeline = Pipeline::parse(&[doc! {"$project": spec.clone()}])
        .map_err(|e| (e.code().code(), e.reason().to_owned()))?;
    Ok(pipeline
        .run(input.to_vec(), &NoCollections, &mut || Ok(()))
        .unwrap_or_else(|e| panic!("run {spec}: {}", e.reason())))
}

fn documents() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "a": {"b": 1, "c": 2}, "x": 5, "y": "s"},
        doc! {"_id": 2, "a": [1, {"b": 2, "c": 3}, [{"b": 4}], {"c": 6}], "x": [1, 2]},
        doc! {"x": 1, "_id": 3, "a": 7},
    ]
}

/// Specifications both reject, with mongod's code: mixed modes, colliding paths, bad field names.
fn shared_errors() -> Vec<(Document, i32)> {
    vec![
        (doc! {"a": 1, "b": 0}, 31254),
        (doc! {"a.b": 1, "a.c": 0}, 31254),
        (doc! {"a": 0, "b": 1}, 31253),
        (doc! {"a": 0, "b": true}, 31253),
        (doc! {"a": 1, "a.b": 1}, 31249),
        (doc! {"a.b": 1, "a": 1}, 31250),
        (doc! {"a.b.c": 0, "a.b": 0}, 31250),
        (doc! {"a.": 1}, 15998),
        (doc! {"a..b": 0}, 15998),
        (doc! {"$a": 1}, 16410),
    ]
}

#[test]
fn find_and_project_agree() {
    let input = documents();
    let specs = [
        // Inclusion and exclusion, top-level and dotted, with every form of flag.
        doc! {"x": 1},
        doc! {"x": true, "y": 1.5},
        doc! {"x": 0},
        doc! {"x": false, "y": 0_i64},
        doc! {"a.b": 1},
        doc! {"a.b": 0},
        doc! {"a.b": 1, "a.c": 1},
        doc! {"y": 1, "a.c": 1},
        // _id: kept by default, either way in either mode, and alone it decides the mode.
        doc! {"_id": 0, "x": 1},
        doc! {"x": 1, "_id": 0},
        doc! {"_id": 1, "x": 0},
        doc! {"_id": 0},
        doc! {"_id": 1},
        doc! {"_id.z": 0},
    ];
    let errors = shared_errors().into_iter().map(|(spec, _)| spec);
    for spec in specs.into_iter().chain(errors) {
        let find = by_find(&spec, &input);
        let project = by_project(&spec, &input);
        assert_eq!(format!("{find:?}"), format!("{project:?}"), "projection {spec}");
    }
}

#[test]
fn the_shared_errors_keep_mongods_codes() {
    let input = documents();
    for (spec, code) in shared_errors() {
        for (path, outcome) in [
            ("find", by_find(&spec, &input)),
            ("$project", by_project(&spec, &input)),
        ] {
            let (got, _) = outcome.expect_err(&format!("{path} {spec} should not parse"));
            assert_eq!(got, code, "{path} {spec}");
        }
    }
}

#[test]
fn project_layers_computed_fields_on_the_shared_inclusion() {
    let input = documents();
    let got = by_project(
        &doc! {"a.c": 1, "_id": 0, "a.d": {"$literal": 9}, "t": {"$add": [1, 2]}},
        &input,
    )
    .unwrap();
    let want = vec![
        doc! {"a": {"c": 2, "d": 9}, "t": 3},
        // A scalar element has no `c`: inclusion drops it before `d` is set in every element left.
        doc! {"a": [{"c": 3, "d": 9}, [{"d": 9}], {"c": 6, "d": 9}], "t": 3},
        doc! {"a": {"d": 9}, "t": 3},
    ];
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
    // find has no computed fields; in an exclusion $project one is 31252, before the expression is read.
    assert!(by_find(&doc! {"t": {"$add": [1, 2]}}, &input).is_err());
    let (code, _) = by_project(&doc! {"a": 0, "t": {"$bogus": 1}}, &input).unwrap_err();
    assert_eq!(code, 31252);
}
