"""The V2 inference protocol over gRPC (`inference.GRPCInferenceService`) with the real Triton
client (`tritonclient[grpc]`) and raw grpcio, against the real binary on the one `$PORT` that
also serves REST: the same answers as REST V2 for stock and detect (outputs JSON-equal, raw
outputs byte-equal to REST's binary section), the same errors as gRPC status codes (unknown
model, wrong datatype, malformed protobuf, oversized messages, shed load with retry info, the
`grpc-timeout` deadline), and REST over HTTP/2 with prior knowledge next to HTTP/1.1."""
import base64
import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from google.rpc import error_details_pb2, status_pb2
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

from conftest import SHARED, Server, publish_test_model, wait_until

DOG = SHARED / "data/images/dog.jpg"
GOOG = SHARED / "data/stock/goog-daily.csv"
WINDOW = 7
INFER = "/inference.GRPCInferenceService/ModelInfer"


@pytest.fixture(scope="module")
def server(demo_repository):
    s = Server(demo_repository.env)
    yield s
    s.stop()


def address(server) -> str:
    return server.url.removeprefix("http://")


@pytest.fixture
def client(server):
    return grpcclient.InferenceServerClient(url=address(server))


@pytest.fixture
def rest(server):
    return httpclient.InferenceServerClient(url=address(server))


@pytest.fixture
def stub(server):
    channel = grpc.insecure_channel(address(server))
    yield service_pb2_grpc.GRPCInferenceServiceStub(channel)
    channel.close()


def goog_windows(count: int) -> np.ndarray:
    rows = [[float(v) for v in line.split(",")] for line in GOOG.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    rows = list(reversed(rows))[:count + WINDOW - 1]
    return np.array([rows[k:k + WINDOW] for k in range(count)], dtype=np.float32)


def rest_infer(server, model: str, inputs: list, outputs: list, binary: bool) -> tuple:
    """POST /v2/models/{model}/infer with JSON inputs: the JSON header and, when `binary`, each
    output's bytes of the binary section by name."""
    body = {"inputs": inputs, "outputs": [{"name": n, "parameters": {"binary_data": binary}} for n in outputs]}
    request = urllib.request.Request(f"{server.url}/v2/models/{model}/infer", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        data = r.read()
        length = r.headers.get("Inference-Header-Content-Length")
    header = json.loads(data[:int(length)] if length else data)
    raw, offset = {}, int(length or len(data))
    for output in header["outputs"]:
        size = output.get("parameters", {}).get("binary_data_size")
        if size is not None:
            raw[output["name"]] = data[offset:offset + size]
            offset += size
    return header, raw


def assert_same_as_rest(result, header: dict, raw: dict):
    """The gRPC answer against REST's: model, version, outputs (names, datatypes, shapes, values
    JSON-equal) and every raw output byte-equal to REST's binary section."""
    response = result.get_response()
    assert response.model_name == header["model_name"] and response.model_version == header["model_version"]
    assert [o.name for o in response.outputs] == [o["name"] for o in header["outputs"]]
    for i, (mine, theirs) in enumerate(zip(response.outputs, header["outputs"])):
        assert mine.datatype == theirs["datatype"] and list(mine.shape) == theirs["shape"]
        assert response.raw_output_contents[i] == raw[mine.name], mine.name
        values = result.as_numpy(mine.name)
        if mine.datatype == "BYTES":
            assert [v.decode() for v in values.flatten()] == theirs["data"]
        else:
            expected = np.array(theirs["data"], dtype=values.dtype).reshape(values.shape)
            assert np.array_equal(values, expected), mine.name


def test_server_health_and_metadata_equal_rest(client, rest):
    assert client.is_server_live() and client.is_server_ready()
    mine = client.get_server_metadata(as_json=True)
    theirs = rest.get_server_metadata()
    assert mine["name"] == theirs["name"] == "mscr"
    assert mine["version"] == theirs["version"] and mine["extensions"] == theirs["extensions"]


def test_model_metadata_and_readiness_equal_rest(client, rest):
    assert client.is_model_ready("stock") == rest.is_model_ready("stock")
    for name in ("stock", "detect"):
        mine = client.get_model_metadata(name)
        theirs = rest.get_model_metadata(name)
        assert mine.name == theirs["name"] and list(mine.versions) == theirs["versions"]
        assert mine.platform == theirs["platform"]
        for m, t in ((mine.inputs, theirs["inputs"]), (mine.outputs, theirs["outputs"])):
            assert [(x.name, x.datatype, list(x.shape)) for x in m] == [
                (x["name"], x["datatype"], x["shape"]) for x in t]
    with pytest.raises(InferenceServerException) as e:
        client.get_model_metadata("nope")
    assert e.value.status() == "StatusCode.NOT_FOUND" and "unknown model 'nope'" in e.value.message()
    with pytest.raises(InferenceServerException) as e:
        client.get_model_metadata("stock", model_version="9")
    assert e.value.status() == "StatusCode.NOT_FOUND"


def test_stock_equals_rest(server, client):
    windows = goog_windows(6)
    tensor = grpcclient.InferInput("window", list(windows.shape), "FP32")
    tensor.set_data_from_numpy(windows)
    result = client.infer("stock", [tensor], outputs=[grpcclient.InferRequestedOutput("close")], request_id="s-1")
    assert result.get_response().id == "s-1"
    inputs = [{"name": "window", "datatype": "FP32", "shape": list(windows.shape), "data": windows.flatten().tolist()}]
    header, _ = rest_infer(server, "stock", inputs, ["close"], binary=False)
    _, raw = rest_infer(server, "stock", inputs, ["close"], binary=True)
    assert_same_as_rest(result, header, raw)
    assert client.is_model_ready("stock")


def test_detect_equals_rest(server, client):
    image = DOG.read_bytes()
    tensor = grpcclient.InferInput("image", [1], "BYTES")
    tensor.set_data_from_numpy(np.array([image], dtype=np.object_))
    result = client.infer("detect", [tensor])  # no outputs named: all of them, in the model's order
    inputs = [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(image).decode()],
               "parameters": {"content_type": "base64"}}]
    names = ["boxes", "scores", "classes", "labels"]
    header, _ = rest_infer(server, "detect", inputs, names, binary=False)
    _, raw = rest_infer(server, "detect", inputs, names, binary=True)
    assert len(header["outputs"][1]["data"]) > 0  # the dog picture has detections
    assert_same_as_rest(result, header, raw)


