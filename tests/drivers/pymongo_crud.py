"""pymongo's CRUD scenario against docwire's embedded database: insert_many; find with filters, sort and
projection; a cursor across many getMores; an exhaust cursor; update and upsert; delete;
find_one_and_update; count_documents; distinct; an aggregation; create/list/drop indexes; w:0 writes then
a read. Usage: pymongo_crud.py URI. Prints one JSON line, {"driver": ..., "steps": {name: result}}, that
the Rust test (tests/tests/pymongo_crud.rs, via docwire_tests::crud) checks; a step that raised reports
{"error": "..."} so every step is checked even when one fails. The scenario is the same in
node_crud.mjs and rust_driver_crud.rs."""

import json
import sys
import time

import pymongo
from pymongo import ASCENDING, DESCENDING, CursorType, MongoClient, ReturnDocument, monitoring
from pymongo.write_concern import WriteConcern

PATIENCE_S = 15
N = 3000


class GetMores(monitoring.CommandListener):
    """Counts the getMore commands that succeeded, and the server connections that ran them."""

    def __init__(self):
        self.count = 0
        self.server_connection_ids = set()

    def started(self, event):
        pass

    def succeeded(self, event):
        if event.command_name == "getMore":
            self.count += 1
            if event.server_connection_id is not None:
                self.server_connection_ids.add(event.server_connection_id)

    def failed(self, event):
        pass


def doc(i):
    return {"_id": i, "n": i, "group": i % 5, "tag": f"t{i % 3}", "sub": {"k": i % 7}, "s": "doc"}


def main(uri):
    get_mores = GetMores()
    client = MongoClient(
        uri, serverSelectionTimeoutMS=PATIENCE_S * 1000, event_listeners=[get_mores]
    )
    db = client.crud
    items = db.items
    steps = {}

    def step(name, body):
        try:
            steps[name] = body()
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            steps[name] = {"error": f"{type(e).__name__}: {e}"}

    def insert_many():
        result = items.insert_many([doc(i) for i in range(N)])
        return {"inserted": len(result.inserted_ids)}

    def find():
        ranged = items.find(
            {"n": {"$gte": 10, "$lt": 20}, "sub.k": {"$ne": 0}},
            projection={"_id": 0, "n": 1, "sub.k": 1},
        ).sort("n", DESCENDING)
        either = items.find(
            {"$or": [{"n": {"$lt": 3}}, {"n": {"$gt": N - 4}}]}, projection={"n": 1}
        ).sort("n", ASCENDING)
        return {"ranged": list(ranged), "either": [d["n"] for d in either]}

    def iterate(**options):
        before = get_mores.count
        get_mores.server_connection_ids.clear()
        ids = [d["_id"] for d in items.find({}, projection={"_id": 1}, **options)]
        return {
            "count": len(ids),
            "distinctIds": len(set(ids)),
            "getMores": get_mores.count - before,
            "serverConnectionIds": sorted(get_mores.server_connection_ids),
        }

    def update():
        many = items.update_many({"group": 0}, {"$inc": {"n": 100000}, "$set": {"touched": True}})
        upsert = items.update_one({"_id": "up"}, {"$set": {"n": -1}}, upsert=True)
        again = items.update_one({"_id": "up"}, {"$set": {"n": -1}}, upsert=True)
        return {
            "many": {"matched": many.matched_count, "modified": many.modified_count},
            "upsert": {
                "matched": upsert.matched_count,
                "modified": upsert.modified_count,
                "upsertedId": upsert.upserted_id,
            },
            "again": {
                "matched": again.matched_count,
                "modified": again.modified_count,
                "upsertedId": again.upserted_id,
            },
            "upserted": items.find_one({"_id": "up"}),
            "touched": items.find_one({"_id": 10}, projection={"_id": 0, "n": 1, "touched": 1}),
        }

    def delete():
        many = items.delete_many({"group": 4})
        one = items.delete_one({"_id": "up"})
        return {
            "many": many.deleted_count,
            "one": one.deleted_count,
            "remaining": len(list(items.find({}, projection={"_id": 1}))),
        }

    def find_one_and_update():
        after = items.find_one_and_update(
            {"_id": 7},
            {"$set": {"flag": "x"}, "$inc": {"n": 1}},
            projection={"n": 1, "flag": 1},
            return_document=ReturnDocument.AFTER,
        )
        before = items.find_one_and_update(
            {"_id": 8}, {"$set": {"flag": "y"}}, projection={"n": 1, "flag": 1}
        )
        missing = items.find_one_and_update({"_id": "nothing"}, {"$set": {"flag": "z"}})
        return {"after": after, "before": before, "missing": missing}

    def count_documents():
        return {"group1": items.count_documents({"group": 1}), "all": items.count_documents({})}

    def distinct():
        return {
            "tags": sorted(items.distinct("tag")),
            "groups": sorted(items.distinct("group", {"n": {"$lt": 10}})),
        }

    def aggregate():
        pipeline = [
            {"$match": {"group": {"$in": [1, 2, 3]}}},
            {
                "$group": {
                    "_id": "$group",
                    "count": {"$sum": 1},
                    "maxN": {"$max": "$n"},
                    "total": {"$sum": "$n"},
                }
            },
            {"$sort": {"_id": -1}},
        ]
        return {"groups": list(items.aggregate(pipeline))}

    def indexes():
        created = [
            items.create_index([("n", ASCENDING)]),
            items.create_index([("tag", ASCENDING), ("n", DESCENDING)], name="tag_n"),
        ]
        listed = sorted(i["name"] for i in items.list_indexes())
        items.drop_index("n_1")
        after_drop = sorted(i["name"] for i in items.list_indexes())
        return {"created": created, "listed": listed, "afterDrop": after_drop}

    def unacknowledged():
        w0 = db.get_collection("w0", write_concern=WriteConcern(w=0))
        result = w0.insert_many([{"_id": i, "w": 0} for i in range(100)])
        w0.insert_one({"_id": 100, "w": 0})
        deadline = time.monotonic() + PATIENCE_S
        visible = 0
        while time.monotonic() < deadline:
            visible = len(list(db.w0.find({"w": 0}, projection={"_id": 1})))
            if visible == 101:
                break
        return {"acknowledged": result.acknowledged, "visible": visible}

    try:
        step("insertMany", insert_many)
        step("find", find)
        step("getMores", lambda: iterate(batch_size=7))
        step("exhaust", lambda: {"supported": True, **iterate(cursor_type=CursorType.EXHAUST, batch_size=50)})
        step("update", update)
        step("delete", delete)
        step("findOneAndUpdate", find_one_and_update)
        step("countDocuments", count_documents)
        step("distinct", distinct)
        step("aggregate", aggregate)
        step("indexes", indexes)
        step("w0", unacknowledged)
    finally:
        client.close()
    print(json.dumps({"driver": f"pymongo {pymongo.version}", "steps": steps}))


if __name__ == "__main__":
    main(sys.argv[1])
