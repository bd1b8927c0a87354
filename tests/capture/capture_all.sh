#!/usr/bin/env bash
# Re-capture the first wire message each real MongoDB driver sends when it connects,
# and write them to crates/rpc/tests/fixtures/ (see the README.md there).
#
# Usage: tests/capture/capture_all.sh [OUT_DIR]      (default: crates/rpc/tests/fixtures)
#
# Installs, if missing: pymongo 4.20 into target/capture-venv (pip), mongosh 2.12 into
# target/capture-npm (npm), and builds the docwire-tests example capture_first_message
# (the Rust `mongodb` crate pinned by Cargo.lock). Each driver is pointed at
# record_first_message.py on a free 127.0.0.1 port and fails once the recorder hangs up.
# Override versions with PYMONGO_SPEC / MONGOSH_SPEC.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT_DIR="${1:-crates/rpc/tests/fixtures}"
PYMONGO_SPEC="${PYMONGO_SPEC:-pymongo==4.20.*}"
MONGOSH_SPEC="${MONGOSH_SPEC:-mongosh@2.12}"
VENV="$ROOT/target/capture-venv"
NPM_PREFIX="$ROOT/target/capture-npm"
RECORDER="$ROOT/tests/capture/record_first_message.py"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT_DIR"

# --- install the drivers -------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pymongo' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "$PYMONGO_SPEC"
fi
if [ ! -x "$NPM_PREFIX/node_modules/.bin/mongosh" ]; then
  npm install --prefix "$NPM_PREFIX" --no-audit --no-fund "$MONGOSH_SPEC"
fi
cargo build -p docwire-tests --example capture_first_message
RUST_BIN="$ROOT/target/debug/examples/capture_first_message"

echo "pymongo $("$VENV/bin/python" -c 'import pymongo; print(pymongo.version)')," \
     "mongosh $("$NPM_PREFIX/node_modules/.bin/mongosh" --version)," \
     "mongodb crate $(cargo pkgid -p mongodb | sed 's/.*[@#]//')"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# capture NAME CMD...   (CMD gets the URI appended as its last argument)
capture() {
  local name="$1"; shift
  local port out log rec_pid i
  port="$(free_port)"
  out="$OUT_DIR/first_message_${name}.bin"
  log="$WORK/$name.log"
  python3 "$RECORDER" "$port" "$WORK/$name.bin" --timeout 60 >"$log" 2>&1 &
  rec_pid=$!
  for i in $(seq 100); do grep -q '^listening' "$log" && break; sleep 0.1; done
  local uri="mongodb://127.0.0.1:${port}/?directConnection=true&serverSelectionTimeoutMS=2000&connectTimeoutMS=2000"
  # The driver is expected to fail (server selection timeout / connection refused).
  timeout 60 "$@" "$uri" >"$WORK/$name.driver.log" 2>&1 || true
  if ! wait "$rec_pid"; then
    echo "capture of $name failed:" >&2
    cat "$log" "$WORK/$name.driver.log" >&2
    return 1
  fi
  mv "$WORK/$name.bin" "$out"
  sed "s|$WORK/$name.bin|$out|" "$log"
}

capture pymongo "$VENV/bin/python" -c '
import sys, pymongo
try:
    pymongo.MongoClient(sys.argv[1]).admin.command("ping")
except Exception as e:
    print("expected failure:", type(e).__name__)
'
capture mongosh "$NPM_PREFIX/node_modules/.bin/mongosh" --quiet --norc --eval 'db.runCommand({ping: 1})'
capture rust_driver "$RUST_BIN"

"$VENV/bin/python" "$ROOT/tests/capture/decode_message.py" --full \
  "$OUT_DIR/first_message_pymongo.bin" "$OUT_DIR/first_message_mongosh.bin" "$OUT_DIR/first_message_rust_driver.bin"
