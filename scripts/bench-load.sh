#!/usr/bin/env bash
# Issue 3's benchmark: a cold load of Darknet weights from S3 (moto, signature checking on, on
# loopback): streaming (socket → sha256 → weights reader, what a cold start does) against
# download-then-parse, with each process's peak RSS. Models: yolo-fastest-1.1-xl (real weights)
# and yolov3 (random weights of the right size, 248 MB, from ../shared/tools).
#
#   scripts/bench-load.sh [RUNS]        (default 5 runs per mode, modes alternating)
#
# Prints one JSON line per run and a summary (medians) at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
mscr=${MSCR_BINARY:-.build/release/mscr}
py=.venv/bin/python
shared=../shared
work=$(mktemp -d)
cleanup() { exec 3>&- 2>/dev/null || true; [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "bench-load: starting moto" >&2
mkfifo "$work/moto-in"
"$py" Tests/Support/start_moto.py --bucket models < "$work/moto-in" > "$work/moto.json" &
moto_pid=$!
exec 3>"$work/moto-in"
for _ in $(seq 1 300); do [ -s "$work/moto.json" ] && break; sleep 0.1; done
read -r endpoint access secret region < <("$py" -c '
import json,sys; m=json.load(open(sys.argv[1])); print(m["endpoint"], m["access_key"], m["secret_key"], m["region"])' "$work/moto.json")
export AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret AWS_REGION=$region
repo=s3://models/bench

mkdir -p "$work/xl" "$work/v3"
cp "$shared/data/models/yolo-fastest-1.1-xl/"* "$work/xl/"
cp "$shared/data/models/darknet-cfg/yolov3.cfg" "$shared/data/models/darknet-cfg/coco.names" "$work/v3/"
echo "bench-load: making 248 MB of random yolov3 weights" >&2
python3 "$shared/tools/random_darknet_weights.py" "$work/v3/yolov3.cfg" "$work/v3/yolov3.weights" >/dev/null
"$mscr" publish "$work/xl" --repository "$repo" --model yolo-fastest-1.1-xl >/dev/null
"$mscr" publish "$work/v3" --repository "$repo" --model yolov3-random >/dev/null
rm -rf "$work/xl" "$work/v3"
echo "bench-load: load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

results="$work/results.jsonl"
for model in yolo-fastest-1.1-xl yolov3-random; do
  for i in $(seq 1 "$runs"); do
    for mode in stream download; do
      "$mscr" bench load --repository "$repo" --model "$model" --mode "$mode" | tee -a "$results"
    done
  done
done
echo "bench-load: load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$py" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for model in dict.fromkeys(r["model"] for r in rows):
    s = [r for r in rows if r["model"] == model and r["mode"] == "stream"]
    d = [r for r in rows if r["model"] == model and r["mode"] == "download"]
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    stream, fetch, parse = med(s, "weights_ms"), med(d, "fetch_ms"), med(d, "parse_ms")
    mb = s[0]["bytes"] / 1e6
    print(f"{model}: {mb:.1f} MB | stream {stream:.0f} ms (peak RSS {med(s, 'peak_rss_mib'):.0f} MiB) | "
          f"download {fetch:.0f} ms + parse {parse:.0f} ms = {fetch + parse:.0f} ms (peak RSS {med(d, 'peak_rss_mib'):.0f} MiB) | "
          f"stream / max(download, parse) = {stream / max(fetch, parse):.2f} | stream RSS / weights = "
          f"{med(s, 'peak_rss_mib') * 1.048576 / mb:.2f}")
PY
