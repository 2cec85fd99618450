"""`mscr onnx run` (the real binary) against ONNX Runtime: yolov8n on random and real input, and a
small graph built here covering the supported ops. Criterion: every output channel (axis 1) within
1e-4 × max(1, max|reference| of that channel)."""
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from conftest import SHARED, mscr_binary

YOLOV8N = SHARED / "data/models/onnx/yolov8n.onnx"
IMAGES = SHARED / "data/images"


def run_mscr(model_path, feeds, tmp_path, threads=2):
    tmp_path.mkdir(parents=True, exist_ok=True)
    args = [mscr_binary(), "onnx", "run", str(model_path), "--out", str(tmp_path / "out"), "--threads", str(threads)]
    for name, value in feeds.items():
        path = tmp_path / f"{name}.npy"
        np.save(path, np.ascontiguousarray(value, dtype="<f4"))
        args += ["--input", f"{name}={path}"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p


def run_both(model_path, feeds, tmp_path, threads=2):
    run_mscr(model_path, feeds, tmp_path, threads)
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    refs = session.run(None, feeds)
    ours = [np.load(tmp_path / "out" / (n.replace("/", "_") + ".npy")) for n in names]
    return ours, refs


def assert_channels_close(ours, ref, name=""):
    assert ours.shape == ref.shape, f"{name}: {ours.shape} vs {ref.shape}"
    if ref.ndim < 2:
        ours, ref = ours.reshape(1, -1), ref.reshape(1, -1)
    axes = tuple(i for i in range(ref.ndim) if i != 1)
    scale = np.maximum(1.0, np.abs(ref).max(axis=axes))
    err = np.abs(ours - ref).max(axis=axes)
    worst = int(np.argmax(err / scale))
    assert np.all(err <= 1e-4 * scale), f"{name}: channel {worst} off by {err[worst]} (scale {scale[worst]})"


def letterbox(path, size=640):
    image = Image.open(path).convert("RGB")
    w, h = image.size
    scale = min(size / w, size / h)
    nw, nh = round(w * scale), round(h * scale)
    resized = np.asarray(image.resize((nw, nh), Image.BILINEAR), dtype=np.float32) / 255.0
    canvas = np.full((size, size, 3), 114 / 255.0, dtype=np.float32)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[top:top + nh, left:left + nw] = resized
    return canvas.transpose(2, 0, 1)[None].copy()


def test_yolov8n_random_input_matches_onnxruntime(tmp_path):
    rng = np.random.default_rng(1)
    x1 = rng.random((1, 3, 640, 640), dtype=np.float32)
    x2 = rng.random((1, 3, 640, 640), dtype=np.float32)
    (a,), (ref_a,) = run_both(YOLOV8N, {"images": x1}, tmp_path / "a")
    (b,), (ref_b,) = run_both(YOLOV8N, {"images": x2}, tmp_path / "b")
    assert_channels_close(a, ref_a, "yolov8n x1")
    assert_channels_close(b, ref_b, "yolov8n x2")
    # The random-weight model is not a constant function: two inputs give clearly different outputs.
    assert np.abs(ref_a - ref_b).max() > 1.0
    assert np.abs(a - b).max() > 1.0


@pytest.mark.parametrize("threads", [1, 2])
def test_yolov8n_letterboxed_photo_matches_onnxruntime(tmp_path, threads):
    x = letterbox(IMAGES / "dog.jpg")
    (ours,), (ref,) = run_both(YOLOV8N, {"images": x}, tmp_path, threads=threads)
    assert_channels_close(ours, ref, "yolov8n dog.jpg")
    # Some class scores pass 0.25 (the model's README), so detection decoding has something to find.
    assert (ref[0, 4:] > 0.25).any()


def small_graph(path):
    """A graph exercising every supported op family the way exporters write them."""
    rng = np.random.default_rng(7)

    def init(name, shape, scale=0.3):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    def ints(name, values):
        return numpy_helper.from_array(np.array(values, dtype=np.int64), name)

    nodes, inits = [], []
    inits += [init("w1", (16, 3, 3, 3)), init("b1", (16,)), init("g1", (16,), 1), init("be1", (16,)), init("m1", (16,)),
              numpy_helper.from_array((rng.random(16) + 0.5).astype(np.float32), "v1")]
    nodes += [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
              helper.make_node("BatchNormalization", ["c1", "g1", "be1", "m1", "v1"], ["n1"]),
              helper.make_node("Sigmoid", ["n1"], ["s1"]), helper.make_node("Mul", ["n1", "s1"], ["a1"])]
    inits += [init("wd", (16, 1, 3, 3)), init("bd", (16,))]
    nodes += [helper.make_node("Conv", ["a1", "wd", "bd"], ["cd"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=16),
              helper.make_node("LeakyRelu", ["cd"], ["ad"], alpha=0.1)]
    inits += [init("w2", (32, 16, 1, 1)), init("b2", (32,))]
    nodes += [helper.make_node("Conv", ["ad", "w2", "b2"], ["c2"], kernel_shape=[1, 1]),
              helper.make_node("Relu", ["c2"], ["a2"]),
              helper.make_node("Split", ["a2", "sp"], ["p0", "p1"], axis=1),
              helper.make_node("MaxPool", ["p1"], ["mp"], kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1]),
              helper.make_node("Add", ["p0", "mp"], ["sum"]),
              helper.make_node("Concat", ["sum", "p1"], ["cat"], axis=1),
              helper.make_node("Resize", ["cat", "", "scales"], ["up"], mode="nearest",
                               coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
              helper.make_node("Shape", ["up"], ["shape"]),
              helper.make_node("Gather", ["shape", "one"], ["channels"], axis=0),
              helper.make_node("Div", ["channels", "four"], ["quarter"]),
              helper.make_node("Concat", ["one1", "four1", "quarter", "minus1"], ["newshape"], axis=0),
              helper.make_node("Reshape", ["up", "newshape"], ["r"]),
              helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3]),
              helper.make_node("Softmax", ["t"], ["sm"], axis=1),
              helper.make_node("Slice", ["sm", "st", "en", "ax"], ["sl"]),
              helper.make_node("Sub", ["sl", "half"], ["d"]),
              helper.make_node("Div", ["d", "tenth"], ["e"]),
              helper.make_node("Reshape", ["e", "flat"], ["f"]),
              helper.make_node("MatMul", ["f", "wm"], ["y"])]
    inits += [ints("sp", [16, 16]), numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
              numpy_helper.from_array(np.array(1, np.int64), "one"), ints("four", [4]),
              ints("one1", [1]), ints("four1", [4]), ints("minus1", [-1]),
              ints("st", [1]), ints("en", [7]), ints("ax", [1]),
              numpy_helper.from_array(np.array(0.5, np.float32), "half"),
              numpy_helper.from_array(np.array([0.1], np.float32), "tenth"), ints("flat", [1, 6, -1]),
              init("wm", (4096, 10), 0.05)]
    # Folded at import: quarter = 32 / 4 = [8], so r is [1, 4, 8, 1024] and f is [1, 6, 4096].
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 10]),
                               helper.make_tensor_value_info("a1", TensorProto.FLOAT, [1, 16, 16, 16])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def test_small_graph_matches_onnxruntime(tmp_path):
    path = tmp_path / "small.onnx"
    small_graph(path)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    ours, refs = run_both(path, {"x": x}, tmp_path)
    for name, a, r in zip(["y", "a1"], ours, refs):
        assert_channels_close(a, r, name)
    x2 = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    _, refs2 = run_both(path, {"x": x2}, tmp_path / "second")
    assert np.abs(refs[0] - refs2[0]).max() > 1e-3


