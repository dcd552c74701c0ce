#!/bin/sh
# run.sh — the ctest `qdrant_js`: runs the official Qdrant JavaScript client's tests (tests/qdrant-js/*.test.mjs,
# `node --test`) against two `engram serve` processes on loopback ports they pick themselves: one without an API
# key, one with. Then stops both with SIGTERM and checks that each exits 0 within STOP_LIMIT seconds.
#
# The tests find the servers in the environment:
#   ENGRAM_QDRANT_URL          the server without a key, e.g. http://127.0.0.1:40123
#   ENGRAM_QDRANT_KEYED_URL    the server that needs ENGRAM_QDRANT_API_KEY
#
# Usage: sh tests/qdrant-js/run.sh PATH_TO_ENGRAM
# Exits 77 (ctest's SKIP_RETURN_CODE) when node is not installed; 1 on any failure.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: sh tests/qdrant-js/run.sh PATH_TO_ENGRAM" >&2
    exit 2
fi
ENGRAM=$1
HERE=$(cd "$(dirname "$0")" && pwd)
START_LIMIT=20  # seconds for a server to print its port and answer /healthz
TEST_LIMIT=300  # seconds for the whole node --test run
STOP_LIMIT=15   # seconds for a server to exit after SIGTERM (it waits up to 10 s for requests in flight)

WHO=qdrant_js
. "$HERE/../background.sh"
bg_node_suite @qdrant/js-client-rest
cleanup() {
    bg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME [serve options...]: starts a server on a port of its choosing (port 0) over a new data folder, then
# waits for the port in its "listening on ... (port N)" line and for /healthz. Sets PORT. The folder is opened
# without fsync: these tests check what the API answers, not what a power cut keeps.
start() {
    name=$1
    shift
    bg_start "$name" "$ENGRAM" --data "$T/$name-data" --no-sync serve --http 127.0.0.1:0 --bolt "" "$@"
    bg_port "$name"
    if ! node -e '
        const deadline = Date.now() + Number(process.argv[2]) * 1000;
        (async () => {
          for (;;) {
            try {
              if ((await fetch(process.argv[1])).ok) return;
            } catch { /* not accepting yet */ }
            if (Date.now() > deadline) process.exit(1);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        })();' "http://127.0.0.1:$PORT/healthz" "$START_LIMIT"; then
        echo "qdrant_js: engram serve ($name) on port $PORT never answered /healthz" >&2
        exit 1
    fi
}

API_KEY=engram-test-key-$$
start open
ENGRAM_QDRANT_URL=http://127.0.0.1:$PORT
start keyed --api-key "$API_KEY"
ENGRAM_QDRANT_KEYED_URL=http://127.0.0.1:$PORT
ENGRAM_BIN=$ENGRAM # backend-requests.test.mjs runs engram with its vectors on the open server
export ENGRAM_QDRANT_URL ENGRAM_QDRANT_KEYED_URL ENGRAM_BIN
ENGRAM_QDRANT_API_KEY=$API_KEY
export ENGRAM_QDRANT_API_KEY

status=0
timeout "$TEST_LIMIT" node --test "$HERE"/*.test.mjs || status=1
bg_stop open || status=1
bg_stop keyed || status=1
exit $status
