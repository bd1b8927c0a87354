//! Pipeline stages, table-driven from MongoDB's documented examples: $match (with $expr), $project,
//! $addFields/$set, $unset, $sort, $skip, $limit, $count, $unwind, $replaceRoot/$replaceWith,
//! $sortByCount; plus the interrupt check, early stop at $limit, and the helpers the command layer
//! uses (leading_match, is_count_only, explain).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, Document, doc};
use docwire_db::pipeline::{CHECK_INTERVAL, NoCollections, Pipeline};
use docwire_rpc::{ErrorCode, Status};

fn run(input: &[Document], pipeline: &[Document]) -> Vec<Document> {
    Pipeline::parse(pipeline)
        .unwrap_or_else(|e| panic!("parse {pipeline:?}: {}", e.reason()))
        .run(input.to_vec(), &NoCollections, &mut || Ok(()))
        .unwrap_or_else(|e| panic!("run {pipeline:?}: {}", e.reason()))
}

/// Field order and value types matter.
fn assert_docs(got: &[Document], want: &[Document]) {
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

fn check(input: &[Document], cases: Vec<(Vec<Document>, Vec<Document>)>) {
    for (pipeline, want) in cases {
        let got = run(input, &pipeline);
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "pipeline {pipeline:?}");
    }
}

fn books() -> Vec<Document> {
    vec![doc! {
        "_id": 1, "title": "abc123", "isbn": "0001122223334",
        "author": {"last": "zzz", "first": "aaa"}, "copies": 5, "lastModified": "2016-07-28",
    }]
}

#[test]
fn project_inclusion_exclusion_and_computed() {
    check(
        &books(),
        vec![
            (
                vec![doc! {"$project": {"title": 1, "author": 1}}],
                vec![doc! {"_id": 1, "title": "abc123", "author": {"last": "zzz", "first": "aaa"}}],
            ),
            (
                vec![doc! {"$project": {"_id": 0, "title": 1, "author": 1}}],
                vec![doc! {"title": "abc123", "author": {"last": "zzz", "first": "aaa"}}],
            ),
            (
                vec![doc! {"$project": {"lastModified": 0}}],
                vec![doc! {
                    "_id": 1, "title": "abc123", "isbn": "0001122223334",
                    "author": {"last": "zzz", "first": "aaa"}, "copies": 5,
                }],
            ),
            (
                vec![doc! {"$project": {"author.first": 0, "lastModified": 0}}],
                vec![doc! {
                    "_id": 1, "title": "abc123", "isbn": "0001122223334", "author": {"last": "zzz"}, "copies": 5,
                }],
            ),
            (
                vec![doc! {"$project": {"author": {"first": 0}, "lastModified": 0, "isbn": 0, "copies": 0}}],
                vec![doc! {"_id": 1, "title": "abc123", "author": {"last": "zzz"}}],
            ),
            (
                vec![doc! {"$project": {"_id": 0}}],
                vec![doc! {
                    "title": "abc123", "isbn": "0001122223334",
                    "author": {"last": "zzz", "first": "aaa"}, "copies": 5, "lastModified": "2016-07-28",
                }],
            ),
            // MongoDB's computed-fields example (with $substrCP for $substr).
            (
                vec![doc! {"$project": {
                    "title": 1,
                    "isbn": {
                        "prefix": {"$substrCP": ["$isbn", 0, 3]},
                        "group": {"$substrCP": ["$isbn", 3, 2]},
                        "publisher": {"$substrCP": ["$isbn", 5, 4]},
                        "title": {"$substrCP": ["$isbn", 9, 3]},
                        "checkDigit": {"$substrCP": ["$isbn", 12, 1]},
                    },
                    "lastName": "$author.last",
                    "copiesSold": "$copies",
                }}],
                vec![doc! {
                    "_id": 1, "title": "abc123",
                    "isbn": {"prefix": "000", "group": "11", "publisher": "2222", "title": "333", "checkDigit": "4"},
                    "lastName": "zzz", "copiesSold": 5,
                }],
            ),
            // Included fields keep the document's order; computed ones follow in spec order.
            (
                vec![doc! {"$project": {"n": {"$literal": 1}, "copies": 1, "title": 1}}],
                vec![doc! {"_id": 1, "title": "abc123", "copies": 5, "n": 1}],
            ),
            // $$REMOVE leaves the field out; a missing value too.
            (
                vec![doc! {"$project": {
                    "title": 1,
                    "author.first": 1,
                    "author.middle": {"$cond": {"if": {"$eq": ["", "$author.middle"]}, "then": "$$REMOVE", "else": "$author.middle"}},
                    "gone": "$nothing",
                }}],
                vec![doc! {"_id": 1, "title": "abc123", "author": {"first": "aaa"}}],
            ),
            (
                vec![doc! {"$project": {"_id": 0, "myArray": ["$copies", "$title", "$someField"]}}],
                vec![doc! {"myArray": [5, "abc123", Bson::Null]}],
            ),
            (
                vec![doc! {"$project": {"_id": 0, "literal": "text", "yes": true}}],
                vec![doc! {"literal": "text"}],
            ),
        ],
    );
}

