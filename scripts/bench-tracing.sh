#!/usr/bin/env bash
# Issue 20's tracing cost: warm stock requests at 10 clients (`mscr load`), the same binary with
# tracing off (no OTEL_* variable) and on (every request sampled, exported over OTLP/HTTP to a
# local receiver, Tests/Support/otlp_receiver.py), each a fresh `serve` warmed before the port
# opens; runs alternate (off, on, on, off, …) so drift in the machine's load hits both.
#
#   scripts/bench-tracing.sh [ROUNDS] [REQUESTS]      (default 6 rounds of 3000 requests)
#
# Env: MSCR_BINARY (default .build/release/mscr), PYTHON (one with opentelemetry-proto;
# default .venv/bin/python). Prints one line per run (with the server's CPU time per request,
# from /proc, the steadier number on a shared machine) and the medians of each mode, on/off as
# ratios. OTEL_ENDPOINT_OVERRIDE=http://127.0.0.1:9 sends the spans nowhere (no receiver
# competing for the cores), but it measures less than the in-process cost: failed exports are
# retried with back-off, the queue fills and most spans are dropped before they are encoded.
# scripts/bench-tracing-pairs.py measures it with every span exported (BENCHMARKS.md).
# RATE=R sends R requests per second (`mscr load --rate`) instead of as fast as the server
# answers: both modes then see the same arrivals, so the CPU per request compares the work of
# a request, not how a busier closed loop wakes the clients' and the server's threads (on 2
# cores they share); requests/s is then the rate, not a result.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tracing-server.sh
rounds=${1:-6}
requests=${2:-3000}
mscr=${MSCR_BINARY:-.build/release/mscr}
py=${PYTHON:-.venv/bin/python}
csv=Sources/Runtime/Web/sample-goog.csv
work=$(mktemp -d)
cleanup() { exec 3>&- 2>/dev/null || true; [ -n "${receiver_pid:-}" ] && kill "$receiver_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "bench-tracing: training and publishing the stock model" >&2
"$mscr" train stock --data ../shared/data/stock/goog-daily.csv --order newest-first --out "$work/stock" \
  --epochs 5 >/dev/null
"$mscr" publish "$work/stock" --repository "file://$work/models" --model stock-lstm >/dev/null

mkfifo "$work/receiver-in"
# --count: the receiver decodes each export but keeps no spans (keeping them in Python cost ~70 us
# of CPU per request on the same 2 cores; RECEIVER_KEEP=1 keeps them, as the tests do).
"$py" Tests/Support/otlp_receiver.py $([ -n "${RECEIVER_KEEP:-}" ] || echo --count) < "$work/receiver-in" \
  > "$work/receiver.out" &
receiver_pid=$!
exec 3>"$work/receiver-in"
for _ in $(seq 1 300); do [ -s "$work/receiver.out" ] && break; sleep 0.1; done
receiver_port=$(head -1 "$work/receiver.out")

ticks=$(getconf CLK_TCK)
# The server's user + system CPU so far, in clock ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# result MODE LOAD_JSON CPU_BEFORE CPU_AFTER: one results row (printed and kept).
result() {
  python3 -c "import json,sys; d=json.load(open('$2')); print('$1', d['rps'], d['latency_ms']['p50'], d['latency_ms']['p99'], d['failed'], round(($4 - $3) * 1e6 / $ticks / $requests, 1))" \
    | tee -a "$work/results"
}

run() {
  local mode=$1
  serve_stock "$mode" mscr-bench
  local before after
  before=$(cpu_ticks "$pid")
  "$mscr" load "http://127.0.0.1:$port" --function stock --input "$csv" --users 10 --requests "$requests" --json \
    ${RATE:+--rate "$RATE"} > "$work/load.json"
  after=$(cpu_ticks "$pid")
  result "$mode" "$work/load.json" "$before" "$after"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# side_by_side: one round of an off and an on server loaded at once.
side_by_side() {
  local off_pid off_port on_pid on_port
  serve_stock off mscr-bench; off_pid=$pid; off_port=$port
  serve_stock on mscr-bench; on_pid=$pid; on_port=$port
  local off_before on_before off_after on_after
  off_before=$(cpu_ticks "$off_pid"); on_before=$(cpu_ticks "$on_pid")
  "$mscr" load "http://127.0.0.1:$off_port" --function stock --input "$csv" --users 5 --requests "$requests" \
    --json ${RATE:+--rate "$RATE"} > "$work/load-off.json" &
  local off_load=$!
  "$mscr" load "http://127.0.0.1:$on_port" --function stock --input "$csv" --users 5 --requests "$requests" \
    --json ${RATE:+--rate "$RATE"} > "$work/load-on.json"
  wait "$off_load"
  off_after=$(cpu_ticks "$off_pid"); on_after=$(cpu_ticks "$on_pid")
  result off "$work/load-off.json" "$off_before" "$off_after"
  result on "$work/load-on.json" "$on_before" "$on_after"
  kill "$off_pid" "$on_pid"; wait "$off_pid" "$on_pid" 2>/dev/null || true
}

echo "bench-tracing: load average $(cut -d' ' -f1-3 /proc/loadavg); mode rps p50_ms p99_ms failed server_cpu_us_per_request" >&2
for i in $(seq 1 "$rounds"); do
  if [ -n "${SIDE_BY_SIDE:-}" ]; then
    side_by_side
  elif [ $((i % 2)) -eq 1 ]; then run off; run on; else run on; run off; fi
done
echo "bench-tracing: load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec 3>&-
wait "$receiver_pid" || true
receiver_pid=
echo "spans received: $(tail -1 "$work/receiver.out")"
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {m: statistics.median(float(r[1]) for r in rows if r[0] == m) for m in ("off", "on")}
p50 = {m: statistics.median(float(r[2]) for r in rows if r[0] == m) for m in ("off", "on")}
cpu = {m: statistics.median(float(r[5]) for r in rows if r[0] == m) for m in ("off", "on")}
# Runs alternate (off on, on off, ...): pair run 2k with run 2k+1 for per-pair ratios.
pairs = [(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2)]
ratios = sorted(float(b[1]) / float(a[1]) if a[0] == "off" else float(a[1]) / float(b[1]) for a, b in pairs)
print(f"median rps: off {med['off']:.0f}, on {med['on']:.0f}; on/off = {med['on'] / med['off']:.3f} "
      f"(cost {100 * (1 - med['on'] / med['off']):.1f} %); p50 ms off {p50['off']:.2f}, on {p50['on']:.2f}")
print(f"per-pair on/off: median {statistics.median(ratios):.3f} (min {ratios[0]:.3f}, max {ratios[-1]:.3f})")
cpu_ratios = sorted(float(b[5]) / float(a[5]) if a[0] == "off" else float(a[5]) / float(b[5]) for a, b in pairs)
print(f"server CPU per request (median): off {cpu['off']:.1f} us, on {cpu['on']:.1f} us; "
      f"on/off = {cpu['on'] / cpu['off']:.3f}; per pair: median {statistics.median(cpu_ratios):.3f} "
      f"(min {cpu_ratios[0]:.3f}, max {cpu_ratios[-1]:.3f})")
PY