def test_typed_contents_equal_raw_contents(stub, client):
    """`contents` (fp32_contents, bytes_contents) and `raw_input_contents` are two encodings of
    the same request: the same answer."""
    windows = goog_windows(3)
    typed = service_pb2.ModelInferRequest(model_name="stock")
    typed.inputs.add(name="window", datatype="FP32", shape=list(windows.shape)).contents.fp32_contents.extend(
        windows.flatten().tolist())
    raw = service_pb2.ModelInferRequest(model_name="stock")
    raw.inputs.add(name="window", datatype="FP32", shape=list(windows.shape))
    raw.raw_input_contents.append(windows.tobytes())
    assert stub.ModelInfer(typed).raw_output_contents == stub.ModelInfer(raw).raw_output_contents
    image = DOG.read_bytes()
    typed = service_pb2.ModelInferRequest(model_name="detect")
    typed.inputs.add(name="image", datatype="BYTES", shape=[1]).contents.bytes_contents.append(image)
    typed.parameters["threshold"].double_param = 0.5
    raw = service_pb2.ModelInferRequest(model_name="detect")
    raw.inputs.add(name="image", datatype="BYTES", shape=[1])
    raw.raw_input_contents.append(len(image).to_bytes(4, "little") + image)
    raw.parameters["threshold"].double_param = 0.5
    a, b = stub.ModelInfer(typed), stub.ModelInfer(raw)
    assert a.raw_output_contents == b.raw_output_contents
    scores = np.frombuffer(a.raw_output_contents[1], dtype="<f4")
    assert len(scores) > 0 and (scores >= 0.5).all()


@pytest.mark.parametrize("shape, datatype, data, word", [
    ([1, 7, 5], "FP64", np.zeros((1, 7, 5), np.float64), "FP64"),
    ([1, 7, 4], "FP32", np.zeros((1, 7, 4), np.float32), "shape"),
])
def test_wrong_datatype_and_shape_are_invalid_argument(client, shape, datatype, data, word):
    tensor = grpcclient.InferInput("window", shape, datatype)
    tensor.set_data_from_numpy(data)
    with pytest.raises(InferenceServerException) as e:
        client.infer("stock", [tensor])
    assert e.value.status() == "StatusCode.INVALID_ARGUMENT" and word in e.value.message()


def test_typed_contents_of_another_datatype_are_invalid_argument(stub):
    request = service_pb2.ModelInferRequest(model_name="stock")
    request.inputs.add(name="window", datatype="FP32", shape=[1, 7, 5]).contents.int_contents.extend([1] * 35)
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(request)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "int_contents" in e.value.details()