#[test]
fn project_computed_id() {
    // Where a computed _id lands among the fields is not documented; compare ignoring order.
    let got = run(&books(), &[doc! {"$project": {"_id": "$title", "copies": 1}}]);
    assert_eq!(got, vec![doc! {"_id": "abc123", "copies": 5}]);
}

#[test]
fn project_through_arrays() {
    let input = vec![doc! {"_id": 1, "a": [{"b": 1, "c": 2}, 3, {"c": 4}, [{"b": 5}]]}];
    check(
        &input,
        vec![
            (
                vec![doc! {"$project": {"a.b": 1}}],
                vec![doc! {"_id": 1, "a": [{"b": 1}, {}, [{"b": 5}]]}],
            ),
            (
                vec![doc! {"$project": {"a.b": 0}}],
                vec![doc! {"_id": 1, "a": [{"c": 2}, 3, {"c": 4}, [{}]]}],
            ),
            // A computed subfield goes into every element; a scalar element becomes a document.
            (
                vec![doc! {"$project": {"_id": 0, "a.x": {"$literal": 7}}}],
                vec![doc! {"a": [{"x": 7}, {"x": 7}, [{"x": 7}]]}],
            ),
            (
                vec![doc! {"$addFields": {"a.x": 7}}],
                vec![
                    doc! {"_id": 1, "a": [{"b": 1, "c": 2, "x": 7}, {"x": 7}, {"c": 4, "x": 7}, [{"b": 5, "x": 7}]]},
                ],
            ),
        ],
    );
}

