#!/usr/bin/env bash
# Runs every fuzz target of a fuzz build for a bounded time; `make fuzz FUZZ_SECONDS=N` calls it.
# Fails when any target finds a crash, leak, timeout or out-of-memory (libFuzzer exits non-zero
# and leaves the input in <build>/fuzz/artifacts/). New corpus entries go to
# <build>/fuzz/corpus/<target>/, never into the source tree.
#
#   fuzz/run_fuzzers.sh <build dir> <seconds per target> [target...]
set -euo pipefail
build=${1:?usage: run_fuzzers.sh <build dir> <seconds> [target...]}
seconds=${2:?usage: run_fuzzers.sh <build dir> <seconds> [target...]}
shift 2
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$build/fuzz/bin
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$bin"/*_fuzz; do targets+=("$(basename "$f")"); done
fi
mkdir -p "$build/fuzz/artifacts"
failed=()
for target in "${targets[@]}"; do
  name=${target%_fuzz}
  work=$build/fuzz/corpus/$name
  mkdir -p "$work"
  dirs=("$work")
  for seeds in "$src/corpus/$name" "$build/fuzz/seeds/$name"; do
    [ -d "$seeds" ] && dirs+=("$seeds")
  done
  args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/fuzz/artifacts/$name-")
  for dict in "$src/$name.dict" "$build/fuzz/seeds/$name.dict"; do
    if [ -f "$dict" ]; then args+=(-dict="$dict"); break; fi
  done
  echo "== $target: ${seconds}s (corpus: ${dirs[*]})"
  log=$build/fuzz/$name.log
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin/$target" "${args[@]}" "${dirs[@]}" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ +DONE' "$log" || true
  else
    echo "!! $target failed; the end of $log:"
    tail -n 60 "$log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build/fuzz/artifacts/)"
  exit 1
fi
