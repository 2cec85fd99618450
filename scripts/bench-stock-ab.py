#!/usr/bin/env python3
"""Usage: scripts/bench-stock-ab.py OLD_MSCR NEW_MSCR [ROUNDS]

A/B: the old built-in stock kind (binary A) vs the stock function on the public API (binary B),
same ONNX model and inputs, requests alternated in rounds; prints median and p90 latency (ms)."""
import os, pathlib, shutil, statistics, sys, tempfile, time, urllib.request
ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests/Integration"))
import conftest

def post(url, body, ctype):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype}, method="POST")
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read()
        assert r.status == 200
    return (time.perf_counter() - t) * 1000

tmp = pathlib.Path(tempfile.mkdtemp())
fx = ROOT / "Tests/Integration/fixtures/keras-lstm"
conftest.publish_test_model(tmp / "models", "keras-lstm",
    {"model.onnx": (fx / "model.onnx").read_bytes(), "scaler.json": (fx / "scaler.json").read_bytes()}, fmt="onnx")
(tmp / "functions/stock").mkdir(parents=True)
(tmp / "functions/stock/function.json").write_text('{"name": "stock", "kind": "lstm-regressor", "model": "keras-lstm"}')
env = {"MSCR_FUNCTIONS": str(tmp / "functions"), "MSCR_MODEL_REPOSITORY": "file://" + str(tmp / "models"),
       "MSCR_LOG_LEVEL": "error"}
goog = (ROOT.parent / "shared/data/stock/goog-daily.csv").read_bytes()
rows = [l for l in goog.decode().splitlines() if l and not l.startswith("#")][:14]
window = ",".join(rows).replace("\n", ",")
v2 = ('{"inputs": [{"name": "window", "datatype": "FP32", "shape": [2, 7, 5], "data": [%s]}]}' % window).encode()
servers = {}
for name, binary in [("A old", sys.argv[1]), ("B new", sys.argv[2])]:
    conftest.mscr_binary = lambda b=binary: b
    servers[name] = conftest.Server(env)
results = {(n, k): [] for n in servers for k in ("csv", "v2")}
for s in servers.values():  # warm up (cold start)
    post(s.url + "/functions/stock?order=newest-first", goog, "text/csv")
for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 10):
    for n, s in servers.items():
        for _ in range(20):
            results[(n, "csv")].append(post(s.url + "/functions/stock?order=newest-first", goog, "text/csv"))
            results[(n, "v2")].append(post(s.url + "/v2/models/stock/infer", v2, "application/json"))
for (n, k), v in sorted(results.items(), key=lambda x: (x[0][1], x[0][0])):
    v.sort()
    print(f"{k:4} {n}: n={len(v)} median {statistics.median(v):.3f} ms  p90 {v[int(len(v)*0.9)]:.3f} ms")
for s in servers.values():
    s.stop()
shutil.rmtree(tmp)