#[test]
fn add_fields_set_and_unset() {
    let scores = vec![
        doc! {"_id": 1, "student": "Maya", "homework": [10, 5, 10], "quiz": [10, 8], "extraCredit": 0},
        doc! {"_id": 2, "student": "Ryan", "homework": [5, 6, 5], "quiz": [8, 8], "extraCredit": 8},
    ];
    // MongoDB's $addFields example.
    check(
        &scores,
        vec![(
            vec![
                doc! {"$addFields": {"totalHomework": {"$sum": "$homework"}, "totalQuiz": {"$sum": "$quiz"}}},
                doc! {"$addFields": {"totalScore": {"$add": ["$totalHomework", "$totalQuiz", "$extraCredit"]}}},
            ],
            vec![
                doc! {"_id": 1, "student": "Maya", "homework": [10, 5, 10], "quiz": [10, 8], "extraCredit": 0,
                "totalHomework": 25, "totalQuiz": 18, "totalScore": 43},
                doc! {"_id": 2, "student": "Ryan", "homework": [5, 6, 5], "quiz": [8, 8], "extraCredit": 8,
                "totalHomework": 16, "totalQuiz": 16, "totalScore": 40},
            ],
        )],
    );
    let vehicles = vec![doc! {"_id": 1, "type": "car", "specs": {"doors": 4, "wheels": 4}}];
    check(
        &vehicles,
        vec![
            (
                vec![doc! {"$addFields": {"specs.fuel_type": "unleaded"}}],
                vec![
                    doc! {"_id": 1, "type": "car", "specs": {"doors": 4, "wheels": 4, "fuel_type": "unleaded"}},
                ],
            ),
            // A nested document of fields merges into the embedded document too.
            (
                vec![doc! {"$set": {"specs": {"fuel_type": "unleaded"}}}],
                vec![
                    doc! {"_id": 1, "type": "car", "specs": {"doors": 4, "wheels": 4, "fuel_type": "unleaded"}},
                ],
            ),
            // Overwriting keeps the field's position; numbers are literals here.
            (
                vec![doc! {"$addFields": {"_id": "$type", "type": 1}}],
                vec![doc! {"_id": "car", "type": 1, "specs": {"doors": 4, "wheels": 4}}],
            ),
            (
                vec![doc! {"$addFields": {"type": "$$REMOVE", "e": {}}}],
                vec![doc! {"_id": 1, "specs": {"doors": 4, "wheels": 4}, "e": {}}],
            ),
            (
                vec![doc! {"$addFields": {"type.x": 1}}],
                vec![doc! {"_id": 1, "type": {"x": 1}, "specs": {"doors": 4, "wheels": 4}}],
            ),
            (
                vec![doc! {"$addFields": {}}],
                vec![doc! {"_id": 1, "type": "car", "specs": {"doors": 4, "wheels": 4}}],
            ),
        ],
    );
    // MongoDB's $unset example.
    let books = vec![doc! {
        "_id": 1, "title": "Antelope Antics", "isbn": "0001122223334",
        "author": {"last": "An", "first": "Auntie"},
        "copies": [{"warehouse": "A", "qty": 5}, {"warehouse": "B", "qty": 15}],
    }];
    check(
        &books,
        vec![
            (
                vec![doc! {"$unset": ["isbn", "author.first", "copies.warehouse"]}],
                vec![
                    doc! {"_id": 1, "title": "Antelope Antics", "author": {"last": "An"}, "copies": [{"qty": 5}, {"qty": 15}]},
                ],
            ),
            (
                vec![doc! {"$unset": "copies"}],
                vec![
                    doc! {"_id": 1, "title": "Antelope Antics", "isbn": "0001122223334", "author": {"last": "An", "first": "Auntie"}},
                ],
            ),
        ],
    );
}

