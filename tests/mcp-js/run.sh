#!/bin/sh
# run.sh — the ctest `mcp_js`: runs the official MCP TypeScript SDK's client against engram (tests/mcp-js/*.test.mjs,
# `node --test`): `engram mcp` over stdio, which the tests launch themselves on folders of their own (ENGRAM), the
# reference memory server beside it (equivalence.test.mjs), and `/mcp` over Streamable HTTP on two `engram serve`s
# started here on loopback ports they pick themselves, Bolt off, each on a data folder of its own: one without an
# API key (ENGRAM_MCP_URL), one with (ENGRAM_MCP_KEY_URL, the key in ENGRAM_MCP_KEY). Then it stops both with
# SIGTERM and checks that each exits 0 within STOP_LIMIT seconds.
#
# Usage: sh tests/mcp-js/run.sh PATH_TO_ENGRAM
# Exits 77 (ctest's SKIP_RETURN_CODE) when node is not installed; 1 on any failure.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: sh tests/mcp-js/run.sh PATH_TO_ENGRAM" >&2
    exit 2
fi
ENGRAM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: the tests launch it from their own folder
HERE=$(cd "$(dirname "$0")" && pwd)
START_LIMIT=20 # seconds for a server to print its port
TEST_LIMIT=240 # seconds for the whole node --test run
STOP_LIMIT=15  # seconds for a server to exit after SIGTERM

WHO=mcp_js
. "$HERE/../background.sh"
bg_node_suite @modelcontextprotocol/sdk @modelcontextprotocol/server-memory
cleanup() {
    bg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ENGRAM_MCP_KEY=mcp-test-key-$$
bg_start plain "$ENGRAM" --data "$T/plain" --no-sync serve --http 127.0.0.1:0 --bolt ''
bg_port plain
ENGRAM_MCP_URL=http://127.0.0.1:$PORT
bg_start keyed "$ENGRAM" --data "$T/keyed" --no-sync serve --http 127.0.0.1:0 --bolt '' --api-key "$ENGRAM_MCP_KEY"
bg_port keyed
ENGRAM_MCP_KEY_URL=http://127.0.0.1:$PORT
export ENGRAM ENGRAM_MCP_URL ENGRAM_MCP_KEY_URL ENGRAM_MCP_KEY

status=0
# The test files run one at a time: each launches servers of its own (engram mcp, the reference), and on a
# small machine those of four files at once would starve each other past the tests' time limits.
(cd "$HERE" && timeout "$TEST_LIMIT" node --test --test-concurrency=1 ./*.test.mjs) || status=1
for name in plain keyed; do bg_stop "$name" || status=1; done
exit $status
