#!/usr/bin/env bash
# The desktop app end to end: opens MODEL in a real window under Xvfb (Mesa's llvmpipe, OpenGL 3.3 core), renders
# 10 frames with a drawing on the canvas (--demo), writes the last one as OUT_DIR/native.png and the app's state
# for that frame as OUT_DIR/native.json (--state), and checks the screenshot against what a person would see
# (png_check.py --state): the canvas, the model's input, the reconstruction and the latent grid each show, pixel
# for pixel, the texture the app uploaded for them; the canvas has ink along the demo's 7 (its strokes are written
# out in png_check.py) and is black away from it; the grid's cells are images and unlike their neighbours.
# The shipped, trained assets/mnist-z2.safetensors is opened too, and its reconstruction must resemble the input;
# and assets/mnist-cvae.safetensors, whose Style panel must read the 7 as a 7.
#   tests/e2e/native_screenshot.sh path/to/vae-studio MODEL.safetensors OUT_DIR
set -euo pipefail
studio=${1:?usage: native_screenshot.sh VAE_STUDIO MODEL OUT_DIR} model=${2:?model} out=${3:?out dir}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
shoot() {  # MODEL NAME CHECK-OPTIONS...
  local m=$1 name=$2
  shift 2
  rm -f "$out/$name.png" "$out/$name.json"
  xvfb-run -a -s "-screen 0 1280x800x24" "$studio" --model "$m" --demo --screenshot "$out/$name.png" \
    --state "$out/$name.json" --frames 10
  /usr/bin/python3 "$here/png_check.py" "$out/$name.png" --size 1280x800 --min-colours 8 --state "$out/$name.json" "$@"
}
# MODEL is the random-weight model of tests/e2e/make_model.cpp: its reconstruction looks nothing like the input
# (correlation 0.003) and its decoder hardly depends on z, so the grid's thresholds are low, but still above
# what a flat cell or a grid of one repeated image gives (0): its flattest cell has sd 0.50 grey levels and
# its closest neighbours differ by 0.12 levels on average.
shoot "$model" native --min-cell-sd 0.25 --min-cell-diff 0.05
# The trained model: reconstruction-input correlation 0.918 (mnist-z32: 0.992); the flattest cell has sd 36.1
# levels, the closest neighbours differ by 4.18 levels. A reconstruction of another image (e.g. a blank one)
# correlates below 0.3 (fashion-z2's reconstruction of the same 7 correlates 0.300).
trained=$here/../../assets/mnist-z2.safetensors
[ -e "$trained" ] || { echo "FAIL: $trained is missing (it is committed)"; exit 1; }
shoot "$trained" native-mnist-z2 --min-recon-corr 0.8 --min-cell-sd 10 --min-cell-diff 2
# The shipped label-conditioned model: the Style panel reads the demo 7 as a 7 (q = 1.000) and its ten digits
# show what the app uploaded; the flattest of them has sd 57.9 levels, the closest neighbours differ by 13.5.
shoot "$here/../../assets/mnist-cvae.safetensors" native-mnist-cvae --min-cell-sd 20 --min-cell-diff 5

# Bad input is one line on stderr and exit 2 (an option) or 1 (a file), before any window opens (no display
# here), and no screenshot, not even a partial one, is left behind; the model file is never touched.
bad=$out/not-a-model.safetensors nan=$out/nan.safetensors shot=$out/bad-input.png
printf 'not a model' > "$bad"
python3 - "$model" "$nan" <<'PY'
import json, struct, sys
data = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', data[:8])
h = json.loads(data[8:8 + n])
e = next(v for k, v in h.items() if k != '__metadata__')
b = bytearray(data)
o = 8 + n + e['data_offsets'][0]
size = 2 if e['dtype'] == 'F16' else 4
b[o:o + size] = b'\x00\x7e' if size == 2 else b'\x00\x00\xc0\x7f'  # a NaN, little-endian
open(sys.argv[2], 'wb').write(bytes(b))
PY
model_sum=$(cksum < "$model")
check() {  # EXPECTED_EXIT WORDS ARGS...
  local want=$1 words=$2 code=0 err
  shift 2
  rm -f "$shot" "$shot.tmp"
  err=$(env -u DISPLAY "$studio" "$@" 2>&1 >/dev/null) || code=$?
  [ "$code" -eq "$want" ] || { echo "FAIL: $* exited $code, expected $want: $err"; exit 1; }
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || { echo "FAIL: $*: expected one line, got: $err"; exit 1; }
  case $err in *"$words"*) ;; *) echo "FAIL: $*: '$words' not in: $err"; exit 1 ;; esac
  [ ! -e "$shot" ] && [ ! -e "$shot.tmp" ] || { echo "FAIL: $*: left a screenshot behind"; exit 1; }
  echo "ok   exit $code: $err"
}
check 1 "not-a-model.safetensors: header length" --model "$bad" --screenshot "$shot"
check 1 "nan.safetensors: tensor" --model "$nan" --screenshot "$shot"
check 1 "missing.safetensors: cannot open: No such file or directory" --model "$out/missing.safetensors"
check 1 "read error: Is a directory" --model "$out"
check 2 "--frames needs a whole number" --model "$model" --frames abc
check 2 "--frames needs a whole number" --model "$model" --frames 0
check 2 "--frames needs a whole number" --model "$model" --frames 99999999999999999999
check 2 "unknown option '--colour'" --model "$model" --colour red
check 2 "--model needs a value" --model
check 2 "--screenshot needs a file path" --model "$model" --screenshot ""
check 1 "folder $out/nowhere does not exist" --model "$model" --screenshot "$out/nowhere/s.png"
check 1 "is a folder" --model "$model" --screenshot "$out"
check 1 "--screenshot and --model name the same file" --model "$model" --screenshot "$model"
check 2 "--state needs --screenshot" --model "$model" --state "$out/s.json"
check 1 "--state and --model name the same file" --model "$model" --screenshot "$shot" --state "$model"
[ "$(cksum < "$model")" = "$model_sum" ] || { echo "FAIL: the model file changed"; exit 1; }
echo "15 bad inputs rejected before any window opened"
