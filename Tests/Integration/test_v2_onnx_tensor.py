"""`"kind": "tensor"`: an ONNX graph published with `mscr publish`, served through the Open
Inference Protocol with the graph's own tensor names and shapes, checked with the real Triton
client against ONNX Runtime on the same file (binary and JSON tensors)."""
import json
import subprocess
import urllib.error
import urllib.request

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tritonclient.http as httpclient
from onnx import TensorProto, helper, numpy_helper
from tritonclient.utils import InferenceServerException

from conftest import Server, mscr_binary


def make_graph(path):
    """x [1,3,16,16] → Conv 3→8 3×3 (+bias) → SiLU → y [1,8,16,16]; z = MaxPool 2×2(y) [1,8,8,8]."""
    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(rng.normal(0, 0.4, (8, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (8,)).astype(np.float32), "b")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Sigmoid", ["c"], ["s"], name="sig"),
        helper.make_node("Mul", ["c", "s"], ["y"], name="silu"),
        helper.make_node("MaxPool", ["y"], ["z"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8, 8, 8])], [w, b])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("tensor")
    (root / "graph").mkdir()
    make_graph(root / "graph" / "model.onnx")
    repo = "file://" + str(root / "models")
    done = subprocess.run([mscr_binary(), "publish", str(root / "graph"), "--repository", repo, "--model", "g"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (root / "functions" / "g").mkdir(parents=True)
    (root / "functions" / "g" / "function.json").write_text(json.dumps({"name": "g", "kind": "tensor", "model": "g"}))
    server = Server({"MSCR_FUNCTIONS": str(root / "functions"), "MSCR_MODEL_REPOSITORY": repo})
    yield server, ort.InferenceSession(str(root / "graph" / "model.onnx"), providers=["CPUExecutionProvider"])
    server.stop()


def close(got, want):
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= 1e-4 * scale


def test_metadata_is_the_graphs_own(served):
    server, _ = served
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    meta = client.get_model_metadata("g")  # loads the graph: only it knows its tensors
    assert meta["platform"] == "onnx" and meta["versions"] == ["1"]
    assert [(t["name"], t["datatype"], t["shape"]) for t in meta["inputs"]] == [("x", "FP32", [1, 3, 16, 16])]
    assert [(t["name"], t["shape"]) for t in meta["outputs"]] == [("y", [1, 8, 16, 16]), ("z", [1, 8, 8, 8])]
    assert client.is_model_ready("g")


@pytest.mark.parametrize("binary", [True, False])
def test_infer_matches_onnx_runtime(served, binary):
    server, session = served
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    for seed in (1, 2):
        x = np.random.default_rng(seed).normal(0, 1, (1, 3, 16, 16)).astype(np.float32)
        inp = httpclient.InferInput("x", list(x.shape), "FP32")
        inp.set_data_from_numpy(x, binary_data=binary)
        outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("y", "z")]
        result = client.infer("g", [inp], outputs=outputs)
        want_y, want_z = session.run(None, {"x": x})
        close(result.as_numpy("y"), want_y)
        close(result.as_numpy("z"), want_z)
    # Only the output asked for comes back.
    result = client.infer("g", [inp], outputs=[httpclient.InferRequestedOutput("z", binary_data=binary)])
    assert result.as_numpy("y") is None and result.as_numpy("z").shape == (1, 8, 8, 8)


def test_bad_requests_are_clear_errors(served):
    server, _ = served
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    wrong = httpclient.InferInput("images", [1, 3, 16, 16], "FP32")
    wrong.set_data_from_numpy(np.zeros((1, 3, 16, 16), np.float32))
    with pytest.raises(InferenceServerException, match="unknown input 'images'"):
        client.infer("g", [wrong])
    small = httpclient.InferInput("x", [1, 3, 8, 8], "FP32")
    small.set_data_from_numpy(np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(InferenceServerException, match=r"shape \[1, 3, 8, 8\]"):
        client.infer("g", [small])
    ok = httpclient.InferInput("x", [1, 3, 16, 16], "FP32")
    ok.set_data_from_numpy(np.zeros((1, 3, 16, 16), np.float32))
    with pytest.raises(InferenceServerException, match="no output named 'w'"):
        client.infer("g", [ok], outputs=[httpclient.InferRequestedOutput("w")])
    request = urllib.request.Request(server.url + "/functions/g", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=10)
    assert e.value.code == 415 and b"/v2/models/<name>/infer" in e.value.read()
