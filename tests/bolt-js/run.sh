#!/bin/sh
# run.sh — the ctest `bolt_js`: runs the official Neo4j JavaScript driver's tests (tests/bolt-js/*.test.mjs,
# `node --test`) against `engram serve --bolt` on a loopback port it picks itself, then stops it with SIGTERM and
# checks that it exits 0 within STOP_LIMIT seconds.
#
# Usage: sh tests/bolt-js/run.sh PATH_TO_ENGRAM
# Exits 77 (ctest's SKIP_RETURN_CODE) when node is not installed; 1 on any failure.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: sh tests/bolt-js/run.sh PATH_TO_ENGRAM" >&2
    exit 2
fi
ENGRAM=$1
HERE=$(cd "$(dirname "$0")" && pwd)
START_LIMIT=20 # seconds for the server to print its ports
TEST_LIMIT=120 # seconds for the whole node --test run
STOP_LIMIT=15  # seconds for the server to exit after SIGTERM

if ! command -v node >/dev/null 2>&1; then
    echo "bolt_js: SKIPPED: node is not installed (scripts/install-node-deps.sh installs it)"
    exit 77
fi
if [ ! -d "$HERE/node_modules/neo4j-driver" ]; then
    echo "bolt_js: the npm packages are missing: run scripts/install-node-deps.sh" >&2
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/engram-bolt-js.XXXXXX")
PID=
cleanup() {
    [ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null || :
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ENGRAM_BOLT_PASSWORD=bolt-test-password-$$
export ENGRAM_BOLT_PASSWORD
: >"$T/serve.log"
"$ENGRAM" --data "$T/data" --no-sync serve --http 127.0.0.1:0 --bolt 127.0.0.1:0 2>>"$T/serve.log" &
PID=$!
PORT=
waited=0
# the Bolt line comes before the HTTP one; once the HTTP line is there, both listen
until grep -q 'listening on http' "$T/serve.log"; do
    if ! kill -0 "$PID" 2>/dev/null || [ $waited -ge $((START_LIMIT * 10)) ]; then
        echo "bolt_js: engram serve did not start:" >&2
        sed 's/^/    | /' "$T/serve.log" >&2
        exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
done
PORT=$(sed -n 's/.*Bolt on bolt:.*, port \([0-9][0-9]*\).*/\1/p' "$T/serve.log")
ENGRAM_BOLT_URL=127.0.0.1:$PORT
export ENGRAM_BOLT_URL

status=0
timeout "$TEST_LIMIT" node --test "$HERE"/*.test.mjs || status=1
kill -TERM "$PID"
waited=0
while kill -0 "$PID" 2>/dev/null && [ $waited -lt $((STOP_LIMIT * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
done
rc=0
wait "$PID" || rc=$?
PID=
if [ $rc -ne 0 ]; then
    echo "bolt_js: engram serve exited $rc after SIGTERM:" >&2
    sed 's/^/    | /' "$T/serve.log" >&2
    status=1
fi
exit $status
