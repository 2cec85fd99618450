"""OpenTelemetry traces (issue 20) from the real binary to a real OTLP/HTTP receiver: a small
http.server on 127.0.0.1 that decodes ExportTraceServiceRequest with the `opentelemetry-proto`
package (Tests/Support/otlp_receiver.py). Each test asserts what a trace backend would show:
the caller's trace id and parent span, the child spans of a call with their attributes, cold
or warm, the Cloud Run trace header, nothing when tracing is off, and the flush on SIGTERM."""
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, Server, free_port, mscr_binary, wait_until

sys.path.insert(0, str(ROOT / "Tests/Support"))
from otlp_receiver import OTLPReceiver, attributes  # noqa: E402

CSV = (ROOT / "Sources/Runtime/Web/sample-goog.csv").read_bytes()
SERVER = 2  # opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER


def post(server, path, body, content_type, headers=None, timeout=60):
    request = urllib.request.Request(server.url + path, data=body, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def new_trace():
    return secrets.token_hex(16), secrets.token_hex(8)


def spans_of(receiver, trace_id):
    return [s for _, s in receiver.snapshot() if s.trace_id.hex() == trace_id]


def wait_for_spans(receiver, trace_id, names, timeout=30):
    """Waits for the named spans and the server span of the trace (it ends last, so it may
    come in a later batch)."""
    def arrived():
        spans = spans_of(receiver, trace_id)
        return set(names) <= {s.name for s in spans} and any(s.kind == SERVER for s in spans)
    assert wait_until(arrived, timeout), \
        f"spans {names} of trace {trace_id}: got {[s.name for s in spans_of(receiver, trace_id)]}"
    return {s.name: s for s in spans_of(receiver, trace_id)}


def server_span(spans):
    found = [s for s in spans.values() if s.kind == SERVER]
    assert len(found) == 1, [s.name for s in spans.values()]
    return found[0]


@pytest.fixture(scope="module")
def receiver():
    r = OTLPReceiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def traced(demo_repository, receiver):
    """`mscr serve` on the demo functions, exporting to the receiver every 50 ms."""
    s = Server({**demo_repository.env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_SERVICE_NAME": "mscr-under-test",
                "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test", "OTEL_BSP_SCHEDULE_DELAY": "50"})
    yield s
    s.stop()


def test_server_span_continues_the_callers_trace_with_child_spans_cold_then_warm(traced, receiver):
    trace, parent = new_trace()
    status, body = post(traced, "/functions/stock", CSV, "text/csv", {"traceparent": f"00-{trace}-{parent}-01"})
    assert status == 200, body
    spans = wait_for_spans(receiver, trace, ["queue wait", "model load", "model fetch", "model parse", "inference"])
    root = server_span(spans)
    assert root.trace_id.hex() == trace and root.parent_span_id.hex() == parent
    assert root.name == "POST /functions/{name}" or root.name.startswith("POST /functions/"), root.name
    a = attributes(root)
    assert a["http.response.status_code"] == 200 and a["mscr.function"] == "stock" and a["mscr.cold"] is True
    for name in ("queue wait", "model load", "inference"):
        assert spans[name].parent_span_id == root.span_id, name
    for name in ("model fetch", "model parse"):
        assert spans[name].parent_span_id == spans["model load"].span_id, name
        assert spans["model load"].start_time_unix_nano <= spans[name].start_time_unix_nano
        assert spans[name].end_time_unix_nano <= spans["model load"].end_time_unix_nano
    inference = attributes(spans["inference"])
    assert inference == {**inference, "mscr.function": "stock", "mscr.model": "stock-lstm",
                         "mscr.model.version": 1, "mscr.cold": True}
    load = attributes(spans["model load"])
    assert load["mscr.model.version"] == 1 and load["mscr.load.bytes"] > 0
    assert attributes(spans["queue wait"])["mscr.function"] == "stock"
    # Every child lies inside the server span.
    for s in spans.values():
        assert root.start_time_unix_nano <= s.start_time_unix_nano <= s.end_time_unix_nano <= root.end_time_unix_nano

    resource = next(r for r, s in receiver.snapshot() if s.trace_id.hex() == trace)
    assert resource["service.name"] == "mscr-under-test" and resource["deployment.environment"] == "test"
    assert all(path == "/v1/traces" and ctype == "application/x-protobuf" for path, ctype in receiver.requests)

    warm_trace, warm_parent = new_trace()
    status, _ = post(traced, "/functions/stock", CSV, "text/csv", {"traceparent": f"00-{warm_trace}-{warm_parent}-01"})
    assert status == 200
    warm = wait_for_spans(receiver, warm_trace, ["queue wait", "inference"])
    assert "model load" not in warm and "model fetch" not in warm
    assert attributes(warm["inference"])["mscr.cold"] is False
    assert attributes(server_span(warm))["mscr.cold"] is False
    assert server_span(warm).parent_span_id.hex() == warm_parent


def test_cloud_trace_header_is_continued_when_traceparent_is_absent(traced, receiver):
    trace, _ = new_trace()
    status, _ = post(traced, "/functions/stock", CSV, "text/csv", {"X-Cloud-Trace-Context": f"{trace}/12345;o=1"})
    assert status == 200
    root = server_span(wait_for_spans(receiver, trace, ["inference"]))
    assert root.parent_span_id == (12345).to_bytes(8, "big")
    # With both headers, traceparent is the one continued.
    trace2, parent2 = new_trace()
    status, _ = post(traced, "/functions/stock", CSV, "text/csv",
                     {"traceparent": f"00-{trace2}-{parent2}-01", "X-Cloud-Trace-Context": f"{trace}/777;o=1"})
    assert status == 200
    assert server_span(wait_for_spans(receiver, trace2, ["inference"])).parent_span_id.hex() == parent2
    assert not [s for s in spans_of(receiver, trace) if s.parent_span_id == (777).to_bytes(8, "big")]


def test_unsampled_caller_is_not_exported_and_errors_are_marked(traced, receiver):
    """The default sampler (parentbased_always_on) follows the caller's sampled flag."""
    unsampled, parent = new_trace()
    assert post(traced, "/functions/stock", CSV, "text/csv", {"traceparent": f"00-{unsampled}-{parent}-00"})[0] == 200
    trace, parent = new_trace()
    status, _ = post(traced, "/functions/nope", b"x", "text/plain", {"traceparent": f"00-{trace}-{parent}-01"})
    assert status == 404
    root = server_span(wait_for_spans(receiver, trace, []))
    assert attributes(root)["http.response.status_code"] == 404
    # Spans leave in the order they ended: the later trace has arrived, so the unsampled one would have too.
    assert spans_of(receiver, unsampled) == []


def test_v2_infer_has_an_encode_span(traced, receiver):
    with urllib.request.urlopen(traced.url + "/v2/models/stock", timeout=30) as r:
        shape = next(i["shape"] for i in json.load(r)["inputs"] if i["name"] == "window")
    days, columns = shape[-2], shape[-1]
    data = [100.0 + d + c for d in range(days) for c in range(columns)]
    body = json.dumps({"inputs": [{"name": "window", "datatype": "FP32", "shape": [1, days, columns],
                                   "data": data}]}).encode()
    trace, parent = new_trace()
    status, answer = post(traced, "/v2/models/stock/infer", body, "application/json",
                          {"traceparent": f"00-{trace}-{parent}-01"})
    assert status == 200, answer[:300]
    spans = wait_for_spans(receiver, trace, ["inference", "encode"])
    root = server_span(spans)
    assert spans["encode"].parent_span_id == root.span_id
    assert attributes(root)["mscr.function"] == "stock"
    assert attributes(spans["encode"])["mscr.function"] == "stock"


def test_a_grpc_call_has_a_server_span_continuing_the_callers_trace(traced, receiver):
    """gRPC calls are answered on their HTTP/2 stream, not through the REST router and its
    tracing middleware: their server span is the RPC's (`service/method`, `rpc.*` attributes),
    a child of the caller's `traceparent` metadata, with the call's spans under it."""
    import grpc
    import numpy as np
    from tritonclient.grpc import service_pb2, service_pb2_grpc
    with urllib.request.urlopen(traced.url + "/v2/models/stock", timeout=30) as r:
        shape = [max(d, 1) for d in next(i["shape"] for i in json.load(r)["inputs"] if i["name"] == "window")]
    request = service_pb2.ModelInferRequest(model_name="stock")
    request.inputs.add(name="window", datatype="FP32", shape=shape)
    request.raw_input_contents.append(np.full(shape, 100.0, np.float32).tobytes())
    trace, parent = new_trace()
    with grpc.insecure_channel(traced.url.removeprefix("http://")) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        reply = stub.ModelInfer(request, timeout=30, metadata=[("traceparent", f"00-{trace}-{parent}-01")])
        assert len(reply.raw_output_contents[0]) == 4
        # An error is marked on the span too.
        failed, failed_parent = new_trace()
        with pytest.raises(grpc.RpcError):
            stub.ModelInfer(service_pb2.ModelInferRequest(model_name="nope"), timeout=30,
                            metadata=[("traceparent", f"00-{failed}-{failed_parent}-01")])
    spans = wait_for_spans(receiver, trace, ["queue wait", "inference", "encode"])
    root = server_span(spans)
    assert root.name == "inference.GRPCInferenceService/ModelInfer"
    assert root.trace_id.hex() == trace and root.parent_span_id.hex() == parent
    a = attributes(root)
    assert a["rpc.system"] == "grpc" and a["rpc.service"] == "inference.GRPCInferenceService"
    assert a["rpc.method"] == "ModelInfer" and a["rpc.grpc.status_code"] == 0
    for name in ("queue wait", "inference", "encode"):
        assert spans[name].parent_span_id == root.span_id, name
        assert root.start_time_unix_nano <= spans[name].start_time_unix_nano <= spans[name].end_time_unix_nano \
            <= root.end_time_unix_nano
    assert attributes(spans["inference"])["mscr.function"] == "stock"
    failed_root = server_span(wait_for_spans(receiver, failed, []))
    assert failed_root.parent_span_id.hex() == failed_parent
    assert attributes(failed_root)["rpc.grpc.status_code"] == 5  # NOT_FOUND


def test_logs_carry_the_trace_of_the_server_span(demo_repository, receiver):
    s = Server({**demo_repository.env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "50", "LOG_LEVEL": "debug"})
    trace, parent = new_trace()
    try:
        assert post(s, "/functions/stock", CSV, "text/csv", {"traceparent": f"00-{trace}-{parent}-01"})[0] == 200
        root = server_span(wait_for_spans(receiver, trace, ["inference"]))
    finally:
        s.stop()
    lines = [json.loads(l) for l in s.proc.stdout.read().decode().splitlines() if l.startswith("{")]
    traced_lines = [l for l in lines if l.get("logging.googleapis.com/trace") == trace]
    assert traced_lines, "no log line carries the trace"
    assert {l.get("logging.googleapis.com/spanId") for l in traced_lines} == {root.span_id.hex()}


def test_nothing_is_exported_when_tracing_is_off(demo_repository, receiver, mscr_test_function):
    # OTEL_TRACES_EXPORTER=none beats an endpoint: not even the shutdown flush sends a span.
    s = Server({**mscr_test_function, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_TRACES_EXPORTER": "none", "OTEL_BSP_SCHEDULE_DELAY": "10"})
    trace, parent = new_trace()
    assert post(s, "/functions/t", b"ok", "text/plain", {"traceparent": f"00-{trace}-{parent}-01"})[0] == 200
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(15) == 0
    assert spans_of(receiver, trace) == []
    # Unset: the start line says so, and the request's log lines carry the caller's own span.
    s = Server({**mscr_test_function, "LOG_LEVEL": "debug"})
    trace, parent = new_trace()
    assert post(s, "/functions/t", b"ok", "text/plain", {"traceparent": f"00-{trace}-{parent}-01"})[0] == 200
    s.stop()
    lines = [json.loads(l) for l in s.proc.stdout.read().decode().splitlines() if l.startswith("{")]
    assert next(l for l in lines if l["message"] == "listening")["tracing"] == "off"
    spans = {l.get("logging.googleapis.com/spanId") for l in lines if l.get("logging.googleapis.com/trace") == trace}
    assert spans == {parent}


def test_samplers_from_the_environment_decide_what_is_exported(mscr_test_function, receiver):
    """always_off drops even a sampled caller's trace; always_on keeps an unsampled one (the
    default, parent-based, would drop it: see the test above). SIGTERM flushes what is kept."""
    for sampler, flags, exported in (("always_off", "01", False), ("always_on", "00", True)):
        s = Server({**mscr_test_function, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                    "OTEL_TRACES_SAMPLER": sampler, "OTEL_BSP_SCHEDULE_DELAY": "600000"})
        trace, parent = new_trace()
        assert post(s, "/functions/t", b"ok", "text/plain", {"traceparent": f"00-{trace}-{parent}-{flags}"})[0] == 200
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(15) == 0
        names = {sp.name for sp in spans_of(receiver, trace)}
        assert ({"queue wait", "inference"} <= names) if exported else names == set(), (sampler, names)


@pytest.mark.parametrize("name,value", [
    ("OTEL_TRACES_SAMPLER", "sometimes"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ("OTEL_BSP_MAX_QUEUE_SIZE", "0"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
])
def test_a_bad_otel_value_stops_the_start_naming_it(mscr_test_function, name, value):
    env = {**os.environ, **mscr_test_function, "PORT": str(free_port()), name: value}
    done = subprocess.run([mscr_binary(), "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"{name}={value} is not" in done.stdout + done.stderr


def test_spans_of_an_in_flight_request_are_flushed_on_sigterm(mscr_test_function, receiver):
    # A 10-minute batch delay: only the shutdown flush can deliver these spans.
    s = Server({**mscr_test_function, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "600000", "MSCR_SHUTDOWN_GRACE": "8"})
    trace, parent = new_trace()
    result = []
    call = threading.Thread(target=lambda: result.append(post(
        s, "/functions/t?sleep_ms=1500", b"ok", "text/plain", {"traceparent": f"00-{trace}-{parent}-01"})[0]))
    call.start()

    def inflight():
        with urllib.request.urlopen(s.url + "/metrics", timeout=10) as r:
            return any(l.startswith("mscr_inflight_requests ") and float(l.split()[1]) >= 1
                       for l in r.read().decode().splitlines())
    assert wait_until(inflight, 20), "the request never started"
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(15) == 0
    call.join(15)
    assert result == [200]
    spans = {sp.name: sp for sp in spans_of(receiver, trace)}  # already there: the process flushed before exiting
    assert {"queue wait", "model load", "inference"} <= set(spans), list(spans)
    assert server_span(spans).parent_span_id.hex() == parent


def test_full_batches_go_at_once_and_a_partial_one_waits_for_the_delay(mscr_test_function):
    """OTEL_BSP_MAX_EXPORT_BATCH_SIZE spans are exported as soon as they are queued; fewer wait
    for OTEL_BSP_SCHEDULE_DELAY (10 minutes here) or the shutdown flush, not for the next full
    batch to go (which sent a small export after every full one)."""
    receiver = OTLPReceiver()  # this server's exports only
    try:
        s = Server({**mscr_test_function, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4", "OTEL_BSP_SCHEDULE_DELAY": "600000"})
        for _ in range(10):
            assert post(s, "/functions/t", b"ok", "text/plain")[0] == 200
        # 30 spans and more queued: at least 7 full batches, long before the delay.
        assert wait_until(lambda: receiver.count() >= 28, 20), receiver.batches
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(15) == 0
        batches = list(receiver.batches)
        # Every export but the shutdown flush's last is a full batch.
        assert all(n == 4 for n in batches[:-1]) and 1 <= batches[-1] <= 4, batches
    finally:
        receiver.close()
