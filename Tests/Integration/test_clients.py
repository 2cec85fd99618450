"""The client commands against real servers: `mscr invoke` (HTTP, and HTTPS through a TLS proxy
with a self-signed certificate), `mscr coldstart --spawn` of the real binary, `mscr load`."""
import json
import os
import pathlib
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT, SHARED, free_port, mscr_binary

DOG = SHARED / "data/images/dog.jpg"
SAMPLE = ROOT / "Sources/Runtime/Web/sample-goog.csv"
SUPPORT = pathlib.Path(__file__).resolve().parent / "support"
sys.path.insert(0, str(SUPPORT))
from tls_proxy import make_self_signed  # noqa: E402


def mscr(*args, timeout=300, env=None):
    return subprocess.run([mscr_binary(), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def tls_proxy(server, tmp_path_factory):
    """An HTTPS front (self-signed certificate) for `server`; yields (url, certificate path)."""
    cert, key = make_self_signed(tmp_path_factory.mktemp("tls"))
    proc = subprocess.Popen(
        [sys.executable, str(SUPPORT / "tls_proxy.py"), "--port", "0", "--backend", f"127.0.0.1:{server.port}",
         "--cert", str(cert), "--key", str(key)], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    assert line and line[0] == "listening", "the TLS proxy did not start"
    yield f"https://127.0.0.1:{line[1]}", cert
    proc.terminate()
    proc.wait(10)


# --- invoke ---------------------------------------------------------------------------------

def test_invoke_detect_prints_json_and_timings(server):
    done = mscr("invoke", server.url, "detect", DOG)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["model"]["name"] == "yolo-fastest-1.1"
    assert "dog" in [d["class"] for d in answer["detections"]]
    assert answer["image"] == {"width": 768, "height": 576}
    curl_line = next(l for l in done.stderr.splitlines() if l.startswith("curl: "))
    for part in ("HTTP 200", "dns ", "connect ", "tls –", "first byte ", "total "):
        assert part in curl_line
    server_line = next(l for l in done.stderr.splitlines() if l.startswith("server: "))
    assert "infer" in server_line and "total" in server_line


def test_invoke_stock_sends_csv_and_json(server, tmp_path):
    done = mscr("invoke", server.url, "stock", SAMPLE)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["model"]["name"] == "stock-lstm"
    assert answer["rows"] == 40 and len(answer["predictions"]) >= 30
    assert answer["next"]["predicted"] > 0
    rows = [[float(v) for v in l.split(",")] for l in SAMPLE.read_text().splitlines() if l and not l.startswith("#")]
    body = tmp_path / "rows.json"
    body.write_text(json.dumps({"rows": rows}))
    as_json = mscr("invoke", server.url, "stock", body)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["next"] == answer["next"]


def test_invoke_reports_server_errors(server, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    local = mscr("invoke", server.url, "detect", text)
    assert local.returncode != 0 and "not a JPEG or PNG" in local.stderr
    forced = mscr("invoke", server.url, "detect", text, "--content-type", "image/jpeg")
    assert forced.returncode == 1
    body = json.loads(forced.stdout)
    assert body["error"]["code"] and body["error"]["message"]
    assert "error: HTTP 4" in forced.stderr
    missing = mscr("invoke", server.url, "nosuchfunction", SAMPLE)
    assert missing.returncode == 1 and json.loads(missing.stdout)["error"]["code"] == "not_found"


def test_invoke_connection_refused_exits_2():
    done = mscr("invoke", f"http://127.0.0.1:{free_port()}", "stock", SAMPLE, "--connect-timeout", "2")
    assert done.returncode == 2
    assert "(connect)" in done.stderr


def test_invoke_https_with_cacert(tls_proxy):
    url, cert = tls_proxy
    done = mscr("invoke", url, "detect", DOG, "--cacert", cert, "--header", "X-Test: 1")
    assert done.returncode == 0, done.stderr
    assert "dog" in [d["class"] for d in json.loads(done.stdout)["detections"]]
    curl_line = next(l for l in done.stderr.splitlines() if l.startswith("curl: "))
    assert "tls –" not in curl_line and "tls " in curl_line


def test_invoke_https_rejects_unknown_certificate(tls_proxy):
    url, _ = tls_proxy
    done = mscr("invoke", url, "stock", SAMPLE)
    assert done.returncode == 2
    assert "(tls)" in done.stderr
    insecure = mscr("invoke", url, "stock", SAMPLE, "--insecure")
    assert insecure.returncode == 0, insecure.stderr


# --- coldstart ------------------------------------------------------------------------------

def test_coldstart_spawn_measures_three_cold_starts(demo_repository):
    env = {**os.environ, **demo_repository.env}
    command = f"{shlex.quote(mscr_binary())} serve --log-format text"
    done = mscr("coldstart", "--spawn", command, "--runs", 3, "--function", "stock", "--input", SAMPLE, "--json",
                env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (target,) = report["targets"]
    assert len(target["runs"]) == 3 and target["failures"] == 0
    for run in target["runs"]:
        assert 0 < run["port_open_ms"] <= run["healthy_ms"] < run["first_answer_ms"]
        assert "cold" in run["server_timing"] and "fetch" in run["server_timing"]
        assert run["server_cold_ms"] > 0 and run["attempts"] == 1
        assert run["peak_rss_mib"] > 5
    summary = target["summary"]["first_answer_ms"]
    assert summary["n"] == 3 and summary["min"] <= summary["median"] <= summary["p95"] <= summary["max"]


def test_coldstart_side_by_side_table_and_failures(demo_repository):
    env = {**os.environ, **demo_repository.env}
    binary = shlex.quote(mscr_binary())
    done = mscr("coldstart", "--spawn", f"{binary} serve", "--label", "a",
                "--spawn", f"{binary} serve --port {{port}}", "--label", "b",
                "--runs", 1, "--function", "detect", "--input", DOG, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "spawn → first answer (ms)" in done.stdout and "side by side" in done.stdout
    assert "b / a" in done.stdout
    broken = mscr("coldstart", "--spawn", "echo starting; exit 3", "--runs", 1, "--function", "stock",
                  "--input", SAMPLE, env=env)
    assert broken.returncode == 1
    assert "exited with 3" in broken.stderr and "starting" in broken.stderr


def test_coldstart_url_first_vs_warm(server):
    done = mscr("coldstart", "--url", server.url, "--runs", 2, "--warm", 3, "--function", "stock",
                "--input", SAMPLE, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["runs"]) == 2 and report["failures"] == 0
    assert all(len(r["warm_ms"]) == 3 for r in report["runs"])
    assert report["summary"]["warm_ms"]["n"] == 6


# --- load -----------------------------------------------------------------------------------

def test_load_10_users_200_requests_no_failures(server):
    done = mscr("load", server.url, "--function", "stock", "--input", SAMPLE, "--users", 10, "--requests", 200,
                "--json", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["sent"] == 200 and report["failed"] == 0 and report["status"] == {"200": 200}
    assert all(v == 0 for v in report["errors"].values())
    latency = report["latency_ms"]
    assert latency["n"] == 200 and 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert report["rps"] > 0
    assert report["connections"] <= 10  # one kept-alive connection per user


def test_load_detect_with_rate_limit(server):
    done = mscr("load", server.url, "--function", "detect", "--input", DOG, "--users", 4, "--requests", 20,
                "--rate", 50, "--json", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == {"200": 20}
    assert report["duration_s"] >= 19 / 50  # paced: the 20th request starts at 0.38 s at the earliest


def test_load_counts_failures_by_kind(server, tmp_path):
    refused = mscr("load", f"http://127.0.0.1:{free_port()}", "--function", "stock", "--input", SAMPLE,
                   "--users", 2, "--requests", 6, "--json", "--connect-timeout", "2")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["errors"]["connect"] == 6
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    bad = mscr("load", server.url, "--function", "detect", "--input", text, "--content-type", "image/jpeg",
               "--users", 2, "--requests", 6, "--json", "--allow-failures")
    assert bad.returncode == 0
    report = json.loads(bad.stdout)
    assert report["errors"]["4xx"] == 6 and report["failed"] == 6
