#!/usr/bin/env bash
# Cold archive benchmark: how fast eg_archive_older_than moves aged episodes out of both hot stores into the
# archive, how fast eg_restore_archived brings them back (1 thread, then THREADS splitting the ids), and the bytes
# an archived memory takes (data and metadata files) next to its raw size — with durability group (the default)
# and none. Archive files are synced whatever the durability; it changes the log and the stores only.
#
# usage: scripts/bench-archive.sh [MEMORIES] [DIM] [THREADS]     (default 10000 1024 4)
#   MEMORIES  episodes loaded once (durability none, 4 threads), created 60 days ago; each mode runs on its own
#             copy of that folder, archives everything older than 30 days twice and restores it twice
#   THREADS   restore threads of the second round
#
# Environment:
#   TMPDIR    where the scratch folder goes (default /tmp); removed after. It must be disk-backed: on a tmpfs
#             the archive's syncs are free. It takes about MEMORIES * 40 KB at the peak.
#
# Prints the load line, two archive-bench lines per mode (one per restore round) and an archive-check line per
# mode (every episode hot again, the archive empty). About 5 to 5.5 minutes on 2 cores for the defaults.
set -euo pipefail

MEMORIES=${1:-10000}
DIM=${2:-1024}
THREADS=${3:-4}

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$REPO/build-archbench

"$REPO/scripts/install-deps.sh"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_BENCH=ON -DENGRAM_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target archive_bench -j"$(nproc)" >/dev/null
BENCH=$BUILD/bench/archive_bench

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/engram-archive-bench-XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

echo "== archive: loading $MEMORIES episodes of dim $DIM ($SCRATCH)" >&2
"$BENCH" load "$SCRATCH/loaded" --memories "$MEMORIES" --dim "$DIM" --threads 4
for mode in group none; do
  echo "== archive: durability $mode" >&2
  cp -a "$SCRATCH/loaded" "$SCRATCH/$mode"
  "$BENCH" run "$SCRATCH/$mode" --durability "$mode" --restore-threads "$THREADS"
  rm -rf "$SCRATCH/${mode:?}"
done
