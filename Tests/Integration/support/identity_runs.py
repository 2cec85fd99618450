"""What the cloud-identity tests share: the one-model repository they read, and running the
binary with only the environment a test gives it."""
import hashlib
import json
import os
import subprocess

MODEL_FILE = b"tiny model bytes"
EXPECTED_MODELS = [{"name": "tiny", "versions": [1], "latest": 1, "format": "test"}]


def manifest_and_file():
    manifest = {"format": "test", "version": 1, "created": "2026-01-01T00:00:00Z",
                "files": {"model.txt": {"size": len(MODEL_FILE), "sha256": hashlib.sha256(MODEL_FILE).hexdigest()}}}
    return {"tiny/1/model.txt": MODEL_FILE, "tiny/1/manifest.json": json.dumps(manifest).encode()}


def run(binary, env, *args, timeout=60):
    """Runs the binary with only `env` (no AWS_* or GOOGLE_* from the test's own environment)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
            "MSCR_STORE_RETRIES": "2", "MSCR_STORE_DEADLINE": "20"}
    return subprocess.run([binary, *args], env={**base, **env}, capture_output=True, text=True, timeout=timeout)


def assert_listed(done):
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["models"] == EXPECTED_MODELS


def function_folder(root):
    """A functions folder with the test function `t` (model `t-model`); returns its path."""
    functions = root / "functions"
    (functions / "t").mkdir(parents=True)
    (functions / "t" / "function.json").write_text(
        '{"name": "t", "kind": "mscr-test", "model": "t-model", "params": {}, '
        '"limits": {"maxBodyBytes": 4096, "concurrency": 4}}')
    return functions
