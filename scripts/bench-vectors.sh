#!/usr/bin/env bash
# Vector store benchmark: exact search and bulk upsert through engram's API on an embedding-like data set from
# shared/bench/gen_vectors.py, next to this machine's measured memory read bandwidth (bench/membw), in one run.
# Exact search reads every vector once per query, so its speed is judged as a fraction of that bandwidth.
#
# usage: scripts/bench-vectors.sh [N] [DIM] [NQUERIES]        (default 100000 1024 200)
#
# Environment: ENGRAM_SHARED (shared/ with bench/, default: beside the repository), ENGRAM_BENCH_CACHE (where
# data sets are kept for reuse, default ~/.cache/engram-bench).
set -euo pipefail

N=${1:-100000}
DIM=${2:-1024}
NQ=${3:-200}

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ENGRAM_SHARED:-$REPO/../shared}
CACHE=${ENGRAM_BENCH_CACHE:-$HOME/.cache/engram-bench}
DATA=$CACHE/vectors-n$N-d$DIM-q$NQ-cos
if [ ! -f "$SHARED/bench/gen_vectors.py" ]; then
  echo "bench-vectors: no data generator in $SHARED/bench (set ENGRAM_SHARED)" >&2
  exit 2
fi

"$REPO/scripts/install-deps.sh"
make -s -C "$SHARED/bench" deps 2>/dev/null || { [ "$(id -u)" -ne 0 ] && sudo make -s -C "$SHARED/bench" deps; }

# Debian's python3 has Debian's numpy (python3-numpy); another python3 earlier on PATH may not.
if [ ! -f "$DATA/gt.ivecs" ]; then
  rm -rf "$DATA.tmp"
  /usr/bin/python3 "$SHARED/bench/gen_vectors.py" "$DATA.tmp" "$N" "$DIM" "$NQ" --metric cos >&2
  rm -rf "$DATA"
  mv "$DATA.tmp" "$DATA"
fi

cmake -S "$REPO" -B "$REPO/build-bench" -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_TESTS=OFF >/dev/null
cmake --build "$REPO/build-bench" --target vector_bench membw -j"$(nproc)" >/dev/null

membw=$("$REPO/build-bench/bench/membw")
echo "$membw"
engram=$("$REPO/build-bench/bench/vector_bench" "$DATA/base.fvecs" "$DATA/query.fvecs" "$DATA/gt.ivecs" cos --no-sync)
echo "$engram"

value() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
awk -v scan="$(value "$engram" scan_gbps)" -v read="$(value "$membw" read_gbps)" \
    'BEGIN { printf "ratio engram_exact_search_scan/memory_read_bandwidth=%.3f\n", scan / read }'
