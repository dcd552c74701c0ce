#!/usr/bin/env bash
# The Qdrant backend against the embedded vector store, in one run: memory creates (through sagas, and the same
# point and node written straight to the stores: --raw) with 1 and 8 writers, and recall with one hop of graph
# context, each with backend=lmdb (vectors in the folder) and backend=qdrant (vectors in an engram serve on a
# loopback port in the same process, playing the Qdrant server; docs/backends.md).
#
# usage: scripts/bench-qdrant.sh [COUNT] [MEMORIES] [QUERIES]     (default 2000 20000 200)
#   COUNT     creates per write run;  MEMORIES  episodes loaded for recall;  QUERIES  recalls timed
# Environment: ENGRAM_BENCH_TMP, where the scratch folders go (default /var/tmp); removed after.
# Where the time goes: the raw qdrant line minus the raw lmdb line is what HTTP and JSON (both ends) add per
# memory's vector write, since the server does the embedded store's work behind them; the saga lines add the log
# and the saga's reads.
set -euo pipefail

COUNT=${1:-2000}
MEMORIES=${2:-20000}
QUERIES=${3:-200}
DIM=1024
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$REPO/build-bench
TMP=$(mktemp -d "${ENGRAM_BENCH_TMP:-/var/tmp}/engram-bench-qdrant.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j2 --target memory_bench >/dev/null
BENCH=$BUILD/bench/memory_bench

run=0
for threads in 1 8; do
    for raw in "" --raw; do
        for backend in "" --qdrant; do
            run=$((run + 1))
            "$BENCH" writes "$TMP/w$run" --threads "$threads" --count "$COUNT" --dim "$DIM" --durability group \
                $raw $backend
            rm -rf "$TMP/w$run" "$TMP/w$run-served"
        done
    done
done
for backend in "" --qdrant; do
    "$BENCH" recall "$TMP/recall$backend" --memories "$MEMORIES" --dim "$DIM" --queries "$QUERIES" --expand 1 \
        $backend
done
