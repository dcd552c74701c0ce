#!/bin/sh
# over_qdrant.sh ENGRAM TEST [ARGS...] — runs one test program with the vector store of its fresh data folders on
# the Qdrant backend: starts `engram serve` over a scratch folder on a free loopback port, points the test at it
# through ENGRAM_TEST_VECTORS_URL (tests/test_harness.c, test_open_fresh), and stops the server afterwards.
set -eu
ENGRAM=$1
shift
T=$(mktemp -d "${TMPDIR:-/tmp}/engram-over-qdrant.XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || :; wait "$SERVER_PID" 2>/dev/null || :; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$ENGRAM" --data "$T/served" --no-sync serve --http 127.0.0.1:0 </dev/null >/dev/null 2>"$T/serve.err" &
SERVER_PID=$!
tries=0
until grep -q "listening on http://127.0.0.1:0 (port [1-9]" "$T/serve.err"; do
    tries=$((tries + 1))
    if [ $tries -ge 300 ]; then
        echo "over_qdrant.sh: engram serve did not start:" >&2
        cat "$T/serve.err" >&2
        exit 1
    fi
    sleep 0.1
done
PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/serve.err" | head -n 1)
ENGRAM_TEST_VECTORS_URL="http://127.0.0.1:$PORT" "$@"
