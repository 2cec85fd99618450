#!/usr/bin/env python3
"""The original stack's Keras stock LSTM, converted to ONNX with tf2onnx, served by mscr.

Trains (seeded; EPOCHS, default 30) the model of ../shared/tools/peers/paperstack/train.py —
LSTM(units=1) over 7-day windows of min-max-scaled Open,High,Low,Volume,Close, then
Dense(1, tanh) — converts it with tf2onnx, writes OUT/model.onnx and OUT/scaler.json (train.py's
own scaler file: per-column min and max, columns, window), then, with --mscr BIN, publishes OUT
as a stock model, serves it (`function.json` kind lstm-regressor), posts the GOOG series and
prints Keras's and mscr's next-close predictions side by side, with the largest difference in
dollars. Exit status 1 when any prediction differs by $0.01 or more.

Needs a venv with tensorflow-cpu, tf2onnx, onnx and onnxruntime (see BENCHMARKS.md).

    /tmp/tf-venv/bin/python scripts/keras-lstm-onnx.py --out /tmp/keras-lstm --mscr .build/debug/mscr
    # the committed test fixture (model.onnx, scaler.json, keras-predictions.json):
    /tmp/tf-venv/bin/python scripts/keras-lstm-onnx.py --out Tests/Integration/fixtures/keras-lstm

OUT/keras-predictions.json holds Keras's own next-close predictions (dollars) for every 7-day
window of the data, so tests without TensorFlow can hold mscr to Keras.
"""
import argparse
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared/data/stock/goog-daily.csv"
WINDOW = 7
COLUMNS = ["Open", "High", "Low", "Volume", "Close"]


def load_csv(path):
    """train.py's reader: headerless rows, newest first -> chronological float64."""
    rows = []
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            rows.append([float(v) for v in line.split(",")])
    return np.asarray(rows, dtype=np.float64)[::-1].copy()


def windows(scaled):
    return np.stack([scaled[i:i + WINDOW] for i in range(len(scaled) - WINDOW + 1)]).astype(np.float32)


