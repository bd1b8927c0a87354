//! Pipeline parse errors with mongod's codes: stage documents, unknown stages, and each stage's own
//! argument checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, Document, doc};
use docwire_db::pipeline::Pipeline;

fn code_of(stages: &[Document]) -> Option<i32> {
    Pipeline::parse(stages).err().map(|e| e.code().code())
}

#[test]
fn stage_documents() {
    assert_eq!(code_of(&[doc! {}]), Some(40323));
    assert_eq!(code_of(&[doc! {"$match": {}, "$limit": 1}]), Some(40323));
    assert_eq!(code_of(&[doc! {"$foo": 1}]), Some(40324));
    let err = Pipeline::parse(&[doc! {"$foo": 1}]).unwrap_err();
    assert_eq!(err.reason(), "Unrecognized pipeline stage name: '$foo'");
    assert_eq!(code_of(&[doc! {"$match": {}}, doc! {"$bar": {}}]), Some(40324));
    assert!(Pipeline::parse(&[]).unwrap().is_empty());
}

#[test]
fn stage_arguments() {
    let cases: Vec<(Document, i32)> = vec![
        // $match
        (doc! {"$match": 1}, 15959),
        (doc! {"$match": {"a": {"$bogus": 1}}}, 2),
        (doc! {"$match": {"$expr": {"$bogus": 1}}}, 168),
        // $limit / $skip
        (doc! {"$limit": 0}, 15958),
        (doc! {"$limit": -1}, 15958),
        (doc! {"$limit": "1"}, 15957),
        (doc! {"$limit": 1.5}, 15957),
        (doc! {"$skip": -1}, 15956),
        (doc! {"$skip": "x"}, 15972),
        // $sort
        (doc! {"$sort": 1}, 15973),
        (doc! {"$sort": {}}, 15976),
        (doc! {"$sort": {"a": 2}}, 15975),
        (doc! {"$sort": {"a": "up"}}, 15974),
        // $unwind
        (doc! {"$unwind": "a"}, 28818),
        (doc! {"$unwind": 1}, 15981),
        (doc! {"$unwind": {}}, 28812),
        (doc! {"$unwind": {"path": 1}}, 28808),
        (doc! {"$unwind": {"path": "a"}}, 28818),
        (
            doc! {"$unwind": {"path": "$a", "preserveNullAndEmptyArrays": 1}},
            28809,
        ),
        (doc! {"$unwind": {"path": "$a", "includeArrayIndex": 1}}, 28810),
        (doc! {"$unwind": {"path": "$a", "includeArrayIndex": ""}}, 28810),
        (doc! {"$unwind": {"path": "$a", "includeArrayIndex": "$i"}}, 28822),
        (doc! {"$unwind": {"path": "$a", "other": true}}, 28811),
        // $group
        (doc! {"$group": 1}, 15947),
        (doc! {"$group": {"n": {"$sum": 1}}}, 15955),
        (doc! {"$group": {"_id": Bson::Null, "n": {"$foo": 1}}}, 15952),
        (doc! {"$group": {"_id": Bson::Null, "n": 1}}, 40234),
        (
            doc! {"$group": {"_id": Bson::Null, "n": {"$sum": 1, "$avg": 1}}},
            40238,
        ),
        (doc! {"$group": {"_id": Bson::Null, "a.b": {"$sum": 1}}}, 40235),
        (doc! {"$group": {"_id": Bson::Null, "$a": {"$sum": 1}}}, 40236),
        (
            doc! {"$group": {"_id": Bson::Null, "n": {"$push": ["$a", "$b"]}}},
            40237,
        ),
        (doc! {"$group": {"_id": {"$bogus": 1}}}, 168),
        // $count
        (doc! {"$count": 1}, 40156),
        (doc! {"$count": ""}, 40157),
        (doc! {"$count": "$n"}, 40158),
        (doc! {"$count": "a.b"}, 40160),
        // $project / $addFields / $set / $unset
        (doc! {"$project": 1}, 15969),
        (doc! {"$project": {}}, 51272),
        (doc! {"$project": {"a": 1, "b": 0}}, 31254),
        (doc! {"$project": {"a": 0, "b": 1}}, 31253),
        (doc! {"$project": {"a": 0, "b": "$c"}}, 31252),
        (doc! {"$project": {"a": {}}}, 51270),
        (doc! {"$project": {"a": 1, "a.b": 1}}, 31249),
        (doc! {"$project": {"a.b": 1, "a": 1}}, 31250),
        (doc! {"$project": {"$a": 1}}, 16410),
        (doc! {"$project": {"a": {"$bogus": 1}}}, 168),
        (doc! {"$addFields": 1}, 40272),
        (doc! {"$set": "x"}, 40272),
        (doc! {"$addFields": {"a": {"$divide": [1]}}}, 16020),
        (doc! {"$unset": 1}, 31002),
        (doc! {"$unset": []}, 31119),
        (doc! {"$unset": ["a", 1]}, 31120),
        // $replaceRoot / $sortByCount
        (doc! {"$replaceRoot": {}}, 40414),
        (doc! {"$replaceRoot": {"newRoot": "$a", "x": 1}}, 40415),
        (doc! {"$sortByCount": "a"}, 40148),
        (doc! {"$sortByCount": {"a": 1}}, 40147),
        (doc! {"$sortByCount": 1}, 40149),
    ];
    for (stage, code) in cases {
        assert_eq!(code_of(std::slice::from_ref(&stage)), Some(code), "{stage}");
    }
}

#[test]
fn valid_stages_parse() {
    for stage in [
        doc! {"$match": {"a": {"$gt": 1}}},
        doc! {"$project": {"_id": 0}},
        doc! {"$project": {"_id": 1}},
        doc! {"$project": {"a": 1, "_id": 0, "b": "$c"}},
        doc! {"$project": {"a": 0, "_id": 1}},
        doc! {"$set": {"a.b": 1}},
        doc! {"$unset": "a"},
        doc! {"$sort": {"a": -1, "b": 1.0}},
        doc! {"$limit": 5_i64},
        doc! {"$skip": 0},
        doc! {"$unwind": {"path": "$a.b", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": false}},
        doc! {"$group": {"_id": {"a": "$a", "b": {"$year": "$d"}}, "n": {"$count": {}}}},
        doc! {"$count": "total"},
        doc! {"$replaceWith": {"$mergeObjects": ["$a", "$b"]}},
        doc! {"$sortByCount": {"$toLower": "$tag"}},
    ] {
        assert!(Pipeline::parse(std::slice::from_ref(&stage)).is_ok(), "{stage}");
    }
}
