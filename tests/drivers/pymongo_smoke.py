"""pymongo against docwire: connect, ping, buildInfo, the handshake's wire version, the monitor's streaming
(awaited) heartbeats, and a ping with each compressor. Usage: pymongo_smoke.py URI. Prints one JSON line
that the Rust test (tests/tests/pymongo.rs) checks; exits non-zero on any failure."""

import json
import sys
import threading

import pymongo
from pymongo import MongoClient, monitoring

PATIENCE_S = 15


class Heartbeats(monitoring.ServerHeartbeatListener):
    """Records heartbeats; `awaited` is set by the first reply to an awaitable (streamed) hello."""

    def __init__(self):
        self.awaited = threading.Event()
        self.awaited_connection_id = None
        self.failures = []

    def started(self, event):
        pass

    def succeeded(self, event):
        if event.awaited and not self.awaited.is_set():
            self.awaited_connection_id = event.reply.document.get("connectionId")
            self.awaited.set()

    def failed(self, event):
        self.failures.append(repr(event.reply))


def pool_compressors(client):
    """The compressors the client's pooled connections agreed on in their handshakes (pymongo keeps
    them on each connection; monitors make no offer, so their heartbeats can't show this)."""
    names = {1: "snappy", 2: "zlib", 3: "zstd"}
    found = set()
    for server in client._topology._servers.values():
        for conn in server.pool.conns:
            ctx = conn.compression_context
            found.add(names.get(ctx.compressor_id) if ctx else "none")
    return sorted(found)


def main(uri):
    out = {"pymongo": pymongo.version}
    heartbeats = Heartbeats()
    client = MongoClient(
        uri,
        heartbeatFrequencyMS=500,
        serverSelectionTimeoutMS=PATIENCE_S * 1000,
        event_listeners=[heartbeats],
    )
    try:
        out["ping"] = client.admin.command("ping")["ok"]
        build_info = client.server_info()
        out["version"] = build_info["version"]
        out["versionArray"] = build_info["versionArray"]
        out["docwire"] = build_info.get("docwire")
        out["helloMaxWireVersion"] = client.admin.command("hello")["maxWireVersion"]
        (server,) = client.topology_description.server_descriptions().values()
        out["maxWireVersion"] = server.max_wire_version
        out["serverType"] = server.server_type_name
        if not heartbeats.awaited.wait(PATIENCE_S):
            raise SystemExit(f"no awaited heartbeat; failures: {heartbeats.failures}")
        out["awaitedHeartbeat"] = True
        out["awaitedConnectionId"] = heartbeats.awaited_connection_id
        out["heartbeatFailures"] = heartbeats.failures
    finally:
        client.close()

    out["compressors"] = {}
    for name in ["zstd", "snappy", "zlib"]:
        with MongoClient(
            uri,
            compressors=name,
            serverSelectionTimeoutMS=PATIENCE_S * 1000,
        ) as compressed:
            ok = compressed.admin.command("ping")["ok"]
            out["compressors"][name] = {"ping": ok, "negotiated": pool_compressors(compressed)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
