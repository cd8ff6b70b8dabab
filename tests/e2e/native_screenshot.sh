#!/usr/bin/env bash
# The desktop app end to end: opens MODEL in a real window under Xvfb (Mesa's llvmpipe, OpenGL 3.3 core), renders
# 10 frames with a drawing on the canvas (--demo), writes the last one as OUT_DIR/native.png and checks that it is
# not blank.
#   tests/e2e/native_screenshot.sh path/to/vae-studio MODEL.safetensors OUT_DIR
set -euo pipefail
studio=${1:?usage: native_screenshot.sh VAE_STUDIO MODEL OUT_DIR} model=${2:?model} out=${3:?out dir}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
rm -f "$out/native.png"
xvfb-run -a -s "-screen 0 1280x800x24" "$studio" --model "$model" --demo --screenshot "$out/native.png" --frames 10
python3 "$here/png_check.py" "$out/native.png" --size 1280x800 --min-colours 8

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
[ "$(cksum < "$model")" = "$model_sum" ] || { echo "FAIL: the model file changed"; exit 1; }
echo "13 bad inputs rejected before any window opened"
