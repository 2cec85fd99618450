#!/usr/bin/env bash
# Issue 20's tracing cost as a share of the server's own CPU: a warm stock server with every
# request traced and exported over OTLP/HTTP to a local receiver (Tests/Support/otlp_receiver.py,
# counting only), `perf record -g` on the server alone during REQUESTS requests at 10 clients,
# then the share of samples with a tracing frame on the stack (span start/end, attributes,
# context propagation, the log lines' trace ids, the batch processor and exporter) and the
# outermost such frames. Unlike a throughput ratio this does not move with the machine's load
# or with the receiver's CPU (which a real deployment runs elsewhere).
#
#   scripts/profile-tracing.sh [REQUESTS] [--diff]      (default 12000; needs `perf`)
#
# --diff also records a server with tracing off under the same load (off, then on) and prints
# the CPU per request of each (samples × sampling period / requests) and the functions whose own
# (leaf) CPU per request grew most with tracing on: this counts what the frame filter cannot
# (malloc, retain/release, task-local and other generic frames that tracing calls into).
#
# Env: MSCR_BINARY (default .build/release/mscr; it needs symbols), PYTHON (default
# .venv/bin/python), KEEP_STACKS (copy the decoded stacks of the traced run there),
# OTEL_ENDPOINT_OVERRIDE (as in bench-tracing.sh: http://127.0.0.1:9 sends the spans nowhere, and
# then most are dropped unencoded: the profile misses the encoding and the export).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tracing-server.sh
requests=${1:-12000}
diff=${2:-}
mscr=${MSCR_BINARY:-.build/release/mscr}
py=${PYTHON:-.venv/bin/python}
csv=Sources/Runtime/Web/sample-goog.csv
hz=4000
work=$(mktemp -d)
cleanup() {
  exec 3>&- 2>/dev/null || true
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
  [ -n "${receiver_pid:-}" ] && kill "$receiver_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
command -v perf >/dev/null || { echo "profile-tracing: needs perf (apt-get install linux-perf)" >&2; exit 2; }

echo "profile-tracing: training and publishing the stock model" >&2
"$mscr" train stock --data ../shared/data/stock/goog-daily.csv --order newest-first --out "$work/stock" \
  --epochs 5 >/dev/null
"$mscr" publish "$work/stock" --repository "file://$work/models" --model stock-lstm >/dev/null

mkfifo "$work/receiver-in"
"$py" Tests/Support/otlp_receiver.py --count < "$work/receiver-in" > "$work/receiver.out" &
receiver_pid=$!
exec 3>"$work/receiver-in"
for _ in $(seq 1 300); do [ -s "$work/receiver.out" ] && break; sleep 0.1; done
receiver_port=$(head -1 "$work/receiver.out")

# record MODE: serves with tracing MODE (on/off), records REQUESTS requests, writes
# $work/MODE.stacks and $work/MODE.json.
record() {
  local mode=$1
  serve_stock "$mode" mscr-profile
  load() { "$mscr" load "http://127.0.0.1:$port" --function stock --input "$csv" --users 10 --requests "$1" --json; }
  load 500 >/dev/null
  echo "profile-tracing: tracing $mode, load average $(cut -d' ' -f1-3 /proc/loadavg); recording $requests requests" >&2
  perf record -F "$hz" -g -p "$pid" -o "$work/$mode.perf" 2>/dev/null &
  perf_pid=$!
  # perf attaches asynchronously: wait until it has opened its output.
  for _ in $(seq 1 100); do [ -s "$work/$mode.perf" ] && break; sleep 0.05; done
  load "$requests" > "$work/$mode.json"
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
  perf script -i "$work/$mode.perf" -F comm,tid,ip,sym 2>/dev/null | swift demangle --simplified > "$work/$mode.stacks"
}

[ "$diff" = --diff ] && record off
record on
python3 - "$work" "$requests" "$hz" "$diff" <<'PY'
import json, os, re, sys
from collections import Counter
work, requests, hz, diff = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "--diff"
# Frames that exist only because tracing is on.
tracing = re.compile(r"OTLP|Span\b|SpanAttribute|startAnySpan|withServerSpan|RequestTracing|FunctionSpans|"
                     r"ErrorAndTraceMiddleware\.traced|FunctionPhase|FunctionCallTrace|FunctionCallPhase|"
                     r"ServiceContext|InstrumentationContext|InstrumentationSystem|Tracer|TraceContext|traceparent")

def read(mode):
    total = hit = 0
    outer, leaf = Counter(), Counter()
    stack = []
    def sample():
        nonlocal total, hit
        if not stack: return
        total += 1
        leaf[stack[0][:110]] += 1
        frames = [f for f in stack if tracing.search(f)]
        if frames:
            hit += 1
            outer[frames[-1][:100]] += 1
    for line in open(f"{work}/{mode}.stacks"):
        if not line[:1].isspace():
            sample(); stack.clear()
        elif line.strip():
            stack.append(line.strip().split(" ", 1)[-1])
    sample()
    return total, hit, outer, leaf, json.load(open(f"{work}/{mode}.json"))

total, hit, outer, leaf, load = read("on")
print(f"requests/s {load['rps']:.0f}, failed {load['failed']}; server samples {total}, with a tracing frame {hit} "
      f"= {100 * hit / total:.2f} % of the server's CPU")
for name, n in outer.most_common(10):
    print(f"  {100 * n / total:5.2f} %  {name}")
if diff:
    us = 1e6 / hz / requests  # CPU microseconds per request of one sample
    t0, _, _, leaf0, load0 = read("off")
    print(f"server CPU per request (samples): off {t0 * us:.1f} us ({load0['rps']:.0f} requests/s), "
          f"on {total * us:.1f} us; on/off = {total / t0:.3f}")
    print("own CPU per request that grew most with tracing on (us, off -> on):")
    grown = sorted(set(leaf) | set(leaf0), key=lambda k: leaf0[k] - leaf[k])
    for name in grown[:25]:
        print(f"  {(leaf[name] - leaf0[name]) * us:+6.2f}  ({leaf0[name] * us:5.2f} -> {leaf[name] * us:5.2f})  {name}")
PY
[ -n "${KEEP_STACKS:-}" ] && cp "$work/on.stacks" "$KEEP_STACKS" && \
  { [ -f "$work/off.stacks" ] && cp "$work/off.stacks" "$KEEP_STACKS.off" || true; }
exec 3>&-
wait "$receiver_pid" || true
receiver_pid=
echo "spans received: $(tail -1 "$work/receiver.out")"
