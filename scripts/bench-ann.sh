#!/usr/bin/env bash
# Approximate search benchmark (the acceptance run of the HNSW index): engram's vector store (bench/ann.c,
# engram-ann) against hnswlib (peer_hnswlib in shared/bench) on the same generated files, in the same run, with
# the same M, ef_construct and ef list, one thread each. Prints both lines per ef, then the comparison the HNSW
# issue sets targets on:
#   - queries/s at equal recall@10 (each system's queries/s interpolated linearly in recall between neighbouring
#     ef points; ef itself is not comparable across implementations), target >= 1.25x at recall >= 0.95;
#   - build rate >= 1.0x and index memory <= 1.1x hnswlib's;
#   - int8 quantization: index memory <= 0.4x engram's float index, at recall@10 >= 0.95;
#   - a keyword filter matching 1% and 20% of the points: recall@10 >= 0.95 and full result counts (10).
# Ratios are quoted from this one run only: these machines are noisy (see shared/bench/README.md).
#
# usage: scripts/bench-ann.sh [--plot OUT.png] [N DIM NQ]      (default 100000 128 1000; the issue also names
#                                                               30000 1024 500)
#   --plot OUT.png   also plot recall@10 (x) against queries/s (y, log scale) for hnswlib, engram and engram int8
#                    with gnuplot (Debian: gnuplot-nox); the plotted data is left beside it as OUT-*.dat
#
# Environment: ENGRAM_SHARED (shared/ with bench/, default: beside the repository), ENGRAM_PEERS (where the peer
# binaries are built, default ~/.cache/engram-peers), ENGRAM_BENCH_CACHE (generated data sets, kept for reuse,
# default ~/.cache/engram-bench), ENGRAM_ANN_EFS (ef list, default 10,16,32,48,64,96,128,256),
# ENGRAM_ANN_OVERSAMPLING (of the int8 run, default 2).
set -euo pipefail

usage() {
  echo "usage: $0 [--plot OUT.png] [N DIM NQ]" >&2
  exit 2
}

PLOT=""
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --plot) [ $# -ge 2 ] || usage; PLOT=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "bench-ann: unknown option $1" >&2; usage ;;
    *) positional+=("$1"); shift ;;
  esac
done
case ${#positional[@]} in
  0) N=100000 DIM=128 NQ=1000 ;;
  3) N=${positional[0]} DIM=${positional[1]} NQ=${positional[2]} ;;
  *) usage ;;
