#!/usr/bin/env python3
"""Decode a captured MongoDB wire message (OP_MSG or OP_QUERY) into a short summary.

Usage: decode_message.py FILE [FILE...] [--full]

Needs the `bson` module that ships with pymongo; run it with the capture venv's
python (target/capture-venv/bin/python). --full also prints the whole command
document as relaxed Extended JSON.
"""

import struct
import sys

import bson
from bson import json_util

OP_QUERY = 2004
OP_MSG = 2013
OP_NAMES = {1: "OP_REPLY", 2004: "OP_QUERY", 2012: "OP_COMPRESSED", 2013: "OP_MSG"}


def cstring(buf, pos):
    end = buf.index(b"\x00", pos)
    return buf[pos:end].decode("utf-8"), end + 1


def bson_doc(buf, pos):
    (size,) = struct.unpack_from("<i", buf, pos)
    return bson.decode(buf[pos:pos + size]), pos + size


def decode(data):
    length, request_id, response_to, opcode = struct.unpack_from("<iiii", data, 0)
    if length != len(data):
        raise ValueError(f"messageLength {length} != file size {len(data)}")
    out = {
        "messageLength": length,
        "requestID": request_id,
        "responseTo": response_to,
        "opCode": f"{opcode} ({OP_NAMES.get(opcode, '?')})",
    }
    pos = 16
    command = None
    if opcode == OP_MSG:
        (flags,) = struct.unpack_from("<I", data, pos)
        pos += 4
        out["flagBits"] = f"0x{flags:08x}"
        end = length - 4 if flags & 1 else length  # checksumPresent
        sections = []
        while pos < end:
            kind = data[pos]
            pos += 1
            if kind == 0:
                doc, pos = bson_doc(data, pos)
                command = doc
                sections.append("kind 0 (body)")
            elif kind == 1:
                (size,) = struct.unpack_from("<i", data, pos)
                ident, _ = cstring(data, pos + 4)
                pos += size
                sections.append(f"kind 1 (sequence {ident!r})")
            else:
                raise ValueError(f"unknown section kind {kind}")
        out["sections"] = ", ".join(sections)
    elif opcode == OP_QUERY:
        (flags,) = struct.unpack_from("<I", data, pos)
        pos += 4
        out["flags"] = f"0x{flags:08x}"
        out["fullCollectionName"], pos = cstring(data, pos)
        skip, ret = struct.unpack_from("<ii", data, pos)
        pos += 8
        out["numberToSkip"], out["numberToReturn"] = skip, ret
        command, pos = bson_doc(data, pos)
        if pos < length:
            _, pos = bson_doc(data, pos)
            out["returnFieldsSelector"] = "present"
        if pos != length:
            raise ValueError(f"{length - pos} trailing bytes")
    else:
        raise ValueError(f"unsupported opCode {opcode}")
    if command is not None:
        keys = list(command.keys())
        out["command"] = keys[0] if keys else None
        out["topLevelKeys"] = ", ".join(keys)
        out["$db"] = command.get("$db", "(absent)")
    return out, command


def main(argv):
    full = "--full" in argv
    paths = [a for a in argv if a != "--full"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for path in paths:
        with open(path, "rb") as f:
            summary, command = decode(f.read())
        print(path)
        for key, value in summary.items():
            print(f"  {key}: {value}")
        if full and command is not None:
            print("  document: " + json_util.dumps(command, json_options=json_util.RELAXED_JSON_OPTIONS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