def test_unknown_model_and_method(client, server):
    tensor = grpcclient.InferInput("window", [1, 7, 5], "FP32")
    tensor.set_data_from_numpy(np.zeros((1, 7, 5), np.float32))
    with pytest.raises(InferenceServerException) as e:
        client.infer("nope", [tensor])
    assert e.value.status() == "StatusCode.NOT_FOUND"
    with grpc.insecure_channel(address(server)) as channel:
        call = channel.unary_unary("/inference.GRPCInferenceService/ModelConfig")
        with pytest.raises(grpc.RpcError) as e:
            call(b"")
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("payload", [b"\xff\xff\xff\xff", b"\x0a\x05st", b"\x2a\x80\x80\x80\x80\x10", bytes(range(256))])
def test_malformed_protobuf_is_invalid_argument_and_the_server_stays_up(server, client, payload):
    with grpc.insecure_channel(address(server)) as channel:
        with pytest.raises(grpc.RpcError) as e:
            channel.unary_unary(INFER)(payload)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert client.is_server_live()


def test_oversized_messages_are_resource_exhausted(server, stub):
    # Over stock's maxBodyBytes (1 MiB), under the largest function limit (detect's 10 MiB).
    request = service_pb2.ModelInferRequest(model_name="stock")
    request.inputs.add(name="window", datatype="FP32", shape=[1, 7, 5])
    request.raw_input_contents.append(bytes(2 << 20))
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(request)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "limit" in e.value.details()
    # Over every limit: refused while it is read, never kept.
    request.raw_input_contents[0] = bytes(12 << 20)
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(request)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def curl(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True, timeout=60)


def test_rest_over_http2_prior_knowledge_and_http1_on_the_same_port(server):
    if shutil.which("curl") is None:
        pytest.skip("no curl")
    for version in ("--http2-prior-knowledge", "--http1.1"):
        done = curl(version, "-o", "/dev/null", "-w", "%{http_version} %{http_code}", server.url + "/healthz")
        assert done.stdout.decode() == ("2 200" if version.startswith("--http2") else "1.1 200"), done.stderr
    rows = "\n".join([line for line in GOOG.read_text().splitlines() if line and not line.startswith("#")][:20])
    rows = rows.encode()
    answers = []
    for version in ("--http2-prior-knowledge", "--http1.1"):
        done = subprocess.run(["curl", "-sS", "--max-time", "30", version, "-H", "Content-Type: text/csv",
                               "--data-binary", "@-", server.url + "/functions/stock"],
                              input=rows, capture_output=True, timeout=60)
        answers.append(json.loads(done.stdout))
    assert answers[0] == answers[1] and "next" in answers[0]


def grpc_frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


def test_grpc_over_curl_reports_status_in_trailers(server, tmp_path):
    """A hand-made gRPC call (curl, HTTP/2 prior knowledge): the reply message in its frame and
    `grpc-status: 0` in the trailers; a cut-off frame is INVALID_ARGUMENT."""
    body = tmp_path / "live.bin"
    body.write_bytes(grpc_frame(service_pb2.ServerLiveRequest().SerializeToString()))
    out = tmp_path / "out.bin"
    done = curl("--http2-prior-knowledge", "-D", "-", "-o", str(out), "-H", "Content-Type: application/grpc",
                "-H", "TE: trailers", "--data-binary", f"@{body}",
                server.url + "/inference.GRPCInferenceService/ServerLive")
    headers = done.stdout.decode().lower()
    assert "grpc-status: 0" in headers and "content-type: application/grpc" in headers
    reply = out.read_bytes()
    assert reply[0] == 0 and int.from_bytes(reply[1:5], "big") == len(reply) - 5
    assert service_pb2.ServerLiveResponse.FromString(reply[5:]).live
    body.write_bytes(b"\x00\x00\x00\x00\x09abc")
    done = curl("--http2-prior-knowledge", "-D", "-", "-o", "/dev/null", "-H", "Content-Type: application/grpc",
                "--data-binary", f"@{body}", server.url + INFER)
    assert "grpc-status: 3" in done.stdout.decode().lower()


@pytest.fixture(scope="module")
def busy_server(demo_repository, tmp_path_factory):
    """One request at a time and no queue (MSCR_CONCURRENCY=1, MSCR_QUEUE_DEPTH=0 or 1), with
    stock and the test function `t`, whose `?sleep_ms=` holds the one slot."""
    root = tmp_path_factory.mktemp("grpc-busy")
    models = root / "models"
    shutil.copytree(demo_repository.path, models)
    publish_test_model(models, "t-model", {"model.txt": b"hello"})
    functions = root / "functions"
    (functions / "t").mkdir(parents=True)
    (functions / "t" / "function.json").write_text(
        '{"name": "t", "kind": "mscr-test", "model": "t-model", "params": {}, '
        '"limits": {"maxBodyBytes": 4096, "concurrency": 4}}')
    shutil.copytree(demo_repository.env["MSCR_FUNCTIONS"] + "/stock", functions / "stock")
    servers = {}
    for depth in (0, 1):
        servers[depth] = Server({"MSCR_FUNCTIONS": str(functions), "MSCR_MODEL_REPOSITORY": "file://" + str(models),
                                 "MSCR_ENABLE_TEST_FUNCTIONS": "1", "MSCR_CONCURRENCY": "1",
                                 "MSCR_QUEUE_DEPTH": str(depth), "MSCR_WARM": "stock,t"})
    yield servers
    for s in servers.values():
        s.stop()


