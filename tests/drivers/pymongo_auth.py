"""pymongo authenticating to docwire (started with --auth): SCRAM-SHA-256, SCRAM-SHA-1 and the negotiated
default each authenticate and can write and read; a wrong password fails with AuthenticationFailed.
Usage: pymongo_auth.py HOST:PORT USER PASSWORD. Prints one JSON line that tests/tests/auth_shells.rs
checks; exits non-zero on any unexpected failure."""

import json
import sys

from pymongo import MongoClient
from pymongo.errors import OperationFailure

PATIENCE_MS = 15000


def client(host, user, password, mechanism):
    options = {"authSource": "admin", "directConnection": True, "serverSelectionTimeoutMS": PATIENCE_MS}
    if mechanism is not None:
        options["authMechanism"] = mechanism
    return MongoClient(f"mongodb://{host}/", username=user, password=password, **options)


def main():
    host, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    report = {"authenticated": {}, "wrongPassword": {}}
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1", None]:
        with client(host, user, password, mechanism) as c:
            status = c.admin.command("connectionStatus")
            users = status["authInfo"]["authenticatedUsers"]
            items = c.pymongo_auth.items
            items.insert_one({"mechanism": mechanism or "default"})
            found = items.count_documents({"mechanism": mechanism or "default"})
            report["authenticated"][mechanism or "default"] = {"users": users, "found": found}
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"]:
        with client(host, user, password + "-wrong", mechanism) as c:
            try:
                c.admin.command("ping")
                report["wrongPassword"][mechanism] = "succeeded"
            except OperationFailure as e:
                report["wrongPassword"][mechanism] = {"code": e.code, "codeName": e.details.get("codeName")}
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
