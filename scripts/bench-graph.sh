#!/usr/bin/env bash
# Graph benchmark: engram's graph store against igraph (the peer in shared/bench), on the same generated graph,
# on this machine, in one run. Only ratios from one run are meaningful: these machines are noisy.
#
# usage: scripts/bench-graph.sh [NODES] [AVG_DEGREE] [NPAIRS] [MAX_DEPTH]      (default 100000 24 1000 4)
#
# Environment:
#   ENGRAM_SHARED       the shared/ checkout holding bench/ (default: shared/ beside the repository)
#   ENGRAM_PEERS        where the peer binaries are built (default: ~/.cache/engram-peers)
#   ENGRAM_BENCH_CACHE  where generated graphs are kept for reuse (default: ~/.cache/engram-bench)
#   ENGRAM_GRAPH_DIR    use the edges.txt / pairs.txt already in this folder instead (must match the sizes)
#
# Prints the igraph line, engram's line with sync on and with sync off, then one ratio line per engram line
# (engram / igraph find_path latency; below 1 means engram is faster). Exits 1 when the two disagree on how
# many pairs have a path within MAX_DEPTH: that is a correctness failure, not a performance result.
set -euo pipefail

NODES=${1:-100000}
DEGREE=${2:-24}
NPAIRS=${3:-1000}
DEPTH=${4:-4}

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ENGRAM_SHARED:-$REPO/../shared}
PEERS=${ENGRAM_PEERS:-$HOME/.cache/engram-peers}
CACHE=${ENGRAM_BENCH_CACHE:-$HOME/.cache/engram-bench}
GRAPH=${ENGRAM_GRAPH_DIR:-$CACHE/graph-n$NODES-d$DEGREE-p$NPAIRS}
if [ ! -f "$SHARED/bench/peer_igraph.c" ]; then
  echo "bench-graph: no peer benchmarks in $SHARED/bench (set ENGRAM_SHARED)" >&2
  exit 2
fi

"$REPO/scripts/install-deps.sh"
# The peers' Debian packages; `make deps` is a no-op when they are present, so sudo is only tried when it is not.
make -s -C "$SHARED/bench" deps 2>/dev/null || { [ "$(id -u)" -ne 0 ] && sudo make -s -C "$SHARED/bench" deps; }
make -s -C "$SHARED/bench" OUT="$PEERS" "$PEERS/peer_igraph"

# Generated once per size and reused: the generator is seeded, so the files only depend on the arguments.
# Written beside the target and renamed, so an interrupted run never leaves half a graph to be reused.
if [ ! -f "$GRAPH/edges.txt" ] || [ ! -f "$GRAPH/pairs.txt" ]; then
  mkdir -p "$(dirname "$GRAPH")"
  rm -rf "$GRAPH.tmp"
  python3 "$SHARED/bench/gen_graph.py" "$GRAPH.tmp" "$NODES" "$DEGREE" "$NPAIRS" >&2
  rm -rf "$GRAPH"
  mv "$GRAPH.tmp" "$GRAPH"
fi

cmake -S "$REPO" -B "$REPO/build-bench" -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_TESTS=OFF >/dev/null
cmake --build "$REPO/build-bench" --target graph_bench -j"$(nproc)" >/dev/null
BENCH=$REPO/build-bench/bench/graph_bench

echo "== graph benchmark: $NODES nodes, average degree $DEGREE, $NPAIRS pairs, max depth $DEPTH ($GRAPH)" >&2
igraph=$("$PEERS/peer_igraph" "$GRAPH/edges.txt" "$GRAPH/pairs.txt" "$DEPTH")
echo "$igraph"
engram_sync=$("$BENCH" "$GRAPH/edges.txt" "$GRAPH/pairs.txt" "$DEPTH")
echo "$engram_sync"
engram_nosync=$("$BENCH" "$GRAPH/edges.txt" "$GRAPH/pairs.txt" "$DEPTH" --no-sync)
echo "$engram_nosync"

# The value of key $2 in the key=value line $1.
value() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

status=0
for line in "$engram_sync" "$engram_nosync"; do
  match=yes
  [ "$(value "$line" paths_within_depth)" = "$(value "$igraph" paths_within_depth)" ] || match=no
  [ "$match" = yes ] || status=1
  awk -v sync="$(value "$line" sync)" -v same="$match" \
      -v e50="$(value "$line" find_path_p50_us)" -v e99="$(value "$line" find_path_p99_us)" \
      -v i50="$(value "$igraph" find_path_p50_us)" -v i99="$(value "$igraph" find_path_p99_us)" \
      'BEGIN { printf "ratio engram/igraph sync=%s find_path_p50=%.3f find_path_p99=%.3f paths_within_depth_match=%s\n",
               sync, e50 / i50, e99 / i99, same }'
done
[ "$status" -eq 0 ] || echo "bench-graph: engram and igraph disagree on paths_within_depth" >&2
exit "$status"
