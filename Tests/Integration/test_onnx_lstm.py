"""ONNX LSTM regressors on mscr's engine (issue 17): LSTM graphs built with onnx.helper in the
shape tf2onnx gives a Keras LSTM (Transpose, Shape/Cast/Slice/Concat/Expand initial states,
LSTM, Squeeze/Slice/Squeeze, MatMul + Add, Tanh; symbolic batch), and plain LSTM nodes over the
ONNX options (directions, layouts, sequence_lens, initial states, hidden sizes, opsets).
Every output is checked against ONNX Runtime AND an independent numpy LSTM. The stock function
serving them is in test_onnx_lstm_stock.py."""
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import mscr_binary

WINDOW = 7


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_lstm(x, w, r, b=None, lens=None, h0=None, c0=None, direction="forward", layout=0):
    """The ONNX LSTM operator in float64 numpy, written from the spec (gates i, o, f, c)."""
    x = np.asarray(x, np.float64)
    if layout == 1:
        x = x.transpose(1, 0, 2)
    seq, batch, _ = x.shape
    dirs, h4, _ = w.shape
    hid = h4 // 4
    b = np.zeros((dirs, 8 * hid)) if b is None else b
    lens = np.full(batch, seq) if lens is None else lens
    y = np.zeros((seq, dirs, batch, hid))
    yh = np.zeros((dirs, batch, hid))
    yc = np.zeros((dirs, batch, hid))
    for d in range(dirs):
        reverse = direction == "reverse" or (direction == "bidirectional" and d == 1)
        for n in range(batch):
            h = np.zeros(hid) if h0 is None else np.asarray(h0, np.float64)[d, n] if layout == 0 else h0[n, d]
            c = np.zeros(hid) if c0 is None else np.asarray(c0, np.float64)[d, n] if layout == 0 else c0[n, d]
            steps = range(lens[n] - 1, -1, -1) if reverse else range(lens[n])
            for t in steps:
                z = w[d] @ x[t, n] + r[d] @ h + b[d, :h4] + b[d, h4:]
                i, o, f, g = (z[k * hid:(k + 1) * hid] for k in range(4))
                c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
                h = sigmoid(o) * np.tanh(c)
                y[t, d, n] = h
            yh[d, n], yc[d, n] = h, c
    if layout == 1:
        return y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2), yc.transpose(1, 0, 2)
    return y, yh, yc


