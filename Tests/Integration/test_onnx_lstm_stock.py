"""The stock function serving ONNX LSTM regressors (issue 17): `mscr publish` of model.onnx +
scaler.json (the original stack's train.py format), the JSON answer and V2 `infer` held to ONNX
Runtime and a numpy LSTM, the real tf2onnx export of the Keras model held to Keras's own
predictions within a cent, and publish refusals of regressors that do not fit."""
import json
import pathlib
import subprocess
import urllib.request

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from conftest import SHARED, Server, mscr_binary
from test_onnx_lstm import WINDOW, numpy_regressor, tf2onnx_like

GOOG = SHARED / "data/stock/goog-daily.csv"
# The original stack's Keras LSTM (train.py, 30 epochs, seed 7) converted by tf2onnx 1.17, with
# its scaler.json and Keras's own predictions: made by scripts/keras-lstm-onnx.py.
KERAS = pathlib.Path(__file__).parent / "fixtures/keras-lstm"


def load_goog():
    rows = [[float(v) for v in line.split(",")] for line in GOOG.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    return np.asarray(rows[::-1])  # the file is newest first


@pytest.fixture(scope="module")
def stock_server(tmp_path_factory):
    """The tf2onnx-shaped regressor with the original stack's scaler.json for GOOG, published
    with `mscr publish` and served as the stock function (kind lstm-regressor)."""
    root = tmp_path_factory.mktemp("onnx-stock")
    folder = root / "keras-lstm"
    folder.mkdir()
    weights = tf2onnx_like(folder / "model.onnx", hidden=3, seed=5)
    data = load_goog()
    dmin, dmax = data.min(axis=0), data.max(axis=0)
    (folder / "scaler.json").write_text(json.dumps({
        "min": dmin.tolist(), "max": dmax.tolist(), "columns": ["Open", "High", "Low", "Volume", "Close"],
        "window": WINDOW}))
    repo = "file://" + str(root / "models")
    p = subprocess.run([mscr_binary(), "publish", str(folder), "--repository", repo, "--model", "keras-lstm"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    # The graph is compiled too, at the stock function's batch (model.compiled, mapped when served).
    assert report["format"] == "onnx" and set(report["files"]) == {"model.onnx", "scaler.json", "model.compiled"}
    assert report["regressor"] == {"window": 7, "columns": ["Open", "High", "Low", "Volume", "Close"]}
    p = subprocess.run([mscr_binary(), "publish", str(KERAS), "--repository", repo, "--model", "keras-fixture"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    for name, model in (("stock", "keras-lstm"), ("keras", "keras-fixture")):
        (root / "functions" / name).mkdir(parents=True)
        (root / "functions" / name / "function.json").write_text(json.dumps(
            {"name": name, "kind": "lstm-regressor", "model": model}))
    server = Server({"MSCR_FUNCTIONS": str(root / "functions"), "MSCR_MODEL_REPOSITORY": repo})
    yield server, folder, weights, data, dmin, dmax
    server.stop()


def expected_usd(folder, weights, data, dmin, dmax):
    """Every window's next close in dollars, by ONNX Runtime and by numpy (app.py's scaling)."""
    scaled = ((data - dmin) / (dmax - dmin)).astype(np.float32)
    x = np.stack([scaled[i:i + WINDOW] for i in range(len(scaled) - WINDOW + 1)])
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    unscale = lambda v: np.asarray(v, np.float64).ravel() * (dmax[4] - dmin[4]) + dmin[4]  # noqa: E731
    return unscale(session.run(None, {"window": x})[0]), unscale(numpy_regressor(x, *weights))


def post(server, path, body, content_type):
    request = urllib.request.Request(server.url + path, data=body, method="POST",
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_stock_function_serves_the_onnx_regressor_within_a_cent(stock_server):
    server, folder, weights, data, dmin, dmax = stock_server
    by_ort, by_numpy = expected_usd(folder, weights, data, dmin, dmax)
    answer = post(server, "/functions/stock?order=newest-first", GOOG.read_bytes(), "text/csv")
    assert answer["model"] == {"name": "keras-lstm", "version": 1} and answer["window"] == WINDOW
    got = np.array([p["predicted"] for p in answer["predictions"]] + [answer["next"]["predicted"]])
    assert len(got) == len(data) - WINDOW + 1 == len(by_ort)
    assert np.abs(got - by_ort).max() < 0.01
    assert np.abs(got - by_numpy).max() < 0.01
    assert [p["actual"] for p in answer["predictions"][:3]] == [round(v, 4) for v in data[WINDOW:WINDOW + 3, 4]]
    assert answer["metrics"]["rmse"] > 0


def test_v2_infer_on_the_onnx_regressor(stock_server):
    server, folder, weights, data, dmin, dmax = stock_server
    by_ort, _ = expected_usd(folder, weights, data, dmin, dmax)
    windows = np.stack([data[i:i + WINDOW] for i in (0, 100, 500)]).astype(np.float32)
    body = {"inputs": [{"name": "window", "datatype": "FP32", "shape": [3, WINDOW, 5],
                        "data": windows.ravel().tolist()}]}
    answer = post(server, "/v2/models/stock/infer", json.dumps(body).encode(), "application/json")
    out = answer["outputs"][0]
    assert out["name"] == "close" and out["shape"] == [3, 1]
    # FP32 raw prices in: within a cent of ONNX Runtime on the float64-scaled windows.
    assert np.abs(np.array(out["data"]) - by_ort[[0, 100, 500]]).max() < 0.01


def test_tf2onnx_export_of_the_keras_lstm_predicts_within_a_cent_of_keras(stock_server):
    """The done-means of issue 17: the real tf2onnx export of the original stack's model, served
    by the stock function, against Keras's own predictions on the GOOG series (and ONNX Runtime)."""
    server = stock_server[0]
    data = load_goog()
    keras = np.array(json.loads((KERAS / "keras-predictions.json").read_text())["predictions_usd"])
    answer = post(server, "/functions/keras?order=newest-first", GOOG.read_bytes(), "text/csv")
    assert answer["model"] == {"name": "keras-fixture", "version": 1}
    got = np.array([p["predicted"] for p in answer["predictions"]] + [answer["next"]["predicted"]])
    assert len(got) == len(keras) == len(data) - WINDOW + 1
    assert np.abs(got - keras).max() < 0.01, np.abs(got - keras).max()
    scaler = json.loads((KERAS / "scaler.json").read_text())
    dmin, dmax = np.array(scaler["min"]), np.array(scaler["max"])
    scaled = ((data - dmin) / (dmax - dmin)).astype(np.float32)
    x = np.stack([scaled[i:i + WINDOW] for i in range(len(scaled) - WINDOW + 1)])
    session = ort.InferenceSession(str(KERAS / "model.onnx"), providers=["CPUExecutionProvider"])
    by_ort = session.run(None, {session.get_inputs()[0].name: x})[0].ravel() * (dmax[4] - dmin[4]) + dmin[4]
    assert np.abs(got - by_ort).max() < 0.01


def refused(p, *mentions):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    for m in mentions:
        assert m in p.stderr, p.stderr


def test_publish_refuses_a_regressor_that_does_not_fit_its_scaler_or_the_engine(tmp_path):
    repo = "file://" + str(tmp_path / "repo")

    def publish(folder):
        return subprocess.run([mscr_binary(), "publish", str(folder), "--repository", repo, "--model", "m"],
                              capture_output=True, text=True, timeout=120)

    wrong = tmp_path / "wrong-columns"
    wrong.mkdir()
    tf2onnx_like(wrong / "model.onnx")
    (wrong / "scaler.json").write_text(json.dumps({"min": [0, 0, 0], "max": [1, 1, 1]}))
    refused(publish(wrong), "scaler.json", "5 numbers")

    peephole = tmp_path / "activations"
    peephole.mkdir()
    tf2onnx_like(peephole / "model.onnx")
    model = onnx.load(peephole / "model.onnx")
    lstm = next(n for n in model.graph.node if n.op_type == "LSTM")
    del lstm.attribute[:]
    lstm.attribute.extend([helper.make_attribute("activations", ["HardSigmoid", "Tanh", "Tanh"]),
                           helper.make_attribute("hidden_size", 1)])
    onnx.save(model, peephole / "model.onnx")
    (peephole / "scaler.json").write_text(json.dumps({"min": [0] * 5, "max": [1] * 5}))
    refused(publish(peephole), "LSTM__33", "HardSigmoid")
    assert not (tmp_path / "repo/m").exists()
