"""The service with its model repository in S3 (moto, signatures checked) and in GCS (the
emulator) cold-starts `detect` on the first request, and answers exactly what it answers from
a local file repository."""
import json
import os
import pathlib
import subprocess
import sys
import urllib.request

import pytest

from conftest import ROOT, SHARED, mscr_binary

DOG = SHARED / "data/images/dog.jpg"
MODEL_DIR = SHARED / "data/models/yolo-fastest-1.1"


def start_support(script, *args):
    proc = subprocess.Popen([sys.executable, str(ROOT / "Tests/Support" / script), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    info = json.loads(line)
    if "error" in info:
        raise RuntimeError(info["error"])
    return proc, info


def detect(url):
    req = urllib.request.Request(url + "/functions/detect", data=DOG.read_bytes(),
                                 headers={"Content-Type": "image/jpeg"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.headers.get("Server-Timing"), json.loads(r.read())


def publish(repository, env):
    done = subprocess.run([mscr_binary(), "publish", str(MODEL_DIR), "--repository", repository,
                           "--model", "yolo-fastest-1.1"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def file_answer(tmp_path_factory):
    repo = tmp_path_factory.mktemp("file-repo")
    publish("file://" + str(repo), dict(os.environ))
    return repo


def served_detection(start_server, env):
    server = start_server({**env, "MSCR_FUNCTIONS": str(ROOT / "functions")})
    timing, body = detect(server.url)
    return timing, body


def test_s3_repository_cold_start_matches_file(start_server, file_answer):
    moto, info = start_support("start_moto.py", "--bucket", "models")
    try:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=info["access_key"], AWS_SECRET_ACCESS_KEY=info["secret_key"],
                   AWS_REGION=info["region"], AWS_ENDPOINT_URL=info["endpoint"])
        publish("s3://models/repo", env)
        timing, s3_body = served_detection(start_server, {**env, "MSCR_MODEL_REPOSITORY": "s3://models/repo"})
        assert "cold;dur=" in timing and "fetch;dur=" in timing
        _, file_body = served_detection(start_server, {"MSCR_MODEL_REPOSITORY": "file://" + str(file_answer)})
        assert s3_body["detections"] == file_body["detections"]
        assert any(d["class"] == "dog" for d in s3_body["detections"])
        # A wrong secret is refused: the function cannot load and says so (503, not a crash).
        bad = {**env, "AWS_SECRET_ACCESS_KEY": "wrong", "MSCR_MODEL_REPOSITORY": "s3://models/repo"}
        server = start_server({**bad, "MSCR_FUNCTIONS": str(ROOT / "functions")})
        with pytest.raises(urllib.error.HTTPError) as refused:
            detect(server.url)
        assert refused.value.code == 503
        assert refused.value.headers.get("Retry-After")
    finally:
        moto.stdin.close()
        moto.wait(20)


def test_gcs_repository_cold_start_matches_file(start_server, file_answer):
    gcs, info = start_support("start_gcs.py", "--bucket", "models")
    try:
        env = dict(os.environ, STORAGE_EMULATOR_HOST=info["endpoint"])
        publish("gs://models/repo", env)
        timing, gcs_body = served_detection(start_server, {**env, "MSCR_MODEL_REPOSITORY": "gs://models/repo"})
        assert "cold;dur=" in timing
        _, file_body = served_detection(start_server, {"MSCR_MODEL_REPOSITORY": "file://" + str(file_answer)})
        assert gcs_body["detections"] == file_body["detections"]
    finally:
        gcs.stdin.close()
        gcs.wait(20)
