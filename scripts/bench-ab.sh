#!/usr/bin/env bash
# A/B of two mscr builds on `mscr bench detect`: whole short benchmarks, alternated, so both see
# the same moments of a shared machine. Prints one line per run: binary, forward median, forward
# min, preprocess median, postprocess median (ms); compare pair by pair.
#   scripts/bench-ab.sh BEFORE AFTER CFG WEIGHTS THREADS RUNS ROUNDS [bench detect options]
set -euo pipefail
A=$1; B=$2; CFG=$3; W=$4; T=$5; RUNS=$6; ROUNDS=$7; shift 7
IMAGE="$(cd "$(dirname "$0")/../.." && pwd)/shared/data/images/dog.jpg"
for _ in $(seq 1 "$ROUNDS"); do
  for bin in "$A" "$B"; do
    "$bin" bench detect --cfg "$CFG" --weights "$W" --threads "$T" --runs "$RUNS" --warmup 2 "$@" "$IMAGE" \
      | python3 -c "import json,sys; d=json.load(sys.stdin); print('$bin', d['forward_ms']['median'], d['forward_ms']['min'], d['preprocess_ms']['median'], d['postprocess_ms']['median'])"
  done
done