esac
for x in "$N" "$DIM" "$NQ"; do
  [[ $x =~ ^[1-9][0-9]*$ ]] || { echo "bench-ann: N, DIM and NQ must be positive whole numbers" >&2; usage; }
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${ENGRAM_SHARED:-$REPO/../shared}
PEERS=${ENGRAM_PEERS:-$HOME/.cache/engram-peers}
CACHE=${ENGRAM_BENCH_CACHE:-$HOME/.cache/engram-bench}
DATA=$CACHE/vectors-n$N-d$DIM-q$NQ-cos # the same name as bench-vectors.sh uses: one data set serves both
BUILD=$REPO/build-bench                # the release build folder of every bench script
METRIC=cos
M=16
EFC=200
EFS=${ENGRAM_ANN_EFS:-10,16,32,48,64,96,128,256}
OVERSAMPLING=${ENGRAM_ANN_OVERSAMPLING:-2}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-ann.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --plot needs gnuplot: find out before the long runs, not after. Installing it is left to the user (this script
# installs only what the benchmark itself needs).
check_gnuplot() {
  [ -n "$PLOT" ] || return 0
  if ! command -v gnuplot >/dev/null 2>&1; then
    echo "bench-ann: --plot needs gnuplot, which is not installed; on Debian: apt-get install gnuplot-nox" >&2
    exit 1
  fi
}

# engram's build dependencies, and the peers' Debian packages (`make deps` is a no-op when they are present, so
# sudo is only tried when it is not); then peer_hnswlib, built with the flags every peer uses.
build_peers() {
  if [ ! -f "$SHARED/bench/peer_hnswlib.cpp" ]; then
    echo "bench-ann: no peer benchmarks in $SHARED/bench (set ENGRAM_SHARED)" >&2
    exit 2
  fi
  "$REPO/scripts/install-deps.sh"
  make -s -C "$SHARED/bench" deps 2>/dev/null || { [ "$(id -u)" -ne 0 ] && sudo make -s -C "$SHARED/bench" deps; }
  make -s -C "$SHARED/bench" OUT="$PEERS" "$PEERS/peer_hnswlib" >&2
}

# The data set, generated once and cached. Debian's python3 has Debian's numpy (python3-numpy); another python3
# earlier on PATH may not.
make_data() {
  if [ ! -f "$DATA/gt.ivecs" ]; then
    rm -rf "$DATA.tmp"
    /usr/bin/python3 "$SHARED/bench/gen_vectors.py" "$DATA.tmp" "$N" "$DIM" "$NQ" --metric "$METRIC" >&2
    rm -rf "$DATA"
    mv "$DATA.tmp" "$DATA"
  fi
}

build_engram() {
  cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" --target engram-ann -j"$(nproc)" >/dev/null
}

# run NAME COMMAND...: runs one benchmark, showing its lines as they come and keeping them in $WORK/NAME.txt.
run() {
  local name=$1
  shift
  echo "== $name" >&2
  "$@" | tee "$WORK/$name.txt"
}

run_all() {
  local files=("$DATA/base.fvecs" "$DATA/query.fvecs" "$DATA/gt.ivecs" "$METRIC" "$M" "$EFC" "$EFS")
  echo "bench-ann: $N x $DIM $METRIC, $NQ queries, M=$M efc=$EFC, one thread; $(nproc) CPUs," \
       "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  run hnswlib "$PEERS/peer_hnswlib" "${files[@]}"
  run engram "$BUILD/bench/engram-ann" "${files[@]}"
  run engram-int8 "$BUILD/bench/engram-ann" "${files[@]}" --int8 --oversampling "$OVERSAMPLING"
  run filter1 "$BUILD/bench/engram-ann" "${files[@]}" --filter 1
  run filter20 "$BUILD/bench/engram-ann" "${files[@]}" --filter 20
}

# The comparison, from the kept lines (each "name key=value ..."). One awk program: per ef, at equal recall,
# build and memory, then int8 and the filters.
compare() {
  awk -v n_points="$N" '
    # Every line: its fields by key, numbered per file (system) in ef order.
    FNR == 1 { sys = FILENAME; sub(/.*\//, "", sys); sub(/\.txt$/, "", sys); cnt[sys] = 0 }
    {
      i = ++cnt[sys]
      for (f = 2; f <= NF; f++) { eq = index($f, "="); v[sys, i, substr($f, 1, eq - 1)] = substr($f, eq + 1) }
      ef[sys, i] = v[sys, i, "ef"]; rec[sys, i] = v[sys, i, "recall@10"] + 0; qps[sys, i] = v[sys, i, "qps"] + 0
    }
    function get(s, key) { return v[s, 1, key] }
    # queries/s of system s at recall r: linear in recall between the first pair of neighbouring ef points that
    # brackets r. When even the smallest ef is above r, that point'"'"'s queries/s is a lower bound: lower = 1.
    # When no ef reaches r: 0.
    function qps_at(s, r,    i, a, b) {
      lower = 0
      for (i = 1; i < cnt[s]; i++) {
        a = rec[s, i]; b = rec[s, i + 1]
        if ((a <= r && r <= b) || (b <= r && r <= a)) {
          if (a == b) return qps[s, i]
          return qps[s, i] + (qps[s, i + 1] - qps[s, i]) * (r - a) / (b - a)
        }
      }
      if (cnt[s] >= 1 && rec[s, 1] >= r) { lower = 1; return qps[s, 1] }
      if (cnt[s] == 1 && rec[s, 1] == r) return qps[s, 1]
      return 0
    }
    function verdict(ok) { return ok ? "ok" : "MISS" }
    END {
      h = "hnswlib"; e = "engram"; q8 = "engram-int8"
      if (get(e, "indexed") + 0 != n_points)
        printf "\nNOTE: engram indexed %s of %s points: its figures are from exact search, not HNSW; the ratios below only check the plumbing.\n", get(e, "indexed"), n_points

      printf "\n%-5s | %-17s | %-17s | %s\n", "ef", "hnswlib", "engram", "engram/hnswlib"
      printf "%-5s | %-8s %8s | %-8s %8s | %s\n", "", "recall", "qps", "recall", "qps", "qps"
      for (i = 1; i <= cnt[h] || i <= cnt[e]; i++)
        printf "%-5s | %-8s %8s | %-8s %8s | %.2f\n", ef[h, i] != "" ? ef[h, i] : ef[e, i], v[h, i, "recall@10"],
               v[h, i, "qps"], v[e, i, "recall@10"], v[e, i, "qps"], qps[h, i] ? qps[e, i] / qps[h, i] : 0

      printf "\nAt equal recall@10 (queries/s interpolated between ef points; +: even the smallest ef exceeds this recall, so its queries/s is a lower bound):\n"
      printf "%-7s | %10s | %10s | %-14s | %s\n", "recall", "hnswlib", "engram", "engram/hnswlib", "target >= 1.25 from 0.95"
      split("0.90 0.95 0.97 0.99", levels, " ")
      for (l = 1; l <= 4; l++) {
        r = levels[l] + 0
        qh = qps_at(h, r); lh = lower; qe = qps_at(e, r); le = lower
        sh = qh ? sprintf("%.0f%s", qh, lh ? "+" : "") : "not reached"
        se = qe ? sprintf("%.0f%s", qe, le ? "+" : "") : "not reached"
        # A lower bound on engram'"'"'s side bounds the ratio from below, on hnswlib'"'"'s from above; on both, nothing.
        ratio = (qh && qe) ? sprintf("%s%.2f", le ? (lh ? "? " : ">= ") : (lh ? "<= " : ""), qe / qh) : "-"
        target = r >= 0.95 ? verdict(qh && qe && qe / qh >= 1.25) : "(informative)"
        printf "%-7s | %10s | %10s | %-14s | %s\n", levels[l], sh, se, ratio, target
      }

      bh = get(h, "build_per_s") + 0; be = get(e, "build_per_s") + 0
      mh = get(h, "index_mb") + 0; me = get(e, "index_mb") + 0
      printf "\nBuild: hnswlib %s points/s (%s s), engram %s points/s (%s s): ratio %.2f  target >= 1.0: %s\n",
             get(h, "build_per_s"), get(h, "build_s"), get(e, "build_per_s"), get(e, "build_s"),
             bh ? be / bh : 0, verdict(bh && be / bh >= 1.0)
      printf "Index memory: hnswlib %s MB (RSS growth), engram %s MB (anonymous RSS growth; all RSS %s MB): ratio %.2f  target <= 1.1: %s\n",
             get(h, "index_mb"), get(e, "index_mb"), get(e, "rss_total_mb"), mh ? me / mh : 0, verdict(mh && me / mh <= 1.1)

      if (cnt[q8]) {
        m8 = get(q8, "index_mb") + 0
        best = 0
        for (i = 1; i <= cnt[q8]; i++) if (rec[q8, i] >= 0.95) { best = i; break }
        printf "\nint8 (oversampling %s): index %s MB vs float %s MB: ratio %.2f; ", get(q8, "oversampling"),
               get(q8, "index_mb"), get(e, "index_mb"), me ? m8 / me : 0
        if (best) printf "recall@10 %s at ef=%s (%s qps; float engram at that recall: %.0f qps)", v[q8, best, "recall@10"], ef[q8, best], v[q8, best, "qps"], qps_at(e, rec[q8, best])
        else printf "recall@10 never reaches 0.95"
        printf "  target <= 0.4 at recall >= 0.95: %s\n", verdict(me && m8 / me <= 0.4 && best)
        printf "%-5s | %-8s %8s\n", "ef", "recall", "qps"
        for (i = 1; i <= cnt[q8]; i++) printf "%-5s | %-8s %8s\n", ef[q8, i], v[q8, i, "recall@10"], v[q8, i, "qps"]
      }

      f1 = "filter1"; f20 = "filter20"
      if (cnt[f1] || cnt[f20]) {
        printf "\nFiltered (keyword bucket == b0; ground truth: engram exact search under the same filter):\n"
        printf "%-5s | %-28s | %-28s\n", "ef", "1% of points", "20% of points"
        printf "%-5s | %-8s %8s %10s | %-8s %8s %10s\n", "", "recall", "qps", "min_res", "recall", "qps", "min_res"
        ok1 = ok20 = 0; full = 1
        for (i = 1; i <= cnt[f1] || i <= cnt[f20]; i++) {
          printf "%-5s | %-8s %8s %10s | %-8s %8s %10s\n", ef[f1, i] != "" ? ef[f1, i] : ef[f20, i],
                 v[f1, i, "recall@10"], v[f1, i, "qps"], v[f1, i, "min_results"],
                 v[f20, i, "recall@10"], v[f20, i, "qps"], v[f20, i, "min_results"]
          if (rec[f1, i] >= 0.95) ok1 = 1
          if (rec[f20, i] >= 0.95) ok20 = 1
          if ((i <= cnt[f1] && v[f1, i, "min_results"] + 0 < 10) || (i <= cnt[f20] && v[f20, i, "min_results"] + 0 < 10)) full = 0
        }
        printf "target recall@10 >= 0.95 (at some ef): 1%% %s, 20%% %s; full result counts (10) at every ef: %s\n",
               verdict(ok1), verdict(ok20), verdict(full)
      }
    }' "$WORK/hnswlib.txt" "$WORK/engram.txt" "$WORK/engram-int8.txt" "$WORK/filter1.txt" "$WORK/filter20.txt"
}

# OUT-<system>.dat (ef recall qps per line) beside the PNG, then the plot: recall on x, queries/s on a log y axis.
plot() {
  local base=${PLOT%.png} system terminal=png
  mkdir -p "$(dirname "$PLOT")"
  for system in hnswlib engram engram-int8; do
    {
      echo "# $system: ef recall@10 qps ($N x $DIM $METRIC, $NQ queries, M=$M efc=$EFC)"
      awk '{ for (f = 2; f <= NF; f++) { split($f, kv, "="); x[kv[1]] = kv[2] } print x["ef"], x["recall@10"], x["qps"] }' \
        "$WORK/$system.txt"
    } >"$base-$system.dat"
  done
  # pngcairo draws smoother lines; Debian's gnuplot-nox has both.
  gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo && terminal="pngcairo"
  gnuplot <<EOF
set terminal $terminal noenhanced size 1000,650
set output "$PLOT"
set title "recall@10 vs queries/s: $N x $DIM $METRIC, $NQ queries, M=$M efc=$EFC, one thread"
set xlabel "recall@10"
set ylabel "queries/s"
set logscale y
set xrange [*:1.005]
set grid
set key bottom left
plot "$base-hnswlib.dat" using 2:3 with linespoints pt 7 title "hnswlib", \
     "$base-engram.dat" using 2:3 with linespoints pt 5 title "engram", \
     "$base-engram-int8.dat" using 2:3 with linespoints pt 9 title "engram int8 (oversampling $OVERSAMPLING)", \
     "$base-engram.dat" using 2:3:1 with labels offset 0,0.8 font ",8" notitle
EOF
  echo "bench-ann: wrote $PLOT (data: $base-*.dat)"
}

check_gnuplot
build_peers
make_data
build_engram
run_all
compare
[ -z "$PLOT" ] || plot