#[test]
fn match_sort_skip_limit() {
    let input: Vec<Document> = vec![
        doc! {"_id": 1, "author": "dave", "score": 80, "views": 100},
        doc! {"_id": 2, "author": "dave", "score": 85, "views": 521},
        doc! {"_id": 3, "author": "ahn", "score": 60, "views": 1000},
        doc! {"_id": 4, "author": "li", "score": 55, "views": 5000},
        doc! {"_id": 5, "author": "annT", "score": 60, "views": 50},
        doc! {"_id": 6, "author": "li", "score": 94, "views": 999},
        doc! {"_id": 7, "author": "ty", "score": 95, "views": 1000},
    ];
    let ids = |docs: Vec<Document>| docs.iter().map(|d| d.get_i32("_id").unwrap()).collect::<Vec<_>>();
    let ids_of = |pipeline: Vec<Document>| ids(run(&input, &pipeline));
    assert_eq!(ids_of(vec![doc! {"$match": {"author": "dave"}}]), vec![1, 2]);
    assert_eq!(
        ids_of(vec![
            doc! {"$match": {"$or": [{"score": {"$gt": 70, "$lt": 90}}, {"views": {"$gte": 1000}}]}}
        ]),
        vec![1, 2, 3, 4, 7]
    );
    assert_eq!(
        ids_of(vec![
            doc! {"$match": {"$expr": {"$gt": ["$views", {"$multiply": ["$score", 10]}]}}}
        ]),
        vec![3, 4, 6, 7]
    );
    assert_eq!(
        ids_of(vec![
            doc! {"$match": {"author": "li", "$expr": {"$gt": ["$score", 60]}}}
        ]),
        vec![6]
    );
    assert_eq!(
        ids_of(vec![doc! {"$sort": {"score": -1, "_id": 1}}]),
        vec![7, 6, 2, 1, 3, 5, 4]
    );
    assert_eq!(
        ids_of(vec![doc! {"$sort": {"score": 1, "views": -1}}]),
        vec![4, 3, 5, 1, 2, 6, 7]
    );
    assert_eq!(ids_of(vec![doc! {"$skip": 5}]), vec![6, 7]);
    assert_eq!(ids_of(vec![doc! {"$skip": 50}]), Vec::<i32>::new());
    assert_eq!(ids_of(vec![doc! {"$limit": 2}]), vec![1, 2]);
    assert_eq!(ids_of(vec![doc! {"$limit": 2_i64}, doc! {"$skip": 1}]), vec![2]);
    assert_eq!(
        ids_of(vec![doc! {"$sort": {"views": -1}}, doc! {"$limit": 3}]),
        vec![4, 3, 7]
    );
    assert_eq!(
        ids_of(vec![
            doc! {"$sort": {"views": 1}},
            doc! {"$skip": 1},
            doc! {"$limit": 2.0}
        ]),
        vec![1, 2]
    );
    assert_eq!(ids_of(vec![]), vec![1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn sort_with_limit_keeps_the_best_of_many() {
    // Enough documents for the bounded $sort + $limit buffer to trim several times.
    let input: Vec<Document> = (0..1000)
        .map(|i| doc! {"_id": i, "k": (i * 7919) % 1000, "tie": i % 3})
        .collect();
    let got = run(&input, &[doc! {"$sort": {"tie": 1, "k": -1}}, doc! {"$limit": 5}]);
    let mut expected = input.clone();
    expected.sort_by_key(|d| (d.get_i32("tie").unwrap(), -d.get_i32("k").unwrap()));
    expected.truncate(5);
    assert_docs(&got, &expected);
}

#[test]
fn count_and_sort_by_count() {
    // MongoDB's $count example.
    let scores: Vec<Document> = [88, 92, 97, 71, 79, 83]
        .iter()
        .enumerate()
        .map(|(i, s)| doc! {"_id": i as i32 + 1, "subject": "History", "score": *s})
        .collect();
    check(
        &scores,
        vec![
            (
                vec![
                    doc! {"$match": {"score": {"$gt": 80}}},
                    doc! {"$count": "passing_scores"},
                ],
                vec![doc! {"passing_scores": 4}],
            ),
            // No input, no count document.
            (
                vec![doc! {"$match": {"score": {"$gt": 100}}}, doc! {"$count": "n"}],
                vec![],
            ),
        ],
    );
    let exhibits = vec![
        doc! {"_id": 1, "tags": ["painting", "satire", "Expressionism", "caricature"]},
        doc! {"_id": 2, "tags": ["woodcut", "Expressionism"]},
        doc! {"_id": 3, "tags": ["oil", "Surrealism", "painting"]},
        doc! {"_id": 4, "tags": ["satire", "caricature"]},
        doc! {"_id": 5, "tags": ["Surrealism", "painting", "caricature"]},
    ];
    let got = run(
        &exhibits,
        &[doc! {"$unwind": "$tags"}, doc! {"$sortByCount": "$tags"}],
    );
    let counts: Vec<(String, i32)> = got
        .iter()
        .map(|d| (d.get_str("_id").unwrap().to_owned(), d.get_i32("count").unwrap()))
        .collect();
    assert_eq!(counts.len(), 7);
    assert_eq!(&counts[..2].iter().map(|c| c.1).collect::<Vec<_>>(), &[3, 3]);
    let mut top: Vec<&str> = counts[..2].iter().map(|c| c.0.as_str()).collect();
    top.sort_unstable();
    assert_eq!(top, ["caricature", "painting"]);
    assert!(counts.windows(2).all(|w| w[0].1 >= w[1].1));
    assert_eq!(counts.iter().map(|c| c.1).sum::<i32>(), 14);
}

#[test]
fn unwind_forms_and_options() {
    // MongoDB's $unwind example inventory.
    let input = vec![
        doc! {"_id": 1, "item": "ABC", "sizes": ["S", "M", "L"]},
        doc! {"_id": 2, "item": "EFG", "sizes": []},
        doc! {"_id": 3, "item": "IJK", "sizes": "M"},
        doc! {"_id": 4, "item": "LMN"},
        doc! {"_id": 5, "item": "XYZ", "sizes": Bson::Null},
    ];
    check(
        &input,
        vec![
            (
                vec![doc! {"$unwind": "$sizes"}],
                vec![
                    doc! {"_id": 1, "item": "ABC", "sizes": "S"},
                    doc! {"_id": 1, "item": "ABC", "sizes": "M"},
                    doc! {"_id": 1, "item": "ABC", "sizes": "L"},
                    doc! {"_id": 3, "item": "IJK", "sizes": "M"},
                ],
            ),
            (
                vec![doc! {"$unwind": {"path": "$sizes", "preserveNullAndEmptyArrays": true}}],
                vec![
                    doc! {"_id": 1, "item": "ABC", "sizes": "S"},
                    doc! {"_id": 1, "item": "ABC", "sizes": "M"},
                    doc! {"_id": 1, "item": "ABC", "sizes": "L"},
                    doc! {"_id": 2, "item": "EFG"},
                    doc! {"_id": 3, "item": "IJK", "sizes": "M"},
                    doc! {"_id": 4, "item": "LMN"},
                    doc! {"_id": 5, "item": "XYZ", "sizes": Bson::Null},
                ],
            ),
            (
                vec![doc! {"$unwind": {"path": "$sizes", "includeArrayIndex": "arrayIndex"}}],
                vec![
                    doc! {"_id": 1, "item": "ABC", "sizes": "S", "arrayIndex": 0_i64},
                    doc! {"_id": 1, "item": "ABC", "sizes": "M", "arrayIndex": 1_i64},
                    doc! {"_id": 1, "item": "ABC", "sizes": "L", "arrayIndex": 2_i64},
                    doc! {"_id": 3, "item": "IJK", "sizes": "M", "arrayIndex": Bson::Null},
                ],
            ),
            (
                vec![
                    doc! {"$unwind": {"path": "$sizes", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}},
                ],
                vec![
                    doc! {"_id": 1, "item": "ABC", "sizes": "S", "i": 0_i64},
                    doc! {"_id": 1, "item": "ABC", "sizes": "M", "i": 1_i64},
                    doc! {"_id": 1, "item": "ABC", "sizes": "L", "i": 2_i64},
                    doc! {"_id": 2, "item": "EFG", "i": Bson::Null},
                    doc! {"_id": 3, "item": "IJK", "sizes": "M", "i": Bson::Null},
                    doc! {"_id": 4, "item": "LMN", "i": Bson::Null},
                    doc! {"_id": 5, "item": "XYZ", "sizes": Bson::Null, "i": Bson::Null},
                ],
            ),
        ],
    );
    // Dotted paths through embedded documents.
    check(
        &[doc! {"_id": 1, "a": {"b": [1, 2], "c": 0}}],
        vec![(
            vec![doc! {"$unwind": "$a.b"}],
            vec![
                doc! {"_id": 1, "a": {"b": 1, "c": 0}},
                doc! {"_id": 1, "a": {"b": 2, "c": 0}},
            ],
        )],
    );
}

#[test]
fn replace_root_and_replace_with() {
    // MongoDB's $replaceRoot example with $mergeObjects defaults.
    let people = vec![
        doc! {"_id": 1, "name": "Arlene", "age": 34, "pets": {"dogs": 2, "cats": 1}},
        doc! {"_id": 2, "name": "Sam", "age": 41, "pets": {"cats": 1, "fish": 3}},
        doc! {"_id": 3, "name": "Maria", "age": 25},
    ];
    check(
        &people,
        vec![
            (
                vec![
                    doc! {"$replaceRoot": {"newRoot": {"$mergeObjects": [{"dogs": 0, "cats": 0, "birds": 0, "fish": 0}, "$pets"]}}},
                ],
                vec![
                    doc! {"dogs": 2, "cats": 1, "birds": 0, "fish": 0},
                    doc! {"dogs": 0, "cats": 1, "birds": 0, "fish": 3},
                    doc! {"dogs": 0, "cats": 0, "birds": 0, "fish": 0},
                ],
            ),
            (
                vec![
                    doc! {"$match": {"pets": {"$exists": true}}},
                    doc! {"$replaceWith": "$pets"},
                ],
                vec![doc! {"dogs": 2, "cats": 1}, doc! {"cats": 1, "fish": 3}],
            ),
            (
                vec![doc! {"$replaceWith": {"who": "$name"}}, doc! {"$limit": 1}],
                vec![doc! {"who": "Arlene"}],
            ),
        ],
    );
    let err = Pipeline::parse(&[doc! {"$replaceRoot": {"newRoot": "$pets"}}])
        .unwrap()
        .run(people, &NoCollections, &mut || Ok(()))
        .unwrap_err();
    assert_eq!(err.code().code(), 40228);
}

#[test]
fn check_runs_periodically_and_stops_the_run() {
    let input: Vec<Document> = (0..5000).map(|i| doc! {"_id": i}).collect();
    let pipeline = Pipeline::parse(&[doc! {"$match": {}}]).unwrap();
    let mut calls = 0;
    let out = pipeline
        .run(input.clone(), &NoCollections, &mut || {
            calls += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(out.len(), 5000);
    assert!(calls >= 5000 / CHECK_INTERVAL as usize, "{calls} checks");
    let mut calls = 0;
    let err = pipeline
        .run(input, &NoCollections, &mut || {
            calls += 1;
            if calls == 2 {
                Err(Status::new(
                    ErrorCode::MaxTimeMSExpired,
                    "operation exceeded time limit",
                ))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(err.code().code(), 50);
}

#[test]
fn limit_stops_reading_the_input() {
    let pipeline = Pipeline::parse(&[doc! {"$match": {"even": true}}, doc! {"$limit": 3}]).unwrap();
    let mut read = 0;
    let input = (0..).map(|i| {
        read += 1;
        Ok(doc! {"_id": i, "even": i % 2 == 0})
    });
    let out = pipeline.run_iter(input, &NoCollections, &mut || Ok(())).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(read, 5);
    // An input error ends the run with that error.
    let failing = vec![
        Ok(doc! {"_id": 1}),
        Err(Status::new(ErrorCode::InternalError, "disk")),
    ];
    let err = Pipeline::parse(&[])
        .unwrap()
        .run_iter(failing, &NoCollections, &mut || Ok(()))
        .unwrap_err();
    assert_eq!(err.code().code(), 1);
}

#[test]
fn helpers_for_the_command_layer() {
    let p = Pipeline::parse(&[
        doc! {"$match": {"a": 1, "$expr": {"$eq": ["$b", 2]}}},
        doc! {"$limit": 1},
    ])
    .unwrap();
    assert_eq!(p.leading_match(), Some(&doc! {"a": 1}));
    assert!(!p.is_count_only());
    let p = Pipeline::parse(&[doc! {"$sort": {"a": 1}}, doc! {"$match": {"a": 1}}]).unwrap();
    assert_eq!(p.leading_match(), None);
    let p = Pipeline::parse(&[doc! {"$match": {"a": {"$gt": 1}}}, doc! {"$count": "n"}]).unwrap();
    assert!(p.is_count_only());
    assert_eq!(p.count_field(), Some("n"));
    assert_eq!(p.leading_match(), Some(&doc! {"a": {"$gt": 1}}));
    assert!(Pipeline::parse(&[doc! {"$count": "n"}]).unwrap().is_count_only());
    assert!(
        !Pipeline::parse(&[doc! {"$match": {"$expr": true}}, doc! {"$count": "n"}])
            .unwrap()
            .is_count_only()
    );
    assert!(
        !Pipeline::parse(&[doc! {"$skip": 1}, doc! {"$count": "n"}])
            .unwrap()
            .is_count_only()
    );
    let explain = Pipeline::parse(&[doc! {"$match": {"a": 1}}, doc! {"$count": "n"}])
        .unwrap()
        .explain();
    assert_eq!(
        explain,
        doc! {"stages": [
            {"$match": {"a": 1}},
            {"$group": {"_id": Bson::Null, "n": {"$sum": 1}}},
            {"$project": {"_id": false}},
        ]}
    );
}

#[test]
fn pipelines_can_be_shared_across_threads() {
    // The command layer may keep a parsed pipeline in a cursor or hand it to another task.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pipeline>();
}
