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

# A bad model is one line on stderr and a non-zero exit, before any window opens.
bad=$out/not-a-model.safetensors
printf 'not a model' > "$bad"
if err=$("$studio" --model "$bad" 2>&1); then echo "a bad model was accepted"; exit 1; fi
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || { echo "expected one line, got: $err"; exit 1; }
echo "bad model rejected: $err"