def gauge(server, name) -> float:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} in /metrics")


def hold_the_slot(server, ms: int) -> threading.Thread:
    """A slow REST request that holds the instance's one slot; returns once it is in flight."""
    thread = threading.Thread(target=lambda: urllib.request.urlopen(
        urllib.request.Request(f"{server.url}/functions/t?sleep_ms={ms}", data=b"x", method="POST"), timeout=60).read())
    thread.start()
    assert wait_until(lambda: gauge(server, "mscr_inflight_requests") >= 1, timeout=20)
    return thread


def stock_request() -> service_pb2.ModelInferRequest:
    request = service_pb2.ModelInferRequest(model_name="stock")
    request.inputs.add(name="window", datatype="FP32", shape=[1, 7, 5])
    request.raw_input_contents.append(goog_windows(1).tobytes())
    return request


def test_shed_load_is_resource_exhausted_with_retry_info(busy_server):
    server = busy_server[0]
    holder = hold_the_slot(server, 4000)
    with grpc.insecure_channel(address(server)) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as e:
            stub.ModelInfer(stock_request(), timeout=30)
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        details = [v for k, v in e.value.trailing_metadata() if k == "grpc-status-details-bin"]
        assert len(details) == 1
        status = status_pb2.Status.FromString(details[0])
        assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
        retry = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(retry) and retry.retry_delay.seconds >= 1
        holder.join()
        # The slot is free again: the same call answers.
        assert len(stub.ModelInfer(stock_request(), timeout=30).raw_output_contents[0]) == 4


def test_grpc_timeout_is_the_request_deadline(busy_server, tmp_path):
    """Queued behind a 5 s request with `grpc-timeout: 300m`, the call ends DEADLINE_EXCEEDED
    from the server (curl sets no deadline of its own; without the header it would wait its turn
    and answer)."""
    if shutil.which("curl") is None:
        pytest.skip("no curl")
    server = busy_server[1]
    body = tmp_path / "infer.bin"
    body.write_bytes(grpc_frame(stock_request().SerializeToString()))
    holder = hold_the_slot(server, 5000)
    done = curl("--http2-prior-knowledge", "-D", "-", "-o", "/dev/null", "-H", "Content-Type: application/grpc",
                "-H", "grpc-timeout: 300m", "--data-binary", f"@{body}", server.url + INFER)
    holder.join()
    assert "grpc-status: 4" in done.stdout.decode().lower(), done.stdout.decode()
    # With a roomy deadline the same call answers.
    done = curl("--http2-prior-knowledge", "-D", "-", "-o", "/dev/null", "-H", "Content-Type: application/grpc",
                "-H", "grpc-timeout: 20S", "--data-binary", f"@{body}", server.url + INFER)
    assert "grpc-status: 0" in done.stdout.decode().lower(), done.stdout.decode()


def test_a_long_lived_grpcio_channel_is_not_cut_by_its_bandwidth_probes(server, client):
    """grpcio probes bandwidth with PINGs (BDP, on by default) as calls complete; the server's
    control-frame limit must leave such a client alone: 3000 calls on one default channel, none
    fails (NIO's default limit, 200 per 30 s, cut it after about a thousand)."""
    windows = goog_windows(1)
    failures = []
    for i in range(3000):
        x = grpcclient.InferInput("window", list(windows.shape), "FP32")
        x.set_data_from_numpy(windows)
        try:
            client.infer("stock", [x], outputs=[grpcclient.InferRequestedOutput("close")])
        except InferenceServerException as e:
            failures.append((i, str(e)))
            if len(failures) > 3:
                break
    assert failures == []


def test_sigterm_closes_an_open_h2c_connection_gracefully(demo_repository):
    """A gRPC client holding its HTTP/2 connection open does not keep the process alive past
    SIGTERM: the connection gets GOAWAY, the call in hand completes, the process exits 0."""
    s = Server({**demo_repository.env, "MSCR_SHUTDOWN_GRACE": "5"})
    try:
        c = grpcclient.InferenceServerClient(url=address(s))
        assert c.is_server_live()
        windows = goog_windows(1)
        x = grpcclient.InferInput("window", list(windows.shape), "FP32")
        x.set_data_from_numpy(windows)
        assert c.infer("stock", [x]).as_numpy("close").shape == (1, 1)
        s.proc.terminate()
        assert s.proc.wait(15) == 0
    finally:
        s.stop()
