"""`mscr onnx inspect` / `run` on the real binary: what it reports, and clean refusals (exit 1,
the reason, no usage text) for truncated, unsupported and hostile files."""
import json
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from conftest import SHARED, mscr_binary

YOLOV8N = SHARED / "data/models/onnx/yolov8n.onnx"


def mscr(*args):
    return subprocess.run([mscr_binary(), "onnx", *map(str, args)], capture_output=True, text=True, timeout=300)


def assert_refused(p, *mentions):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "Usage" not in p.stderr and "USAGE" not in p.stderr
    for m in mentions:
        assert m in p.stderr, p.stderr


def tiny_model(path, op="Relu", opset=17, initializer=None):
    nodes = [helper.make_node(op, ["x"], ["y"], name="the_node")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                              [initializer] if initializer is not None else [])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)


def test_inspect_yolov8n():
    p = mscr("inspect", YOLOV8N)
    assert p.returncode == 0, p.stderr
    assert "input  images [1×3×640×640]" in p.stdout
    assert "output output0 [1×84×8400]" in p.stdout
    assert "Conv 64" in p.stdout and "opset 17" in p.stdout
    # Every SiLU (Conv → Sigmoid → Mul) is fused into its convolution.
    assert "64 convolutions (57 with a fused activation)" in p.stdout


def test_truncated_file_is_refused(tmp_path):
    data = YOLOV8N.read_bytes()
    for n in (0, 7, 1000, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{n}.onnx"
        path.write_bytes(data[:n])
        p = mscr("inspect", path)
        assert p.returncode == 1, (n, p.stdout)
        assert "Usage" not in p.stderr and "error:" in p.stderr


def test_unknown_op_and_opset_are_refused_by_name(tmp_path):
    tiny_model(tmp_path / "op.onnx", op="HardSwish")
    assert_refused(mscr("inspect", tmp_path / "op.onnx"), "the_node", "HardSwish", "opset 17")
    tiny_model(tmp_path / "old.onnx", opset=9)
    assert_refused(mscr("inspect", tmp_path / "old.onnx"), "opset 9 is not supported")


def test_external_data_is_refused(tmp_path):
    w = numpy_helper.from_array(np.ones((1, 4), np.float32), "w")
    w.ClearField("float_data")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    nodes = [helper.make_node("Add", ["x", "w"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "ext.onnx")
    assert_refused(mscr("inspect", tmp_path / "ext.onnx"), "external")


def test_run_rejects_bad_npy(tmp_path):
    tiny_model(tmp_path / "relu.onnx")
    np.save(tmp_path / "x64.npy", np.zeros((1, 4), np.float64))
    assert_refused(mscr("run", tmp_path / "relu.onnx", "--input", f"x={tmp_path / 'x64.npy'}", "--out", tmp_path / "o"), "<f4")
    np.save(tmp_path / "wrong.npy", np.zeros((2, 4), np.float32))
    assert_refused(mscr("run", tmp_path / "relu.onnx", "--input", f"x={tmp_path / 'wrong.npy'}", "--out", tmp_path / "o"),
                   "[1, 4]")
    np.save(tmp_path / "x.npy", np.array([[-1, 2, -3, 4]], np.float32))
    p = mscr("run", tmp_path / "relu.onnx", "--input", f"x={tmp_path / 'x.npy'}", "--out", tmp_path / "o")
    assert p.returncode == 0, p.stderr
    assert np.load(tmp_path / "o" / "y.npy").tolist() == [[0, 2, 0, 4]]


def test_bench_prints_forward_times():
    p = mscr("run", YOLOV8N, "--bench", 2, "--warmup", 1, "--threads", 1)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["runs"] == 2 and result["threads"] == 1
    assert 0 < result["forward_ms"]["min"] <= result["forward_ms"]["median"]
