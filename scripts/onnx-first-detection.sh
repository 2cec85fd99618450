#!/usr/bin/env bash
# Publish-to-first-detection for an ONNX detection export (issue 17): `mscr publish` of a folder with
# model.onnx into a fresh file repository (timed, RUNS times), then `mscr coldstart` of `mscr serve` with
# a `"kind": "detect"` function on it: spawn → listening → first detection of dog.jpg.
#   scripts/onnx-first-detection.sh [MODEL.onnx] [MSCR]   (defaults: ../shared yolov8n, .build/release/mscr)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${1:-$ROOT/../shared/data/models/onnx/yolov8n.onnx}
MSCR=${2:-$ROOT/.build/release/mscr}
RUNS=${RUNS:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/in" "$WORK/functions/y8"
cp "$MODEL" "$WORK/in/model.onnx"
echo '{"name": "y8", "kind": "detect", "model": "y8"}' > "$WORK/functions/y8/function.json"
echo "publish (ms), $RUNS runs:"
for i in $(seq "$RUNS"); do
    rm -rf "$WORK/models"
    start=$(date +%s%N)
    "$MSCR" publish "$WORK/in" --repository "file://$WORK/models" --model y8 > /dev/null
    echo "  $(( ($(date +%s%N) - start) / 1000000 ))"
done
MSCR_FUNCTIONS="$WORK/functions" MSCR_MODEL_REPOSITORY="file://$WORK/models" \
    "$MSCR" coldstart --spawn "$MSCR serve" --function y8 --input "$ROOT/../shared/data/images/dog.jpg" \
    --runs "$RUNS" --warmup 1
