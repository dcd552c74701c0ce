#!/usr/bin/env bash
# The remote backends against the embedded ones, in one run: memory creates and recalls with one hop of graph
# context, alternating embedded (LMDB graph and vectors), vectors.backend=qdrant, graph.backend=neo4j and both,
# each remote one against an engram serve (HTTP and Bolt on loopback ports) in the same process; and where the
# remote time goes: server, network, client (bench/remote_bench.c, top comment; docs/backends.md).
#
# usage: scripts/bench-remote.sh [ROUNDS] [SECONDS] [PRELOAD]     (default 3 0.2 1000)
#   ROUNDS   alternating rounds, the best reported;  SECONDS  the least work per timed figure;
#   PRELOAD  episodes made in every folder before timing
set -euo pipefail

ROUNDS=${1:-3}
SECONDS_PER_FIGURE=${2:-0.2}
PRELOAD=${3:-1000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$REPO/build-bench

cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j2 --target remote_bench >/dev/null
"$BUILD/bench/remote_bench" --rounds "$ROUNDS" --seconds "$SECONDS_PER_FIGURE" --preload "$PRELOAD"