def darknet_style_graph(path):
    """What darknet2onnx-style exports add at opset 12: BN left unfused, Mish as
    Mul(x, Tanh(Softplus(x))), LeakyRelu 0.1, 2×2 stride-2 max pooling, a nearest Resize, Gemm."""
    rng = np.random.default_rng(11)

    def init(name, shape, scale=0.3):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [init("w1", (16, 3, 3, 3)), init("g", (16,), 1), init("be", (16,)), init("mu", (16,)),
             numpy_helper.from_array((rng.random(16) + 0.5).astype(np.float32), "var"),
             init("w2", (32, 16, 3, 3), 0.1), init("b2", (32,)),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
             numpy_helper.from_array(np.array([], np.float32), "roi"),
             numpy_helper.from_array(np.array([1, -1], np.int64), "flat"), init("fc", (10, 32 * 16 * 16), 0.02),
             init("fcb", (10,))]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["n1"], epsilon=1e-4),
             helper.make_node("Softplus", ["n1"], ["sp"]), helper.make_node("Tanh", ["sp"], ["th"]),
             helper.make_node("Mul", ["n1", "th"], ["m1"]),
             helper.make_node("MaxPool", ["m1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("LeakyRelu", ["c2"], ["l2"], alpha=0.1),
             helper.make_node("Resize", ["l2", "roi", "scales"], ["up"], mode="nearest"),
             helper.make_node("MaxPool", ["up"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Reshape", ["p2", "flat"], ["f"]),
             helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "darknet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10]),
                               helper.make_tensor_value_info("l2", TensorProto.FLOAT, [1, 32, 16, 16])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def test_darknet_style_graph_matches_onnxruntime(tmp_path):
    path = tmp_path / "darknet.onnx"
    darknet_style_graph(path)
    x = np.random.default_rng(5).standard_normal((1, 3, 32, 32)).astype(np.float32)
    ours, refs = run_both(path, {"x": x}, tmp_path)
    assert_channels_close(ours[0], refs[0], "y")
    assert_channels_close(ours[1], refs[1], "l2")
