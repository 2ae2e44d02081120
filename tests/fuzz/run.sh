#!/usr/bin/env bash
# Runs libFuzzer targets: first every saved regression input of a target
# (tests/fuzz/regressions/<target>/, each once), then fuzzing from its seed
# corpus (tests/fuzz/corpus/<target>/) for a bounded time. The seed corpus
# in the repository is never written to; new inputs go to a work directory.
#
#   tests/fuzz/run.sh [--build DIR] [--seconds N] [--stats DIR] [TARGET...]
#
# DIR is a build configured with -DMETALBMC_FUZZ=ON -DCMAKE_C_COMPILER=clang
# (default: build-fuzz beside the source tree); TARGET is e.g. datagram
# (default: every fuzz_* binary in DIR/tests/fuzz). CI runs 60 s each; for
# a long hunt: tests/fuzz/run.sh --build DIR --seconds 3600.
# A crash leaves its input in STATS/artifacts/<target>/; add it to
# tests/fuzz/regressions/<target>/ with the fix so CI replays it forever.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build="$src/../build-fuzz"
seconds=60
stats=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --stats) stats=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ -n "$stats" ] || stats="$build/tests/fuzz/stats"
bindir="$build/tests/fuzz"
if [ ${#targets[@]} -eq 0 ]; then
  for b in "$bindir"/fuzz_*; do
    [ -x "$b" ] && [ -f "$b" ] && targets+=("$(basename "$b" | sed 's/^fuzz_//')")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets in $bindir (configure with -DMETALBMC_FUZZ=ON -DCMAKE_C_COMPILER=clang)" >&2
  exit 2
fi
mkdir -p "$stats"

failed=0
passed=0
for t in "${targets[@]}"; do
  bin="$bindir/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz_$t: no binary at $bin" >&2
    failed=$((failed + 1))
    continue
  fi
  log="$stats/$t.log"
  art="$stats/artifacts/$t"
  work="$stats/work/$t"
  mkdir -p "$art" "$work"
  : > "$log"
  reg="$here/regressions/$t"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
    if ! "$bin" -runs=1 "$reg"/* >>"$log" 2>&1; then
      echo "fuzz_$t: a saved regression input crashes again (see $log)"
      failed=$((failed + 1))
      continue
    fi
    echo "fuzz_$t: $(ls "$reg" | wc -l) regression inputs replayed"
  fi
  seeds=()
  [ -d "$here/corpus/$t" ] && seeds=("$here/corpus/$t")
  dict=()
  [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
  # -use_value_profile helps past the checksums and magic numbers
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -use_value_profile=1 -artifact_prefix="$art/" "${dict[@]}" \
         "$work" "${seeds[@]}" >>"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(ls "$art" 2>/dev/null | grep -c -E '^(crash|leak|timeout|oom)-' || true)
  echo "$(date -u +%FT%TZ) $t seconds=$seconds execs=${execs:-0} crashes=$crashes rc=$rc" >> "$stats/history.txt"
  if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
    echo "fuzz_$t: FAILED after ${execs:-?} executions; input and log in $art, $log"
    tail -40 "$log"
    failed=$((failed + 1))
  else
    echo "fuzz_$t: ${execs:-0} executions in ${seconds}s, no crash"
    passed=$((passed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
