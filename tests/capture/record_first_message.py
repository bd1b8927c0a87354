#!/usr/bin/env python3
"""Record the first MongoDB wire message a client sends.

Listens on 127.0.0.1:PORT, accepts one connection, reads the 16-byte
MsgHeader, then the rest of the message (header.messageLength bytes in
all), writes the raw bytes to OUT, and closes the connection and the
listening socket without replying. The client is expected to fail after
that (point it at us with a short serverSelectionTimeoutMS).

Prints "listening on 127.0.0.1:PORT" (flushed) once the socket is bound, so
a script can wait for it. Python 3 standard library only.

Usage: record_first_message.py PORT OUT [--timeout SECONDS]
Exit status: 0 on success, 1 on timeout / short read / bad header.
"""

import argparse
import socket
import struct
import sys

HEADER_LEN = 16
MAX_MESSAGE_LEN = 48 * 1024 * 1024  # maxMessageSizeBytes default


def read_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int, help="TCP port on 127.0.0.1 to listen on")
    parser.add_argument("out", help="file to write the raw message bytes to")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the connection and the message (default 60)")
    args = parser.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(1)
    listener.settimeout(args.timeout)
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    try:
        conn, peer = listener.accept()
    except socket.timeout:
        print("timed out waiting for a connection", file=sys.stderr)
        return 1
    finally:
        listener.close()  # one connection only: later attempts get ECONNREFUSED

    with conn:
        conn.settimeout(args.timeout)
        try:
            header = read_exact(conn, HEADER_LEN)
            length, request_id, response_to, opcode = struct.unpack("<iiii", header)
            if not HEADER_LEN <= length <= MAX_MESSAGE_LEN:
                print(f"bad messageLength {length}", file=sys.stderr)
                return 1
            body = read_exact(conn, length - HEADER_LEN)
        except (EOFError, socket.timeout) as err:
            print(f"failed to read message: {err}", file=sys.stderr)
            return 1
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    with open(args.out, "wb") as f:
        f.write(header + body)
    print(f"captured {length} bytes from {peer[0]}:{peer[1]}: opCode={opcode} "
          f"requestID={request_id} responseTo={response_to} -> {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
