"""The Open Inference Protocol (KServe V2) with the real Triton client (`tritonclient[http]`)
against the real binary serving the real models: server and model health, metadata, and
`infer` on detect and stock, JSON and binary, equal to the native endpoints' answers."""
import base64
import json
import shutil
import subprocess
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import SHARED, Server, mscr_binary

DOG = SHARED / "data/images/dog.jpg"
GIRL = SHARED / "data/images/girl.png"
GOOG = SHARED / "data/stock/goog-daily.csv"
WINDOW = 7


@pytest.fixture(scope="module")
def server(demo_repository, tmp_path_factory):
    """`mscr serve` on a copy of the demo repository with a second stock-lstm version."""
    models = tmp_path_factory.mktemp("v2") / "models"
    shutil.copytree(demo_repository.path, models)
    trained = demo_repository.path.parent / "stock-model"  # where demo_repository trained it
    if not (trained / "model.json").exists():
        trained = models.parent / "stock-model"
        done = subprocess.run([mscr_binary(), "train", "stock", "--data", str(GOOG), "--order", "newest-first",
                               "--out", str(trained), "--epochs", "5"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    done = subprocess.run([mscr_binary(), "publish", str(trained), "--repository", "file://" + str(models),
                           "--model", "stock-lstm"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    s = Server({**demo_repository.env, "MSCR_MODEL_REPOSITORY": "file://" + str(models)})
    yield s
    s.stop()


@pytest.fixture
def client(server):
    return httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))


def native(server, path, body: bytes, content_type: str) -> dict:
    request = urllib.request.Request(server.url + path, data=body, method="POST",
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.load(r)


def goog_rows(count: int) -> list:
    """The oldest `count` rows of goog-daily.csv (Open, High, Low, Volume, Close), oldest first."""
    rows = [[float(v) for v in line.split(",")] for line in GOOG.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    return list(reversed(rows))[:count]


def test_server_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "mscr"
    assert "binary_tensor_data" in metadata["extensions"]


def test_model_metadata_while_cold_and_unknown_models(client):
    # Models load lazily: not ready before their first inference, metadata all the same.
    assert not client.is_model_ready("stock") and not client.is_model_ready("detect")
    stock = client.get_model_metadata("stock")
    assert stock["name"] == "stock"
    assert stock["versions"] == ["1", "2"]
    assert stock["inputs"] == [{"name": "window", "datatype": "FP32", "shape": [-1, WINDOW, 5]}]
    assert stock["outputs"] == [{"name": "close", "datatype": "FP32", "shape": [-1, 1]}]
    detect = client.get_model_metadata("detect")
    assert detect["inputs"] == [{"name": "image", "datatype": "BYTES", "shape": [1]}]
    assert [(o["name"], o["datatype"], o["shape"]) for o in detect["outputs"]] == [
        ("boxes", "FP32", [-1, 4]), ("scores", "FP32", [-1]), ("classes", "INT32", [-1]), ("labels", "BYTES", [-1])]
    assert client.get_model_metadata("stock", model_version="2")["versions"] == ["2"]
    for name, version in (("nope", ""), ("stock", "9")):
        with pytest.raises(InferenceServerException) as e:
            client.get_model_metadata(name, model_version=version)
        assert e.value.status() == "404"
    assert not client.is_model_ready("nope")


@pytest.mark.parametrize("binary", [False, True])
def test_stock_infer_equals_native(client, server, binary):
    rows = goog_rows(20)
    expected = native(server, "/functions/stock", json.dumps({"rows": rows}).encode(), "application/json")
    windows = np.array([rows[k:k + WINDOW] for k in range(len(rows) - WINDOW + 1)], dtype=np.float32)
    window = httpclient.InferInput("window", list(windows.shape), "FP32")
    window.set_data_from_numpy(windows, binary_data=binary)
    result = client.infer("stock", [window], outputs=[httpclient.InferRequestedOutput("close", binary_data=binary)],
                          request_id="stock-1")
    close = result.as_numpy("close")
    assert close.shape == (len(windows), 1)
    response = result.get_response()
    assert response["model_name"] == "stock" and response["model_version"] == "2" and response["id"] == "stock-1"
    native_closes = [p["predicted"] for p in expected["predictions"]] + [expected["next"]["predicted"]]
    assert len(native_closes) == len(windows)
    # The native answer is rounded to 4 decimals and computed from float64 rows; V2 takes FP32.
    np.testing.assert_allclose(close[:, 0], native_closes, rtol=1e-4, atol=1e-3)
    assert client.is_model_ready("stock")


def detect_v2(client, image: bytes, binary: bool, parameters=None):
    if binary:
        data = np.array([image], dtype=np.object_)
    else:  # JSON carries BYTES as strings: the image goes as base64 text
        data = np.array([base64.b64encode(image)], dtype=np.object_)
    tensor = httpclient.InferInput("image", [1], "BYTES")
    tensor.set_data_from_numpy(data, binary_data=binary)
    outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("boxes", "scores", "classes", "labels")]
    return client.infer("detect", [tensor], outputs=outputs, parameters=parameters)


def assert_same_detections(result, expected):
    boxes, scores = result.as_numpy("boxes"), result.as_numpy("scores")
    classes, labels = result.as_numpy("classes"), result.as_numpy("labels")
    detections = expected["detections"]
    assert len(detections) > 0
    assert boxes.shape == (len(detections), 4) and scores.shape == classes.shape == labels.shape == (len(detections),)
    labels = [v.decode() if isinstance(v, bytes) else v for v in labels]
    assert labels == [d["class"] for d in detections]
    assert classes.tolist() == [d["class_id"] for d in detections]
    np.testing.assert_allclose(scores, [d["score"] for d in detections], atol=2e-6)
    np.testing.assert_allclose(boxes, [[d["box"][k] for k in ("x1", "y1", "x2", "y2")] for d in detections], atol=2e-3)


@pytest.mark.parametrize("binary", [False, True])
def test_detect_infer_equals_native(client, server, binary):
    image = DOG.read_bytes()
    expected = native(server, "/functions/detect", image, "image/jpeg")
    result = detect_v2(client, image, binary)
    assert result.get_response()["model_name"] == "detect"
    assert_same_detections(result, expected)
    assert client.is_model_ready("detect")


def test_detect_png_binary_and_base64_content_type(client, server):
    image = GIRL.read_bytes()
    expected = native(server, "/functions/detect", image, "image/png")
    assert_same_detections(detect_v2(client, image, binary=True), expected)
    assert_same_detections(detect_v2(client, image, binary=False, parameters={"content_type": "base64"}), expected)


def test_detect_threshold_parameter(client, server):
    image = DOG.read_bytes()
    low = detect_v2(client, image, True, parameters={"threshold": 0.1}).as_numpy("scores")
    high = detect_v2(client, image, True, parameters={"threshold": 0.6}).as_numpy("scores")
    assert len(low) > len(high) and (high >= 0.6).all() and (low >= 0.1).all()


def test_version_paths(client):
    rows = np.array([goog_rows(WINDOW)], dtype=np.float32)
    window = httpclient.InferInput("window", list(rows.shape), "FP32")
    window.set_data_from_numpy(rows)
    one = client.infer("stock", [window], model_version="1")
    two = client.infer("stock", [window], model_version="2")
    assert one.get_response()["model_version"] == "1" and two.get_response()["model_version"] == "2"
    # The same trained weights published twice: the same answer from both versions.
    np.testing.assert_allclose(one.as_numpy("close"), two.as_numpy("close"), rtol=1e-6)
    with pytest.raises(InferenceServerException) as e:
        client.infer("stock", [window], model_version="9")
    assert e.value.status() == "404"


@pytest.mark.parametrize("shape, datatype, data, word", [
    ([1, 6, 5], "FP32", np.zeros((1, 6, 5), np.float32), "shape"),
    ([1, 7, 5], "FP64", np.zeros((1, 7, 5), np.float64), "FP64"),
    ([1, 7, 4], "FP32", np.zeros((1, 7, 4), np.float32), "shape"),
])
def test_shape_and_datatype_lies_are_400(client, shape, datatype, data, word):
    for binary in (False, True):
        window = httpclient.InferInput("window", shape, datatype)
        window.set_data_from_numpy(data, binary_data=binary)
        with pytest.raises(InferenceServerException) as e:
            client.infer("stock", [window])
        assert e.value.status() == "400"
        assert word in e.value.message()


def test_data_that_does_not_match_its_shape_is_400(server):
    body = json.dumps({"inputs": [{"name": "window", "datatype": "FP32", "shape": [2, 7, 5],
                                   "data": np.zeros(35).tolist()}]}).encode()
    request = urllib.request.Request(server.url + "/v2/models/stock/infer", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=30)
    assert e.value.code == 400
    assert "35 values" in json.load(e.value)["error"]
