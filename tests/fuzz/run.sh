#!/usr/bin/env bash
# Builds each libFuzzer target with clang (-fsanitize=fuzzer,address,undefined, every UB report fatal) and runs
# it for SECONDS (default 60) from the committed seed corpus. A crash, sanitizer report, leak, slow input
# (-timeout, 10 s), memory blow-up (-rss_limit_mb; one malloc over the same limit counts too) or a hang of the
# whole run makes the script fail (exit 1) and leaves the input as build-fuzz/crash-TARGET-*.
#   tests/fuzz/run.sh [SECONDS] [TARGET ...]   targets: safetensors idx json studio share (default: all)
#   FUZZ_JOBS=N runs N targets at a time (default 1); FUZZ_OUT=DIR builds elsewhere (default build-fuzz/).
# Prints one line per target: executions, seconds, new corpus entries, and the verdict.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx json studio share)
out=${FUZZ_OUT:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-1}
CXX=${CXX_FUZZ:-clang++}
# Eigen's and stb's include folders from their Debian pkg-config files, as system headers.
read -r -a dep_includes <<< "$(pkg-config --cflags-only-I eigen3 stb | sed 's/-I/-isystem /g')"
# As CMake builds the engine: nlohmann/json without exceptions, zlib for .gz files (-lz at the link below).
flags=(-std=c++17 -O1 -g -fno-sanitize-recover=all -I"$root/src" "${dep_includes[@]}" -DEIGEN_MPL2_ONLY
       -DJSON_NOEXCEPTION -DVAE_HAVE_ZLIB)
command -v "$CXX" >/dev/null || { echo "[fuzz] $CXX not found (Debian: clang libclang-rt-dev)" >&2; exit 1; }

# The engine (every file of src/vae) and the studio's logic (src/app and src/app/panels without main and
# texture_gl, which need GL, with Dear ImGui's core from .deps/imgui-src, fetched by ./studio.sh setup),
# compiled once with coverage and the sanitizers, FUZZ_JOBS files at a time. An object is rebuilt when its source,
# any header under src/ or this script is newer.
engine=() studio=()
for f in "$root"/src/vae/*.cpp; do engine+=("vae/$(basename "$f" .cpp)"); done
for f in "$root"/src/app/*.cpp; do
  case $(basename "$f") in main.cpp|texture_gl.cpp) ;; *) studio+=("app/$(basename "$f" .cpp)") ;; esac
done
for f in "$root"/src/app/panels/*.cpp; do studio+=("app/panels/$(basename "$f" .cpp)"); done
imgui=$root/.deps/imgui-src
[ -f "$imgui/imgui.h" ] || { echo "[fuzz] no Dear ImGui source in $imgui (run ./studio.sh setup)" >&2; exit 1; }
flags+=(-isystem "$imgui")
newest_header=$(find "$root/src" -name '*.hpp' -newer "$out/obj/.stamp" 2>/dev/null | head -1 || true)
mkdir -p "$out/obj"
obj() { echo "$out/obj/${1//\//_}.o"; }
compile() {
  echo "[fuzz] compiling src/$1.cpp" >&2
  "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$root/src/$1.cpp" -o "$(obj "$1")"
}
running=0 failed=0
for s in "${engine[@]}" "${studio[@]}"; do
  o=$(obj "$s")
  if [ ! -f "$o" ] || [ "$root/src/$s.cpp" -nt "$o" ] || [ -n "$newest_header" ] || [ "$0" -nt "$o" ]; then
    rm -f "$o"
    compile "$s" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n || failed=1; running=$((running - 1)); fi
  fi
done
while [ "$running" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
[ "$failed" -eq 0 ] || { echo "[fuzz] compiling failed" >&2; exit 1; }
touch "$out/obj/.stamp"
# ImGui's core: third-party, compiled once with the same sanitizers, its warnings silenced.
imgui_objs=()
for f in imgui imgui_draw imgui_tables imgui_widgets; do
  o=$out/obj/imgui_$f.o
  imgui_objs+=("$o")
  [ -f "$o" ] || "$CXX" "${flags[@]}" -w -fsanitize=fuzzer-no-link,address,undefined -c "$imgui/$f.cpp" -o "$o"
done
engine_objs=() studio_objs=()
for s in "${engine[@]}"; do engine_objs+=("$(obj "$s")"); done
for s in "${studio[@]}"; do studio_objs+=("$(obj "$s")"); done

for t in "${targets[@]}"; do
  [ -f "$here/fuzz_$t.cpp" ] || { echo "[fuzz] no target $t (tests/fuzz/fuzz_$t.cpp)" >&2; exit 1; }
  objs=("${engine_objs[@]}")
  case $t in studio|share) objs=("${studio_objs[@]}" "${imgui_objs[@]}" "${engine_objs[@]}") ;; esac
  echo "[fuzz] building $t" >&2
  "$CXX" "${flags[@]}" -fsanitize=fuzzer,address,undefined "$here/fuzz_$t.cpp" "${objs[@]}" -lz -pthread -o "$out/fuzz_$t"
done

# One target: fresh working corpus seeded from the committed one; the whole run is killed if it outlives its
# time by five minutes (a hang that libFuzzer's own -timeout did not catch).
run_one() {
  local t=$1 corpus=$out/corpus-$t log=$out/fuzz-$t.log rc=0
  rm -rf "$corpus" "$out/crash-$t-"*
  mkdir -p "$corpus"
  cp "$here/corpus/$t/"* "$corpus/"
  (cd "$out" && timeout -s KILL $((secs + 300)) "$out/fuzz_$t" "$corpus" -max_total_time="$secs" -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crash-$t-" > "$log" 2>&1) || rc=$?
  local runs time_s seeds found
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  time_s=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  seeds=$(ls "$here/corpus/$t" | wc -l)
  found=$(( $(ls "$corpus" | wc -l) - seeds ))
  if [ "$rc" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    echo "[fuzz] $t: ${runs:-?} executions in ${time_s:-?} s, $found new corpus inputs, no findings"
  else
    [ "$rc" -eq 137 ] && echo "[fuzz] $t: killed after $((secs + 300)) s: the fuzzer hung" >> "$log"
    echo "[fuzz] $t: FAILED (exit $rc) after ${runs:-?} executions; log $log, input $out/crash-$t-*"
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written|hung' "$log" | head -20
    return 1
  fi
}

status=0 pids=() names=()
wait_oldest() {
  wait "${pids[0]}" || status=1
  cat "$out/result-${names[0]}"
  pids=("${pids[@]:1}") names=("${names[@]:1}")
}
for t in "${targets[@]}"; do
  echo "[fuzz] running $t for ${secs} s" >&2
  run_one "$t" > "$out/result-$t" &
  pids+=($!) names+=("$t")
  [ ${#pids[@]} -lt "$jobs" ] || wait_oldest
done
while [ ${#pids[@]} -gt 0 ]; do wait_oldest; done
exit $status
