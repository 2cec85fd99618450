#!/usr/bin/env python3
"""`mscr bench detect --onnx` (letterbox, forward, class-wise NMS on one photo) next to ONNX Runtime's
forward on the same file, interleaved round by round (the shared 2-core boxes drift), per thread count.

  scripts/bench-onnx-detect.py [--mscr .build/release/mscr] [--model yolov8n.onnx] [--image dog.jpg]
      [--threads 1,2] [--rounds 3] [--runs 10] [--warmup 3]

Prints one JSON line per round and engine, then a Markdown table: medians over rounds of each
engine's median forward ms, mscr's pre/post-processing ms, and the paired ratio mscr / ORT."""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
ORT = r'''
import json, sys, time
import numpy as np, onnxruntime as ort
model, threads, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
s = ort.InferenceSession(model, o, providers=["CPUExecutionProvider"])
x = np.random.default_rng(1).random((1, 3, 640, 640), dtype=np.float32)
times = []
for i in range(warmup + runs):
    t = time.perf_counter(); s.run(None, {s.get_inputs()[0].name: x}); dt = (time.perf_counter() - t) * 1e3
    if i >= warmup: times.append(dt)
print(json.dumps({"forward_ms": {"median": sorted(times)[len(times) // 2]}}))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mscr", default=str(ROOT / ".build/release/mscr"))
    ap.add_argument("--model", default=str(ROOT.parent / "shared/data/models/onnx/yolov8n.onnx"))
    ap.add_argument("--image", default=str(ROOT.parent / "shared/data/images/dog.jpg"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    rows = []
    for threads in [int(t) for t in a.threads.split(",")]:
        rounds = []
        for r in range(a.rounds):
            order = ["mscr", "ort"] if r % 2 == 0 else ["ort", "mscr"]
            got = {}
            for engine in order:
                if engine == "mscr":
                    cmd = [a.mscr, "bench", "detect", "--onnx", a.model, "--threads", str(threads), "--runs",
                           str(a.runs), "--warmup", str(a.warmup), a.image]
                else:
                    cmd = [sys.executable, "-c", ORT, a.model, str(threads), str(a.runs), str(a.warmup)]
                p = subprocess.run(cmd, capture_output=True, text=True, check=True)
                got[engine] = json.loads(p.stdout)
                print(json.dumps({"threads": threads, "round": r, "engine": engine, **{
                    k: v for k, v in got[engine].items() if k.endswith("_ms")}}), file=sys.stderr, flush=True)
            rounds.append(got)
        med = lambda xs: statistics.median(xs)  # noqa: E731
        rows.append((threads, med([g["mscr"]["forward_ms"]["median"] for g in rounds]),
                     med([g["ort"]["forward_ms"]["median"] for g in rounds]),
                     med([g["mscr"]["preprocess_ms"]["median"] for g in rounds]),
                     med([g["mscr"]["postprocess_ms"]["median"] for g in rounds]),
                     med([g["mscr"]["forward_ms"]["median"] / g["ort"]["forward_ms"]["median"] for g in rounds]),
                     max(g["mscr"]["forward_ms"]["median"] / g["ort"]["forward_ms"]["median"] for g in rounds)))
    print("| threads | mscr forward ms | ORT forward ms | mscr decode+letterbox ms | mscr decode+NMS ms | mscr / ORT (median, worst) |")
    print("|---|---|---|---|---|---|")
    for t, m, o, pre, post, ratio, worst in rows:
        print(f"| {t} | {m:.1f} | {o:.1f} | {pre:.1f} | {post:.2f} | {ratio:.2f} ({worst:.2f}) |")


if __name__ == "__main__":
    main()
