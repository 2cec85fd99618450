#!/usr/bin/env bash
# Issue 20's tracing cost as a share of the server's own CPU: a warm stock server with every
# request traced and exported over OTLP/HTTP to a local receiver (Tests/Support/otlp_receiver.py,
# counting only), `perf record -g` on the server alone during REQUESTS requests at 10 clients,
# then the share of samples with a tracing frame on the stack (span start/end, attributes,
# context propagation, the log lines' trace ids, the batch processor and exporter) and the
# outermost such frames. Unlike a throughput ratio this does not move with the machine's load
# or with the receiver's CPU (which a real deployment runs elsewhere).
#
#   scripts/profile-tracing.sh [REQUESTS]      (default 12000; needs `perf`)
#
# Env: MSCR_BINARY (default .build/release/mscr), PYTHON (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-12000}
mscr=${MSCR_BINARY:-.build/release/mscr}
py=${PYTHON:-.venv/bin/python}
csv=Sources/Runtime/Web/sample-goog.csv
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

port=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
env PORT="$port" MSCR_FUNCTIONS=functions MSCR_MODEL_REPOSITORY="file://$work/models" MSCR_WARM=stock \
  LOG_LEVEL=warning OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver_port" OTEL_SERVICE_NAME=mscr-profile \
  "$mscr" serve >/dev/null 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
load() { "$mscr" load "http://127.0.0.1:$port" --function stock --input "$csv" --users 10 --requests "$1" --json; }
load 500 >/dev/null
echo "profile-tracing: load average $(cut -d' ' -f1-3 /proc/loadavg); recording $requests requests" >&2
perf record -F 4000 -g -p "$pid" -o "$work/perf.data" 2>/dev/null &
perf_pid=$!
# perf attaches asynchronously: wait until it has opened its output.
for _ in $(seq 1 100); do [ -s "$work/perf.data" ] && break; sleep 0.05; done
load "$requests" > "$work/load.json"
kill -INT "$perf_pid"; wait "$perf_pid" || true
perf script -i "$work/perf.data" -F comm,tid,ip,sym 2>/dev/null | swift demangle --simplified > "$work/stacks.txt"
python3 - "$work/stacks.txt" "$work/load.json" <<'PY'
import json, re, sys
from collections import Counter
# Frames that exist only because tracing is on.
tracing = re.compile(r"OTLP|Span\b|SpanAttribute|startAnySpan|withServerSpan|RequestTracing|FunctionSpans|"
                     r"ServiceContext|InstrumentationContext|InstrumentationSystem|Tracer|TraceContext|traceparent")
total = hit = 0
outer = Counter()
stack = []
def sample():
    global total, hit
    if not stack: return
    total += 1
    frames = [f for f in stack if tracing.search(f)]
    if frames:
        hit += 1
        outer[frames[-1][:100]] += 1
for line in open(sys.argv[1]):
    if not line[:1].isspace():
        sample(); stack.clear()
    elif line.strip():
        stack.append(line.strip().split(" ", 1)[-1])
sample()
load = json.load(open(sys.argv[2]))
print(f"requests/s {load['rps']:.0f}, failed {load['failed']}; server samples {total}, with a tracing frame {hit} "
      f"= {100 * hit / total:.2f} % of the server's CPU")
for name, n in outer.most_common(10):
    print(f"  {100 * n / total:5.2f} %  {name}")
PY
[ -n "${KEEP_STACKS:-}" ] && cp "$work/stacks.txt" "$KEEP_STACKS"
echo "spans received: $(exec 3>&-; wait "$receiver_pid" 2>/dev/null; tail -1 "$work/receiver.out")"
