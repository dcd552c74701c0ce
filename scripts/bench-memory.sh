#!/usr/bin/env bash
# Memory API benchmark: what the create_memory saga and its write-ahead log cost over writing the same point and
# node straight to the two stores, per durability (none, fsync, group) and for 1 and 8 concurrent writers; then
# recall latency (limit 10, one hop of graph context) over a loaded folder of episodes. Target: in group mode
# with 8 writers, saga creates/s is at least 85% of raw creates/s (overhead <= 15%).
#
# usage: scripts/bench-memory.sh [COUNT] [REPEATS] [MEMORIES] [QUERIES]     (default 2000 3 100000 200)
#   COUNT     creates per fsync and group run (none runs make 5x as many: they are much faster)
#   REPEATS   runs of each configuration, raw and saga alternating so that a slow spell of the disk hits both;
#             the table compares medians
#   MEMORIES  episodes loaded for the recall run (with 1000 entities, each episode related to 2 of them)
#
# Environment:
#   ENGRAM_BENCH_TMP    where the write runs' scratch folders go (default /var/tmp: disk-backed, as syncs must be;
#                       a tmpfs makes them free). Each run gets a fresh folder, removed after.
#   ENGRAM_BENCH_CACHE  where the recall folder is kept for reuse (default ~/.cache/engram-bench); it takes about
#                       MEMORIES * 5.5 KB (vectors, graph and log). Remove memory-n*-d1024 there to reload.
#
# Prints every benchmark line, a table of saga/raw ratios, then the recall line (with the load time, or
# load=reused when the folder was loaded by an earlier run).
set -euo pipefail

COUNT=${1:-2000}
REPEATS=${2:-3}
MEMORIES=${3:-100000}
QUERIES=${4:-200}
DIM=1024

REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP_BASE=${ENGRAM_BENCH_TMP:-/var/tmp}
CACHE=${ENGRAM_BENCH_CACHE:-$HOME/.cache/engram-bench}

"$REPO/scripts/install-deps.sh"
cmake -S "$REPO" -B "$REPO/build-bench" -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_BENCH=ON \
      -DENGRAM_BUILD_TESTS=OFF >/dev/null
cmake --build "$REPO/build-bench" --target memory_bench -j"$(nproc)" >/dev/null
BENCH=$REPO/build-bench/bench/memory_bench

SCRATCH=$(mktemp -d "$TMP_BASE/engram-memory-bench-XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

echo "== memory writes: $COUNT creates per fsync/group run, $((COUNT * 5)) per none run, dim $DIM," \
     "$REPEATS runs each ($SCRATCH)" >&2
lines=()
for mode in none fsync group; do
  n=$COUNT
  [ "$mode" = none ] && n=$((COUNT * 5))
  for threads in 1 8; do
    for ((run = 1; run <= REPEATS; run++)); do
      for raw in --raw ""; do
        line=$("$BENCH" writes "$SCRATCH/run" --threads "$threads" --count "$n" --dim "$DIM" --durability "$mode" \
               $raw)
        rm -rf "$SCRATCH/run"
        echo "$line"
        lines+=("$line")
      done
    done
  done
done

# One row per mode and thread count: the median creates/s and p99 of the raw and the saga runs, the ratio of the
# medians and the overhead 1 - ratio; the spread is the slowest and fastest run of each.
printf '%s\n' "${lines[@]}" | awk '
  # Splits list into a, sorted ascending as numbers (insertion sort: a few runs); returns the count.
  function sorted(list, a,   n, i, j, x) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) {
      x = a[i] + 0
      for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]
      a[j + 1] = x
    }
    return n
  }
  function median(list,   a, n) { n = sorted(list, a); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function spread(list,   a, n) { n = sorted(list, a); return a[1] "-" a[n] }
  {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["mode"] " " f["threads"] " " f["saga"]
    rate[key] = rate[key] " " f["creates_per_s"]; p99[key] = p99[key] " " f["p99_us"]
    row = f["mode"] " " f["threads"]
    if (!(row in seen)) { seen[row] = 1; order[++rows] = row }
  }
  END {
    printf "\n%-6s %7s %10s %10s %15s %15s %10s %10s %9s %9s\n", "mode", "threads", "raw_per_s", "saga_per_s",
           "raw_range", "saga_range", "raw_p99us", "saga_p99us", "saga/raw", "overhead"
    for (r = 1; r <= rows; r++) {
      k = order[r]; split(k, m, " ")
      raw = median(rate[k " no"]); saga = median(rate[k " yes"]); ratio = saga / raw
      printf "%-6s %7s %10.0f %10.0f %15s %15s %10.0f %10.0f %9.3f %8.1f%%\n", m[1], m[2], raw, saga,
             spread(rate[k " no"]), spread(rate[k " yes"]), median(p99[k " no"]), median(p99[k " yes"]), ratio,
             (1 - ratio) * 100
      if (k == "group 8") target = (1 - ratio) * 100
    }
    printf "target: group commit, 8 writers, overhead <= 15%%: %.1f%% (%s)\n\n", target,
           target <= 15 ? "met" : "NOT met"
  }'

FOLDER=$CACHE/memory-n$MEMORIES-d$DIM
mkdir -p "$CACHE"
if [ -f "$FOLDER/FORMAT" ]; then
  echo "== memory recall: reusing $FOLDER" >&2
else
  echo "== memory recall: loading $MEMORIES episodes into $FOLDER (durability none, 4 threads)" >&2
fi
"$BENCH" recall "$FOLDER" --memories "$MEMORIES" --dim "$DIM" --queries "$QUERIES" --expand 1
