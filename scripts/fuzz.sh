#!/usr/bin/env bash
# Builds engram's libFuzzer targets (fuzz/fuzz_*.c; clang, ASan + UBSan, every library object instrumented) and
# runs each for a fixed time on a scratch copy of its seed corpus (fuzz/corpus/<name>/), with its dictionary
# (fuzz/<name>.dict) and extra libFuzzer flags (one line of fuzz/<name>.options) when it has them. Prints, per target, the executions, their rate and the coverage reached;
# exits non-zero if any target crashed, leaked or tripped a sanitizer, leaving the input in
# build-fuzz/findings/<name>/ — minimise it, add it to fuzz/regressions/<name>/ (the replay tests then keep it
# fixed) and fix the bug.
#
# usage: scripts/fuzz.sh [SECONDS] [NAME...]    SECONDS per target (default 30; hours for a long run: 3600 ...),
#                                               NAMEs among exec filter wal archive settings router packstream bolt_session bolt_client cypher cypher_exec
#                                               (default: all)
#        ENGRAM_FUZZ_SEED=N                     libFuzzer's random seed (default: a new one each run); a fixed
#                                               seed replays the same inputs in the same order
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS] [NAME...]" >&2; exit 2; }
[[ ${ENGRAM_FUZZ_SEED:-0} =~ ^[0-9]+$ ]] || { echo "$0: ENGRAM_FUZZ_SEED must be a number" >&2; exit 2; }
[ $# -gt 0 ] && shift
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do names+=("$(basename "$f" .c | sed 's/^fuzz_//')"); done
fi

scripts/install-deps.sh
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DENGRAM_FUZZ=ON -DENGRAM_BUILD_TESTS=OFF \
  -DENGRAM_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null

failed=()
for name in "${names[@]}"; do
  target=build-fuzz/fuzz/fuzz_$name
  [ -x "$target" ] || { echo "fuzz: no target named $name" >&2; exit 2; }
  work=$(mktemp -d)
  findings=build-fuzz/findings/$name
  mkdir -p "$findings"
  [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
  options=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/" -seed="${ENGRAM_FUZZ_SEED:-0}")
  [ -f "fuzz/$name.dict" ] && options+=(-dict="fuzz/$name.dict")
  [ -f "fuzz/$name.options" ] && read -r -a extra <"fuzz/$name.options" && options+=("${extra[@]}")
  log=build-fuzz/fuzz-$name.log
  if "$target" "${options[@]}" "$work" >"$log" 2>&1; then status=ok; else status=FAILED; failed+=("$name"); fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
  printf 'fuzz %-9s %s: %s runs in %ss (%s/s), %s, corpus %s files\n' "$name" "$status" "${runs:-?}" "$seconds" \
    "${rate:-?}" "${cov:-cov: ?}" "$(ls "$work" | wc -l)"
  if [ "$status" = FAILED ]; then
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 20 >&2 || true
  fi
  rm -rf "$work"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${failed[*]} failed; inputs in build-fuzz/findings/" >&2
  exit 1
fi
