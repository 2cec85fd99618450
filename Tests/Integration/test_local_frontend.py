"""runtime/local/cloudrun-local.sh: three real `mscr serve` instances behind nginx over HTTPS.
Requests verify the generated certificate; one instance is killed (SIGKILL) and another stopped
(SIGTERM) under load, and no client sees a failure."""
import http.client
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import ROOT, free_port, mscr_binary

SCRIPT = ROOT / "runtime/local/cloudrun-local.sh"
REQUESTS = 300
CLIENTS = 8


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_state(path: pathlib.Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@pytest.fixture
def frontend(tmp_path, mscr_test_function):
    """Starts the stand-in with 3 instances; yields (process, state-file path, output path)."""
    state = tmp_path / "state.json"
    output = tmp_path / "output.txt"
    env = dict(os.environ, **mscr_test_function, MSCR_SHUTDOWN_GRACE="2", MSCR_LOG_FORMAT="text")
    with open(output, "w") as out:
        proc = subprocess.Popen(
            ["bash", str(SCRIPT), "-n", "3", "-p", str(free_port()), "-b", mscr_binary(), "-s", str(state)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: state.exists() or proc.poll() is not None, 120, "the front end to start")
        assert proc.poll() is None, output.read_text()
        yield proc, state, output
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def https(state, verify_with=None):
    url = state["url"].removeprefix("https://")
    host, port = url.split(":")
    context = ssl.create_default_context(cafile=verify_with or state["ca"])
    return http.client.HTTPSConnection(host, int(port), context=context, timeout=30)


def get_json(state, path):
    conn = https(state)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def test_https_with_the_generated_certificate(frontend):
    _, state_path, output = frontend
    state = read_state(state_path)
    assert state["url"] in output.read_text()
    status, body = get_json(state, "/healthz")
    assert status == 200
    status, body = get_json(state, "/functions")
    assert status == 200 and [f["name"] for f in body["functions"]] == ["t"]
    assert body["service"]["K_SERVICE"] == "mscr-local"
    # Without the generated CA the certificate is refused: TLS really is nginx's, with that cert.
    conn = https(state, verify_with=ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/healthz")
    conn.close()


def test_killing_instances_under_load_fails_no_request(frontend):
    proc, state_path, _ = frontend
    state = read_state(state_path)
    victims = [i["pid"] for i in state["instances"][:2]]
    results = []
    lock = threading.Lock()
    counter = iter(range(REQUESTS))

    def client():
        conn = https(state)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            if n == REQUESTS // 3:
                os.kill(victims[0], signal.SIGKILL)   # a crash: in-flight requests die with it
            if n == 2 * REQUESTS // 3:
                os.kill(victims[1], signal.SIGTERM)   # a scale-in: it drains and exits
            try:
                conn.request("POST", "/functions/t?sleep_ms=20", body=b"ping",
                             headers={"Content-Type": "text/plain"})
                r = conn.getresponse()
                body = r.read()
                ok = r.status == 200 and json.loads(body)["text"] == "hello"
                outcome = (n, r.status if ok else f"{r.status} {body[:200]!r}")
            except (OSError, http.client.HTTPException, ValueError) as e:
                outcome = (n, f"{type(e).__name__}: {e}")
                conn.close()
                conn = https(state)
            with lock:
                results.append(outcome)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "load did not finish in 120 s"
    failures = [r for r in results if r[1] != 200]
    assert len(results) == REQUESTS and not failures, failures[:10]
    assert not alive(victims[0]) and wait_for(lambda: not alive(victims[1]), 15, "the drained instance to exit")

    # The load really went round-robin over all three, and the front end really retried.
    log = (pathlib.Path(state["dir"]) / "access.log").read_text().splitlines()
    upstreams = [line.split("upstream=")[1].split(" upstream_status=")[0] for line in log if "/functions/t" in line]
    ports = {i["port"] for i in state["instances"]}
    assert {f"127.0.0.1:{p}" for p in ports} <= set(upstreams)
    assert any("," in u for u in upstreams), "no request was retried on another instance"

    # Dead instances are replaced on their ports, as the platform would.
    def replaced():
        s = read_state(state_path)
        return s and all(i["pid"] not in victims and alive(i["pid"]) for i in s["instances"][:2]) and s
    new_state = wait_for(replaced, 60, "the dead instances to be started again")
    assert [i["port"] for i in new_state["instances"]] == [i["port"] for i in state["instances"]]
    assert proc.poll() is None


def test_sigterm_stops_everything(frontend):
    proc, state_path, _ = frontend
    state = read_state(state_path)
    pids = [state["nginx_pid"], *[i["pid"] for i in state["instances"]]]
    assert all(alive(p) for p in pids)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert not any(alive(p) for p in pids)
    assert not pathlib.Path(state["dir"]).exists() and not state_path.exists()
    port = int(state["url"].rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def access_log_count(state, needle="/functions/t"):
    try:
        return sum(needle in line for line in (pathlib.Path(state["dir"]) / "access.log").read_text().splitlines())
    except OSError:
        return 0


def test_mscr_invoke_and_load_over_https_with_an_instance_killed(frontend, tmp_path):
    """The project's own clients through the front end: `mscr invoke https://…` answers, and
    `mscr load` sees no failure while one of the three instances is killed and another drained."""
    _, state_path, _ = frontend
    state = read_state(state_path)
    body = tmp_path / "body.txt"
    body.write_text("ping")
    tls = ["--cacert", state["ca"], "--content-type", "text/plain"]
    invoke = subprocess.run([mscr_binary(), "invoke", state["url"], "t", str(body), *tls],
                            capture_output=True, text=True, timeout=60)
    assert invoke.returncode == 0, invoke.stderr
    assert json.loads(invoke.stdout)["text"] == "hello" and "tls" in invoke.stderr

    victims = [i["pid"] for i in state["instances"][:2]]
    before = access_log_count(state)
    load = subprocess.Popen(
        [mscr_binary(), "load", state["url"], "--function", "t", "--input", str(body), "--users", "8",
         "--requests", str(REQUESTS), "--query", "sleep_ms=20", "--json", *tls],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: access_log_count(state) - before >= REQUESTS // 3 or load.poll() is not None, 60,
                 "a third of the load")
        assert load.poll() is None, "the load ended before the first kill"
        os.kill(victims[0], signal.SIGKILL)
        wait_for(lambda: access_log_count(state) - before >= 2 * REQUESTS // 3 or load.poll() is not None, 60,
                 "two thirds of the load")
        assert load.poll() is None, "the load ended before the second kill"
        os.kill(victims[1], signal.SIGTERM)
        out, err = load.communicate(timeout=120)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    report = json.loads(out)
    assert load.returncode == 0 and report["failed"] == 0 and report["succeeded"] == REQUESTS, (report, err)
    assert not alive(victims[0])
