"""The memory budget with the real binary: six functions, a budget that fits two. Loading one
evicts the least recently used idle function (shown in /metrics, /functions and the log); when
every loaded function is busy the next cold load gets 503 + Retry-After, and the process lives."""
import json
import threading
import urllib.error
import urllib.request

from conftest import publish_test_model, wait_until


def post(url, timeout=30):
    request = urllib.request.Request(url, data=b"x", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def metrics_text(server):
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        return r.read().decode()


def metric(server, name, labels):
    for line in metrics_text(server).splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def states(server):
    return {f["name"]: f for f in get_json(server.url + "/functions")["functions"]}


def test_six_functions_in_a_budget_for_two(tmp_path, start_server):
    functions, models = tmp_path / "functions", tmp_path / "models"
    for i in range(1, 7):
        (functions / f"f{i}").mkdir(parents=True)
        (functions / f"f{i}" / "function.json").write_text(json.dumps({
            "name": f"f{i}", "kind": "mscr-test", "model": f"m{i}", "params": {"memory_mb": 100},
            "limits": {"maxBodyBytes": 4096, "concurrency": 4}}))
        publish_test_model(models, f"m{i}", {"model.txt": f"model {i}".encode()})
    server = start_server({"MSCR_FUNCTIONS": str(functions), "MSCR_MODEL_REPOSITORY": "file://" + str(models),
                           "MSCR_ENABLE_TEST_FUNCTIONS": "1", "MSCR_MEMORY_LIMIT": "250Mi",
                           "MSCR_LOG_FORMAT": "json"})
    for name in ("f1", "f2", "f3"):
        status, _, body = post(f"{server.url}/functions/{name}")
        assert status == 200 and body["text"] == f"model {name[1]}"
    warm = {n for n, f in states(server).items() if f["state"] == "warm"}
    assert warm == {"f2", "f3"}
    assert states(server)["f1"]["evictions"] == 1
    assert metric(server, "mscr_function_evictions_total", {"function": "f1"}) == 1
    text = metrics_text(server)
    assert f"mscr_memory_budget_bytes {250 * 1048576}" in text
    assert f"mscr_memory_charged_bytes {200 * 1048576}" in text

    # Both loaded functions busy: no room for a third, and nothing is evicted from under a request.
    # f2 first, then f3 once f2 is in flight, so f2 is the least recently used of the two.
    holders = [threading.Thread(target=post, args=(f"{server.url}/functions/{n}?sleep_ms=6000",)) for n in ("f2", "f3")]
    holders[0].start()
    # `requests` counts up in the same critical section that stamps the function as used.
    assert wait_until(lambda: states(server)["f2"]["requests"] == 2)
    holders[1].start()
    assert wait_until(lambda: "mscr_inflight_requests 2" in metrics_text(server))
    status, headers, body = post(f"{server.url}/functions/f4")
    assert status == 503 and headers.get("Retry-After") == "1", body
    assert "no memory for function 'f4'" in body["error"]["message"]
    for t in holders:
        t.join(30)
    status, _, body = post(f"{server.url}/functions/f4")
    assert status == 200 and body["text"] == "model 4", "once a function is idle it can be evicted"
    assert server.proc.poll() is None

    server.stop()
    log = server.proc.stdout.read().decode()
    evictions = [json.loads(line) for line in log.splitlines()
                 if line.startswith("{") and "evicted" in line]
    assert [e.get("function") for e in evictions][:2] == ["f1", "f2"], evictions
