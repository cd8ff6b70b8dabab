#!/usr/bin/env bash
# Builds each libFuzzer target with clang (-fsanitize=fuzzer,address,undefined) and runs it for SECONDS (default
# 60) from the committed seed corpus; a crash, leak, timeout or sanitizer report fails the run (exit 1).
#   tests/fuzz/run.sh [SECONDS] [TARGET ...]      targets: safetensors idx json (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx json)
out=${FUZZ_OUT:-$root/build-fuzz}
mkdir -p "$out"
src=(prng gzip idx json safetensors model model_io latent_map)
CXX=${CXX_FUZZ:-clang++}
flags=(-std=c++17 -O1 -g -fno-sanitize-recover=undefined -I"$root/src" -I/usr/include/eigen3 -DEIGEN_MPL2_ONLY)
# The engine's files once, instrumented for coverage and the sanitizers; each target links them.
objs=()
for s in "${src[@]}"; do
  o=$out/obj/$s.o
  mkdir -p "$out/obj"
  if [ ! -f "$o" ] || [ "$root/src/vae/$s.cpp" -nt "$o" ]; then
    echo "[fuzz] compiling src/vae/$s.cpp" >&2
    "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$root/src/vae/$s.cpp" -o "$o"
  fi
  objs+=("$o")
done
status=0
for t in "${targets[@]}"; do
  bin=$out/fuzz_$t
  echo "[fuzz] building $t" >&2
  "$CXX" "${flags[@]}" -fsanitize=fuzzer,address,undefined "$here/fuzz_$t.cpp" "${objs[@]}" -o "$bin"
  corpus=$out/corpus-$t
  mkdir -p "$corpus"
  cp -n "$here/corpus/$t/"* "$corpus/" 2>/dev/null || true
  echo "[fuzz] running $t for ${secs}s" >&2
  if ! (cd "$out" && "$bin" "$corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
          -artifact_prefix="$out/crash-$t-" 2> "$out/fuzz-$t.log"); then
    echo "[fuzz] $t FAILED; see $out/fuzz-$t.log and $out/crash-$t-*" >&2
    tail -30 "$out/fuzz-$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$out/fuzz-$t.log" | tail -1 >&2
  fi
done
exit $status
