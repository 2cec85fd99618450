"""Compiled artifacts through the real binary: `mscr publish --no-compile`, then `mscr compile`
adds model.compiled to the committed version (manifest rewritten last, other entries unchanged);
the server then loads the version by mapping the artifact (file repository) or by parallel ranged
GETs (moto S3), and answers exactly what it answers from the source files. A corrupt artifact is
refused by its chunk digests and the source files answer."""
import json
import os
import pathlib
import subprocess
import urllib.request

from conftest import ROOT, SHARED, mscr_binary
from test_remote_repository import start_support

DOG = SHARED / "data/images/dog.jpg"
MODEL = "yolo-fastest-1.1"
MODEL_DIR = SHARED / "data/models" / MODEL


def mscr(*args, env=None):
    done = subprocess.run([mscr_binary(), *args], env=env or dict(os.environ), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def serve_and_detect(start_server, repository, env=None, maps=None):
    """Starts a server on `repository`, detects the dog, stops it; returns (detections, log).
    With `maps` (a list), appends the server's /proc/PID/maps as it was after the detection."""
    server = start_server({**(env or {}), "MSCR_FUNCTIONS": str(ROOT / "functions"), "MSCR_MODEL_REPOSITORY":
                           repository, "MSCR_LOG_FORMAT": "text", "LOG_LEVEL": "info"})
    req = urllib.request.Request(server.url + "/functions/detect", data=DOG.read_bytes(),
                                 headers={"Content-Type": "image/jpeg"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        body = json.loads(r.read())
    if maps is not None:
        maps.append(pathlib.Path(f"/proc/{server.proc.pid}/maps").read_text())
    server.stop()
    log = server.proc.stdout.read().decode(errors="replace")
    assert any(d["class"] == "dog" for d in body["detections"])
    return body["detections"], log


def manifest(repo):
    return json.loads((repo / MODEL / "1" / "manifest.json").read_text())


def test_compile_then_serve_from_the_artifact(start_server, tmp_path):
    repo = tmp_path / "repo"
    mscr("publish", str(MODEL_DIR), "--repository", str(repo), "--model", MODEL, "--no-compile")
    before = manifest(repo)
    assert "model.compiled" not in before["files"]
    source_answer, log = serve_and_detect(start_server, str(repo))
    assert "compiled artifact" not in log

    out = json.loads(mscr("compile", "--repository", str(repo), "--model", MODEL))
    assert out["file"] == "model.compiled" and out["version"] == 1
    after = manifest(repo)
    entry = after["files"].pop("model.compiled")
    assert after == before  # the other entries, format and version are unchanged
    artifact = (repo / MODEL / "1" / "model.compiled").read_bytes()
    assert entry["size"] == len(artifact) and artifact[:7] == b"MSCRART" and len(entry["chunks"]) >= 1
    # Compiling again is a no-op.
    mscr("compile", "--repository", str(repo), "--model", MODEL, "--version", "1")
    assert manifest(repo)["files"]["model.compiled"] == entry

    maps = []
    artifact_answer, log = serve_and_detect(start_server, str(repo), maps=maps)
    assert "loaded from its compiled artifact" in log
    assert artifact_answer == source_answer
    # Load = map: the server maps the repository's file itself (shared through the page cache),
    # it does not read it into memory of its own.
    path = str((repo / MODEL / "1" / "model.compiled").resolve())
    assert any(line.rstrip().endswith(" " + path) for line in maps[0].splitlines()), "the artifact is not mapped"

    # One flipped byte: the chunk digest refuses it, the source files answer the same.
    corrupt = bytearray(artifact)
    corrupt[len(corrupt) // 2] ^= 0x01
    (repo / MODEL / "1" / "model.compiled").write_bytes(bytes(corrupt))
    fallback_answer, log = serve_and_detect(start_server, str(repo))
    assert "unusable" in log and "sha256 mismatch" in log
    assert "loaded from its compiled artifact" not in log
    assert fallback_answer == source_answer


def test_publish_to_s3_serves_from_the_artifact(start_server, tmp_path):
    file_repo = tmp_path / "file"
    mscr("publish", str(MODEL_DIR), "--repository", str(file_repo), "--model", MODEL, "--no-compile")
    source_answer, _ = serve_and_detect(start_server, str(file_repo))
    moto, info = start_support("start_moto.py", "--bucket", "models")
    try:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=info["access_key"], AWS_SECRET_ACCESS_KEY=info["secret_key"],
                   AWS_REGION=info["region"], AWS_ENDPOINT_URL=info["endpoint"])
        published = json.loads(mscr("publish", str(MODEL_DIR), "--repository", "s3://models/repo", "--model", MODEL,
                                    env=env))
        assert "model.compiled" in published["files"]
        s3_answer, log = serve_and_detect(start_server, "s3://models/repo", env)
        assert "loaded from its compiled artifact" in log
        assert s3_answer == source_answer
    finally:
        moto.stdin.close()
        moto.wait(20)