def save(nodes, inputs, outputs, inits, path, opset=13):
    graph = helper.make_graph(nodes, "lstm", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


def tf2onnx_like(path, hidden=1, columns=5, seed=7, opset=13):
    """The graph tf2onnx 1.17 writes for keras Sequential([Input((7, 5)), LSTM(hidden),
    Dense(1, tanh)]) (node for node, names simplified); returns the weights for the references."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.6, (1, 4 * hidden, columns)).astype(np.float32)
    r = rng.normal(0, 0.6, (1, 4 * hidden, hidden)).astype(np.float32)
    b = np.concatenate([rng.normal(0, 0.3, (1, 4 * hidden)), np.zeros((1, 4 * hidden))], 1).astype(np.float32)
    dense_w = rng.normal(0, 0.8, (hidden, 1)).astype(np.float32)
    dense_b = np.array([0.2], np.float32)
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    inits = [
        numpy_helper.from_array(np.array(0, np.float32), "zeros_const"), i64("starts0", [0]), i64("ends1", [1]),
        i64("starts_last", [-1]), i64("ends_last", [2147483647]),
        numpy_helper.from_array(np.array([hidden], np.int32), "units"),
        numpy_helper.from_array(w, "W"), numpy_helper.from_array(r, "R"), numpy_helper.from_array(b, "B"),
        numpy_helper.from_array(dense_w, "dense_kernel"), numpy_helper.from_array(dense_b, "dense_bias"),
    ]
    squeeze = (lambda i, o, axes: helper.make_node("Squeeze", [i, axes], [o])) if opset >= 13 else (
        lambda i, o, axes: helper.make_node("Squeeze", [i], [o], axes=[1 if axes == "ends1" else 0]))
    unsqueeze = (lambda i, o: helper.make_node("Unsqueeze", [i, "starts0"], [o])) if opset >= 13 else (
        lambda i, o: helper.make_node("Unsqueeze", [i], [o], axes=[0]))
    nodes = [
        helper.make_node("Transpose", ["window"], ["transposed"], perm=[1, 0, 2]),
        helper.make_node("Shape", ["window"], ["shape"]),
        helper.make_node("Cast", ["shape"], ["shape32"], to=TensorProto.INT32),
        helper.make_node("Slice", ["shape32", "starts0", "ends1", "starts0"], ["batch"]),
        helper.make_node("Concat", ["batch", "units"], ["packed"], axis=0),
        helper.make_node("Cast", ["packed"], ["packed64"], to=TensorProto.INT64),
        helper.make_node("Expand", ["zeros_const", "packed64"], ["zeros"]),
        unsqueeze("zeros", "state0"),
        helper.make_node("LSTM", ["transposed", "W", "R", "B", "", "state0", "state0"], ["Y", "Y_h", "Y_c"],
                         name="LSTM__33", activations=["Sigmoid", "Tanh", "Tanh"], direction="forward",
                         hidden_size=hidden),
        squeeze("Y", "y3", "ends1"),
        helper.make_node("Slice", ["y3", "starts_last", "ends_last", "starts0"], ["last"]),
        squeeze("last", "last2", "starts0"),
        helper.make_node("MatMul", ["last2", "dense_kernel"], ["dense"]),
        helper.make_node("Add", ["dense", "dense_bias"], ["dense_b"]),
        helper.make_node("Tanh", ["dense_b"], ["Identity:0"]),
    ]
    save(nodes, [helper.make_tensor_value_info("window", TensorProto.FLOAT, ["unk__71", WINDOW, columns])],
         [helper.make_tensor_value_info("Identity:0", TensorProto.FLOAT, ["unk__72", 1])], inits, path, opset)
    return w, r, b, dense_w, dense_b


def numpy_regressor(x, w, r, b, dense_w, dense_b):
    """[batch, 7, 5] scaled windows → [batch] scaled closes, in numpy."""
    _, yh, _ = numpy_lstm(np.transpose(x, (1, 0, 2)), w, r, b)
    return np.tanh(yh[0] @ dense_w + dense_b).ravel()


def run_mscr(model, feeds, tmp_path):
    args = [mscr_binary(), "onnx", "run", str(model), "--out", str(tmp_path / "out")]
    for name, value in feeds.items():
        np.save(tmp_path / f"{name}.npy", np.ascontiguousarray(value, dtype="<f4"))
        args += ["--input", f"{name}={tmp_path / name}.npy"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p


def within(got, want, tol=1e-4):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.abs(want).max()))
    assert float(np.abs(got - want).max()) <= tol * scale, float(np.abs(got - want).max())


@pytest.mark.parametrize("opset", [11, 13, 17])
def test_tf2onnx_shaped_regressor_matches_onnxruntime_and_numpy(tmp_path, opset):
    path = tmp_path / "model.onnx"
    weights = tf2onnx_like(path, hidden=4, opset=opset)
    x = np.random.default_rng(3).uniform(0, 1, (1, WINDOW, 5)).astype(np.float32)
    run_mscr(path, {"window": x}, tmp_path)
    got = np.load(tmp_path / "out" / "Identity:0.npy")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = session.run(None, {"window": x})[0]
    within(got, want)
    within(got.ravel(), numpy_regressor(x, *weights))


VARIANTS = [
    dict(direction="forward", layout=0, hidden=1),
    dict(direction="forward", layout=0, hidden=16, lens=True, states=True),
    dict(direction="reverse", layout=0, hidden=5, lens=True),
    dict(direction="bidirectional", layout=0, hidden=3, states=True),
    dict(direction="forward", layout=1, hidden=6, states=True),
    dict(direction="bidirectional", layout=1, hidden=2, lens=True),
]


@pytest.mark.parametrize("v", VARIANTS, ids=lambda v: "-".join(f"{k}{v[k]}" for k in v))
def test_lstm_node_variants_match_onnxruntime_and_numpy(tmp_path, v):
    rng = np.random.default_rng(11)
    seq, batch, inp, hid = 6, 3, 4, v["hidden"]
    dirs = 2 if v["direction"] == "bidirectional" else 1
    layout = v["layout"]
    w = rng.normal(0, 0.5, (dirs, 4 * hid, inp)).astype(np.float32)
    r = rng.normal(0, 0.5, (dirs, 4 * hid, hid)).astype(np.float32)
    b = rng.normal(0, 0.3, (dirs, 8 * hid)).astype(np.float32)
    lens = np.array([6, 2, 4], np.int32) if v.get("lens") else None
    xshape = [seq, batch, inp] if layout == 0 else [batch, seq, inp]
    sshape = [dirs, batch, hid] if layout == 0 else [batch, dirs, hid]
    x = rng.normal(0, 1, xshape).astype(np.float32)
    feeds = {"x": x}
    inits = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(r, "R"), numpy_helper.from_array(b, "B")]
    if lens is not None:
        inits.append(numpy_helper.from_array(lens, "lens"))
    h0 = c0 = None
    if v.get("states"):
        h0 = rng.normal(0, 0.5, sshape).astype(np.float32)
        c0 = rng.normal(0, 0.5, sshape).astype(np.float32)
        feeds.update(h0=h0, c0=c0)

    def build(path, layout):
        xs = [seq, batch, inp] if layout == 0 else [batch, seq, inp]
        ss = [dirs, batch, hid] if layout == 0 else [batch, dirs, hid]
        ys = [seq, dirs, batch, hid] if layout == 0 else [batch, seq, dirs, hid]
        node = helper.make_node(
            "LSTM", ["x", "W", "R", "B", "lens" if lens is not None else "", "h0" if h0 is not None else "",
                     "c0" if c0 is not None else ""], ["Y", "Y_h", "Y_c"], name="lstm", hidden_size=hid,
            direction=v["direction"], **({"layout": 1} if layout else {}))
        ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, xs)] + [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, ss) for n in ("h0", "c0") if n in feeds]
        outs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ys)] + [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, ss) for n in ("Y_h", "Y_c")]
        save([node], ins, outs, inits, path, opset=14 if layout else 13)

    path = tmp_path / "lstm.onnx"
    build(path, layout)
    run_mscr(path, feeds, tmp_path)
    got = [np.load(tmp_path / "out" / f"{n}.npy") for n in ("Y", "Y_h", "Y_c")]
    if layout == 0:
        want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    else:
        # ONNX Runtime has no batch-major LSTM: its reference is the sequence-major twin.
        build(tmp_path / "twin.onnx", 0)
        twin = {"x": x.transpose(1, 0, 2)} | {k: feeds[k].transpose(1, 0, 2) for k in ("h0", "c0") if k in feeds}
        y, yh, yc = ort.InferenceSession(str(tmp_path / "twin.onnx"), providers=["CPUExecutionProvider"]).run(
            None, twin)
        want = [y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2), yc.transpose(1, 0, 2)]
    reference = numpy_lstm(x, w, r, b, lens, h0, c0, v["direction"], layout)
    for g, o, n in zip(got, want, reference):
        within(g, o)
        within(g, n)