def build(data, epochs, seed):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    keras.utils.set_random_seed(seed)
    dmin, dmax = data.min(axis=0), data.max(axis=0)
    scaled = (data - dmin) / (dmax - dmin)
    X = windows(scaled)[:-1]
    y = scaled[WINDOW:, 4].astype(np.float32)
    n_train = int(len(X) * 0.7)
    model = keras.Sequential([
        keras.Input(shape=(WINDOW, 5)),
        keras.layers.LSTM(units=1),
        keras.layers.Dense(1, activation="tanh"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    if epochs > 0:
        model.fit(X[:n_train], y[:n_train], epochs=epochs, verbose=0)
    return model, dmin, dmax


def convert(model, path, opset):
    import tensorflow as tf
    import tf2onnx
    spec = (tf.TensorSpec((None, WINDOW, 5), tf.float32, name="window"),)
    fn = tf.function(lambda x: model(x, training=False))
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=opset, output_path=str(path))
    return proto


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_predict(mscr, folder, csv_text, bench=0):
    """Publishes `folder`, serves it as the stock function and returns its JSON answer. With
    `bench`, also trains a native model (`mscr train stock`), serves it beside, and times `bench`
    requests of the whole series to each, alternating: returns (answer, {name: [ms, ...]})."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="keras-lstm-"))
    try:
        repo = "file://" + str(work / "repo")
        models = {"stock": ("keras-lstm", folder)}
        if bench:
            native = work / "native"
            subprocess.run([mscr, "train", "stock", "--data", str(DATA), "--order", "newest-first", "--out",
                            str(native), "--epochs", "5"], check=True, capture_output=True, text=True)
            models["native"] = ("native-lstm", native)
        for function, (model, path) in models.items():
            subprocess.run([mscr, "publish", str(path), "--repository", repo, "--model", model],
                           check=True, capture_output=True, text=True)
            (work / "functions" / function).mkdir(parents=True)
            (work / "functions" / function / "function.json").write_text(json.dumps(
                {"name": function, "kind": "lstm-regressor", "model": model, "version": "latest",
                 "params": {}, "limits": {"maxBodyBytes": 1048576, "maxPixels": 0, "concurrency": 2}}))
        port = free_port()
        env = dict(os.environ, MSCR_FUNCTIONS=str(work / "functions"), MSCR_MODEL_REPOSITORY=repo, PORT=str(port))
        log = open(work / "serve.log", "wb")
        server = subprocess.Popen([mscr, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("mscr serve did not become healthy: " + (work / "serve.log").read_text())
                    time.sleep(0.1)

            def post(function):
                request = urllib.request.Request(f"http://127.0.0.1:{port}/functions/{function}?order=newest-first",
                                                 data=csv_text.encode(), method="POST",
                                                 headers={"Content-Type": "text/csv"})
                return json.loads(urllib.request.urlopen(request, timeout=60).read())

            answer = post("stock")
            times = {name: [] for name in models}
            for name in models:
                post(name)  # load and warm
            for _ in range(bench):
                for name in models:
                    t0 = time.perf_counter()
                    post(name)
                    times[name].append((time.perf_counter() - t0) * 1000)
            return answer, times
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="/tmp/keras-lstm", help="folder for model.onnx and scaler.json")
    parser.add_argument("--epochs", type=int, default=int(os.environ.get("EPOCHS", "30")))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--mscr", help="mscr binary: publish, serve and compare")
    parser.add_argument("--bench", type=int, default=0,
                        help="with --mscr: time N whole-series requests to the ONNX and a native model, alternating")
    args = parser.parse_args()

    data = load_csv(args.data)
    t0 = time.perf_counter()
    model, dmin, dmax = build(data, args.epochs, args.seed)
    train_s = time.perf_counter() - t0
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    convert(model, out / "model.onnx", args.opset)
    (out / "scaler.json").write_text(json.dumps(
        {"min": dmin.tolist(), "max": dmax.tolist(), "columns": COLUMNS, "window": WINDOW}) + "\n")

    scaled = (data - dmin) / (dmax - dmin)
    keras_scaled = model.predict(windows(scaled), verbose=0).ravel().astype(np.float64)
    keras_usd = keras_scaled * (dmax[4] - dmin[4]) + dmin[4]
    import keras
    import tensorflow as tf
    (out / "keras-predictions.json").write_text(json.dumps({
        "data": "shared/data/stock/goog-daily.csv (newest first; windows oldest first)",
        "tensorflow": tf.__version__, "keras": keras.__version__, "epochs": args.epochs, "seed": args.seed,
        "predictions_usd": [round(float(v), 6) for v in keras_usd]}) + "\n")
    import onnx
    import onnxruntime as ort
    graph = onnx.load(str(out / "model.onnx"))
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    ort_scaled = session.run(None, {session.get_inputs()[0].name: windows(scaled)})[0].ravel()
    ort_usd = ort_scaled.astype(np.float64) * (dmax[4] - dmin[4]) + dmin[4]
    report = {
        "epochs": args.epochs, "seed": args.seed, "train_s": round(train_s, 2), "windows": int(len(keras_usd)),
        "onnx_ops": sorted({n.op_type for n in graph.graph.node}),
        "opset": [o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")][0],
        "onnx_bytes": (out / "model.onnx").stat().st_size,
        "max_abs_usd_onnxruntime_vs_keras": float(np.max(np.abs(ort_usd - keras_usd))),
    }
    ok = True
    if args.mscr:
        answer, times = serve_and_predict(args.mscr, out, open(args.data).read(), args.bench)
        if args.bench:
            report["request_ms_median"] = {
                {"stock": "onnx", "native": "native"}[k]: round(float(np.median(v)), 2) for k, v in times.items()}
        mscr_usd = np.asarray([p["predicted"] for p in answer["predictions"]] + [answer["next"]["predicted"]])
        diff = np.abs(mscr_usd - keras_usd)
        report["max_abs_usd_mscr_vs_keras"] = float(diff.max())
        report["next_close"] = {"keras": round(float(keras_usd[-1]), 4), "mscr": answer["next"]["predicted"]}
        report["first_five"] = [{"keras": round(float(k), 4), "mscr": m} for k, m in zip(keras_usd[:5], mscr_usd[:5])]
        ok = bool(diff.max() < 0.01)
    print(json.dumps(report, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
