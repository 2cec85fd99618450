"""Shared fixtures for the Python integration tests (pytest): the built binary, free ports,
a started mscr server. The Swift suites cover most things; these drive real third-party
clients and servers (browsers, nginx, podman, Triton's client) against the real binary."""
import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def mscr_binary() -> str:
    env = os.environ.get("MSCR_BINARY")
    if env:
        return env
    for candidate in (ROOT / ".build/debug/mscr", ROOT / ".build/release/mscr"):
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("no mscr binary: run `swift build` first or set MSCR_BINARY")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float = 30.0, interval: float = 0.05) -> bool:
    """The one way the integration tests wait for something to happen: polls `condition` until
    it holds (True) or `timeout` seconds pass (False). Never a fixed sleep that hopes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    def healthy() -> bool:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    if not wait_until(healthy, timeout):
        raise RuntimeError(f"{url} did not become healthy in {timeout}s")


class Server:
    def __init__(self, env: dict, args=("serve",)):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = dict(os.environ)
        full.update(env)
        full["PORT"] = str(self.port)
        self.proc = subprocess.Popen([mscr_binary(), *args], env=full, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_healthy(self.url)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def start_server():
    started = []

    def start(env=None, args=("serve",)):
        s = Server(env or {}, args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def publish_test_model(repository: pathlib.Path, model: str, files: dict, version: int = 1,
                       fmt: str = "test") -> None:
    """Writes one model version the way the repository does: the files, then manifest.json
    (size and sha256 of each file) last."""
    import hashlib
    import json
    folder = repository / model / str(version)
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        entries[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {"format": fmt, "version": version, "created": "2026-01-01T00:00:00Z", "files": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def mscr_test_function(tmp_path):
    """A functions folder with the `mscr-test` function `t` and a file repository holding its
    model (text "hello"); returns the environment `mscr serve` needs to serve it."""
    functions = tmp_path / "functions"
    (functions / "t").mkdir(parents=True)
    (functions / "t" / "function.json").write_text(
        '{"name": "t", "kind": "mscr-test", "model": "t-model", "params": {}, '
        '"limits": {"maxBodyBytes": 4096, "concurrency": 16}}')
    models = tmp_path / "models"
    publish_test_model(models, "t-model", {"model.txt": b"hello"})
    return {"MSCR_FUNCTIONS": str(functions), "MSCR_MODEL_REPOSITORY": "file://" + str(models),
            "MSCR_ENABLE_TEST_FUNCTIONS": "1"}


class DemoRepository:
    """A file model repository with the two demo models, published by the real binary."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.uri = "file://" + str(path)

    @property
    def env(self) -> dict:
        """What `mscr serve` needs to serve detect and stock from this repository."""
        return {"MSCR_FUNCTIONS": str(ROOT / "functions"), "MSCR_MODEL_REPOSITORY": self.uri}


@pytest.fixture(scope="session")
def demo_repository(tmp_path_factory) -> DemoRepository:
    """yolo-fastest-1.1 (from ../shared/data/models) and stock-lstm (`mscr train stock` on
    goog-daily.csv, 30 epochs), each published as version 1 with `mscr publish`."""
    root = tmp_path_factory.mktemp("demo-repository")
    repository = root / "models"
    binary = mscr_binary()

    def run(*args):
        done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"mscr {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    run("publish", str(SHARED / "data/models/yolo-fastest-1.1"), "--repository", "file://" + str(repository),
        "--model", "yolo-fastest-1.1")
    stock = root / "stock-model"
    run("train", "stock", "--data", str(SHARED / "data/stock/goog-daily.csv"), "--order", "newest-first",
        "--out", str(stock), "--epochs", "30")
    run("publish", str(stock), "--repository", "file://" + str(repository), "--model", "stock-lstm")
    return DemoRepository(repository)


@pytest.fixture(scope="module")
def server(demo_repository):
    """`mscr serve` on the demo repository, one per test module (a module that needs other
    settings defines its own `server`)."""
    s = Server(demo_repository.env)
    yield s
    s.stop()
