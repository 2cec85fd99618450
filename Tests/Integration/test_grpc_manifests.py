"""The h2c variants of the Cloud Run and Knative manifests are the plain manifests with the
port named h2c (nothing else drifts), and that port really speaks what the name promises: the
binary answers REST over HTTP/2 with prior knowledge and a gRPC call on the one port."""
import copy
import shutil
import subprocess

import grpc
import pytest
import yaml
from tritonclient.grpc import service_pb2, service_pb2_grpc

from conftest import ROOT

RUNTIME = ROOT / "runtime"


@pytest.mark.parametrize("platform", ["cloudrun", "knative"])
def test_h2c_variant_differs_only_in_the_port_name(platform):
    plain = yaml.safe_load((RUNTIME / platform / "service.yaml").read_text())
    h2c = yaml.safe_load((RUNTIME / platform / "service-h2c.yaml").read_text())
    ports = h2c["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert ports == [{"name": "h2c", "containerPort": 8080}]
    expected = copy.deepcopy(plain)
    expected["spec"]["template"]["spec"]["containers"][0]["ports"] = ports
    assert h2c == expected
    assert plain["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"] == "http1"


def test_the_h2c_port_serves_http2_rest_and_grpc(server):
    with grpc.insecure_channel(server.url.removeprefix("http://")) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        assert stub.ServerLive(service_pb2.ServerLiveRequest(), timeout=10).live
        assert stub.ServerReady(service_pb2.ServerReadyRequest(), timeout=10).ready
    if shutil.which("curl") is None:
        pytest.skip("no curl")
    for path in ("/readyz", "/healthz"):  # the probes of both manifests
        done = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                               "%{http_version} %{http_code}", server.url + path], capture_output=True, timeout=30)
        assert done.stdout.decode() == "2 200", done.stderr
