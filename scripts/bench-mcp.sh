#!/usr/bin/env bash
# engram as an MCP server against the reference memory server (@modelcontextprotocol/server-memory, pinned in
# tests/mcp-js), on this machine, in the same run: builds engram (optimised), installs the pinned npm packages and
# runs bench/mcp_bench.mjs, which launches each server over stdio through the official SDK's client and gives both
# the MCP issue's workload (10,000 entities with observations and relations in calls of 10, then 1,000
# search_nodes and 1,000 open_nodes), alternating, best of the runs: latency p50 / p99 per tool, total time, ratios.
# The 2 cores are shared with other work: compare figures of one run only.
#
# usage: scripts/bench-mcp.sh [--entities N] [--queries Q] [--runs R] [--reference-entities M]
#                             (defaults 10000, 1000, 3, N; see bench/mcp_bench.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/bench-mcp.sh [--entities N] [--queries Q] [--runs R] [--reference-entities M]" >&2
  exit 2
}

bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --entities | --queries | --runs | --reference-entities) [ $# -ge 2 ] || usage; bench_args+=("$1" "$2"); shift 2 ;;
    *) usage ;;
  esac
done

scripts/install-deps.sh
scripts/install-node-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target engram >/dev/null

node bench/mcp_bench.mjs --engram build-bench/engram "${bench_args[@]}"
