#!/usr/bin/env bash
# Throughput of two mscr builds at 10 clients: a fresh `serve` of each, alternated, driven by
# `mscr load` (the AFTER build's). Prints: label, requests/s, p50 ms, p99 ms, failed.
#   scripts/bench-throughput-ab.sh BEFORE AFTER FUNCTIONS_DIR REPOSITORY_URI [ROUNDS] [FUNCTION] [INPUT]
set -euo pipefail
BEFORE=$1; AFTER=$2; FUNCTIONS=$3; REPO=$4; ROUNDS=${5:-6}; FUNCTION=${6:-detect}
INPUT=${7:-"$(cd "$(dirname "$0")/../.." && pwd)/shared/data/images/dog.jpg"}
run() {
  local label=$1 bin=$2 port pid
  port=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  PORT=$port MSCR_FUNCTIONS=$FUNCTIONS MSCR_MODEL_REPOSITORY=$REPO LOG_LEVEL=warning "$bin" serve >/dev/null 2>&1 &
  pid=$!
  "$AFTER" health --port "$port" >/dev/null 2>&1 || until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.02; done
  "$AFTER" load "http://127.0.0.1:$port" --function "$FUNCTION" --input "$INPUT" --users 10 --requests 2000 --json \
    | python3 -c "import json,sys; d=json.load(sys.stdin); print('$label', d['rps'], d['latency_ms']['p50'], d['latency_ms']['p99'], d['failed'])"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
for _ in $(seq 1 "$ROUNDS"); do
  run before "$BEFORE"
  run after "$AFTER"
done
