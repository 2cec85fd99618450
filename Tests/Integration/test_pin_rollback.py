"""Pin and roll back a model version with the real binary: `mscr models pin|rollback` write the
`stable` alias, a function that follows it swaps through the poller and the reload route, under
load, with no failed request."""
import json
import subprocess
import threading
import urllib.error
import urllib.request

from conftest import mscr_binary, publish_test_model, wait_until

TOKEN = "pin-test-token"


def call(url, method="GET", data=None, headers=None, timeout=10):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def mscr(*args):
    done = subprocess.run([mscr_binary(), *args], capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def status_of(server, name="t"):
    _, body = call(server.url + "/functions")
    return next(f for f in body["functions"] if f["name"] == name)


def wait_for_version(server, version, timeout=20.0):
    return wait_until(lambda: status_of(server)["version"] == version, timeout)


class Load:
    """Clients calling the function in a loop until stopped; every answer's version is kept."""

    def __init__(self, url, clients=4):
        self.url, self.stop_flag, self.versions, self.failures = url, threading.Event(), [], []
        self.threads = [threading.Thread(target=self.run) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                status, body = call(self.url + "/functions/t", "POST", b"x")
                self.versions.append(body["model"]["version"])
            except (urllib.error.URLError, OSError, ValueError) as e:
                self.failures.append(repr(e))

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)


def make_repository(tmp_path):
    functions = tmp_path / "functions"
    (functions / "t").mkdir(parents=True)
    (functions / "t" / "function.json").write_text(json.dumps({
        "name": "t", "kind": "mscr-test", "model": "t-model", "version": "stable",
        "params": {"load_ms": 50}, "limits": {"maxBodyBytes": 4096, "concurrency": 16}}))
    models = tmp_path / "models"
    for v in (1, 2, 3):
        publish_test_model(models, "t-model", {"model.txt": f"v{v}".encode()}, version=v)
    return functions, "file://" + str(models)


def test_pin_and_rollback_commands_write_the_alias(tmp_path):
    _, repo = make_repository(tmp_path)
    code, out, err = mscr("models", "rollback", "--model", "t-model", "--repository", repo)
    assert code == 1 and "has no 'stable' alias" in err and "mscr models pin" in err
    assert "USAGE" not in err.upper(), err
    code, out, err = mscr("models", "pin", "--model", "t-model", "--version", "2", "--repository", repo)
    assert code == 0, err
    assert json.loads(out) == {"repository": repo, "model": "t-model", "alias": "stable", "version": 2,
                               "history": []}
    code, out, _ = mscr("models", "pin", "--model", "t-model", "--version", "3", "--repository", repo)
    assert json.loads(out)["previous"] == 2 and json.loads(out)["history"] == [2]
    code, out, _ = mscr("models", "rollback", "--model", "t-model", "--repository", repo)
    assert code == 0 and json.loads(out)["version"] == 2 and json.loads(out)["previous"] == 3
    code, _, err = mscr("models", "pin", "--model", "t-model", "--version", "9", "--repository", repo)
    assert code == 1 and "version 9 is not committed" in err


def test_a_function_following_stable_swaps_under_load_with_no_failed_request(tmp_path, start_server):
    functions, repo = make_repository(tmp_path)
    assert mscr("models", "pin", "--model", "t-model", "--version", "1", "--repository", repo)[0] == 0
    server = start_server({"MSCR_FUNCTIONS": str(functions), "MSCR_MODEL_REPOSITORY": repo,
                           "MSCR_ENABLE_TEST_FUNCTIONS": "1", "MSCR_ADMIN_TOKEN": TOKEN,
                           "MSCR_VERSION_POLL": "0.2"})
    _, body = call(server.url + "/functions/t", "POST", b"x")
    assert body["model"]["version"] == 1, "stable (1) is served, not latest (3)"
    row = status_of(server)
    assert row["version"] == 1 and row["follows"] == "stable"

    load = Load(server.url)
    try:
        # The poller picks up a pin.
        assert mscr("models", "pin", "--model", "t-model", "--version", "3", "--repository", repo)[0] == 0
        assert wait_for_version(server, 3)
        # The reload route picks up a rollback at once.
        assert mscr("models", "rollback", "--model", "t-model", "--repository", repo)[0] == 0
        status, reload = call(server.url + "/admin/functions/t/reload", "POST", b"",
                              {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and status_of(server)["version"] == 1, reload
        served_before_stop = len(load.versions)
    finally:
        load.stop()
    assert load.failures == []
    assert served_before_stop > 20 and set(load.versions) <= {1, 3} and 3 in load.versions
    row = status_of(server)
    assert row["version"] == 1 and row["follows"] == "stable" and "error" not in row
