#!/bin/sh
# over_remote.sh — runs one memory-layer test program a second time with its stores on servers: the ctests
# NAME_over_qdrant, NAME_over_neo4j and NAME_over_both (tests/CMakeLists.txt).
#
# qdrant (or both): it starts `engram serve` on a loopback port it picks (port 0) over a scratch folder, puts the
# recording proxy (tests/qdrant-js/recording-proxy.mjs) in front of it, and runs the program with
# ENGRAM_TEST_QDRANT_URL set to the proxy: the test harness then writes an engram.conf into every data folder the
# program makes (vectors.backend = qdrant, vectors.url, a collection prefix of the folder's own). At the end it stops
# the proxy, which fails the run if any request the backend sent did not match Qdrant's OpenAPI document, and the
# server, which must exit 0 after SIGTERM.
#
# neo4j (or both): it runs the program with ENGRAM_TEST_GRAPH_BACKEND=neo4j and ENGRAM_BIN: the harness starts an
# `engram serve --bolt` of each data folder's own (a graph has no prefix to keep folders apart) and points the
# folder's graph at it (graph.backend = neo4j, graph.uri); it stops them at exit, failing the run if one does not
# exit 0. What the Neo4j backend sends is checked by the Cypher engine that runs it (no proxy).
#
# Either way the program's own assertions run unchanged over the remote backends.
#
# The crash programs kill their own client processes mid-saga and reopen the folder; the servers outlive them.
# Their random kills are fewer than in the embedded run (the embedded run is the soak; this one proves the backend
# under the same kills): 40 of test_memory_crash's 200, 40 of test_archive_crash's 60 rounds (fewer rounds than that
# sometimes acknowledge no restore under ThreadSanitizer, which that test requires); ENGRAM_CRASH_KILLS and
# ENGRAM_ARCHIVE_CRASH_KILLS, when already set, win.
#
# Usage: sh tests/over_remote.sh qdrant|neo4j|both PATH_TO_ENGRAM PATH_TO_TEST_PROGRAM [validate|direct]
# validate (the default) puts the recording proxy in front of the Qdrant server; direct does not (the sanitizer
# builds: what the backend sends is the same in every build, and the proxy doubles the time). Without node (or
# without the npm packages: scripts/install-node-deps.sh) the program talks to the server directly and the run says
# that the requests were not validated.
set -eu

usage() {
    echo "usage: sh tests/over_remote.sh qdrant|neo4j|both PATH_TO_ENGRAM PATH_TO_TEST_PROGRAM [validate|direct]" >&2
    exit 2
}
if [ $# -lt 3 ] || [ $# -gt 4 ] || { [ $# -eq 4 ] && [ "$4" != validate ] && [ "$4" != direct ]; }; then usage; fi
case $1 in qdrant | neo4j | both) ;; *) usage ;; esac
STORES=$1
ENGRAM=$2
PROGRAM=$3
MODE=${4:-validate}
NAME=$(basename "$PROGRAM")
HERE=$(cd "$(dirname "$0")" && pwd)
START_LIMIT=20 # seconds for the server or the proxy to print its port
STOP_LIMIT=15  # seconds for either to exit after SIGTERM (the server waits up to 10 s for requests in flight)

T=$(mktemp -d "${TMPDIR:-/tmp}/engram-over-$STORES.XXXXXX")
WHO="$NAME over $STORES"
. "$HERE/background.sh"
cleanup() {
    bg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

URL=
PROXY=
if [ "$STORES" != neo4j ]; then
    bg_start server "$ENGRAM" --data "$T/server-data" --no-sync serve --http 127.0.0.1:0 --bolt ""
    bg_port server
    URL=http://127.0.0.1:$PORT

    if [ "$MODE" = direct ]; then
        echo "$WHO: requests not validated here (direct); the release build's run validates them"
    elif command -v node >/dev/null 2>&1 && [ -d "$HERE/qdrant-js/node_modules/ajv" ]; then
        bg_start proxy node "$HERE/qdrant-js/recording-proxy.mjs" "$URL"
        bg_port proxy
        PROXY=yes
        URL=http://127.0.0.1:$PORT
    else
        echo "$WHO: requests not validated: node or the npm packages are missing (scripts/install-node-deps.sh)"
    fi
fi

status=0
GRAPH_BACKEND=
if [ "$STORES" != qdrant ]; then GRAPH_BACKEND=neo4j; fi
ENGRAM_TEST_QDRANT_URL=$URL ENGRAM_TEST_GRAPH_BACKEND=$GRAPH_BACKEND ENGRAM_BIN=$ENGRAM \
    ENGRAM_CRASH_KILLS=${ENGRAM_CRASH_KILLS:-40} ENGRAM_ARCHIVE_CRASH_KILLS=${ENGRAM_ARCHIVE_CRASH_KILLS:-40} \
    "$PROGRAM" || status=1

if [ -n "$PROXY" ]; then
    rc=0
    bg_stop proxy || rc=$? # which shows its log on a failure
    if [ $rc -eq 0 ]; then cat "$T/proxy.log"; else
        echo "$WHO: the recording proxy found invalid requests or failed (exit $rc)" >&2
        status=1
    fi
fi
if [ -n "$URL" ]; then bg_stop server || status=1; fi
exit $status
