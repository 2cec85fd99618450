"""Compiled artifacts of ONNX models through the real binary: yolov8n.onnx published with
`--no-compile`, served from model.onnx; `mscr compile` adds model.compiled (the imported graph
with its weights in execution layout); the server then maps that file in place (it shows in
/proc/PID/maps) and gives the same detections, for kind `detect` and V2 `tensor`. A corrupt
artifact is refused by its chunk digests and model.onnx answers the same; `mscr publish` of an
ONNX model writes the artifact itself."""
import json
import os
import pathlib
import shutil
import subprocess
import urllib.request

from conftest import SHARED, mscr_binary

YOLOV8N = SHARED / "data/models/onnx/yolov8n.onnx"
PHOTOS = [SHARED / "data/images/dog.jpg", SHARED / "data/images/street.jpg"]
MODEL = "yolov8n"


def mscr(*args):
    done = subprocess.run([mscr_binary(), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def functions(root):
    """A detect function (threshold 0.1: the random weights give boxes) and a V2 tensor one."""
    for name, spec in {"y8": {"kind": "detect", "model": MODEL, "params": {"threshold": 0.1}},
                       "y8t": {"kind": "tensor", "model": MODEL}}.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "function.json").write_text(json.dumps({"name": name, **spec}))
    return root


def serve(start_server, repo, fdir, maps=None, env=None):
    """Detections on the photos, the V2 output for a fixed input, and the server's log."""
    server = start_server({"MSCR_FUNCTIONS": str(fdir), "MSCR_MODEL_REPOSITORY": str(repo),
                           "MSCR_LOG_FORMAT": "text", "LOG_LEVEL": "info", **(env or {})})
    answers = []
    for photo in PHOTOS:
        req = urllib.request.Request(server.url + "/functions/y8", data=photo.read_bytes(),
                                     headers={"Content-Type": "image/jpeg"}, method="POST")
        with urllib.request.urlopen(req, timeout=300) as r:
            answers.append(json.loads(r.read())["detections"])
    if maps is not None:
        maps.append(pathlib.Path(f"/proc/{server.proc.pid}/maps").read_text())
    values = [((i * 7919) % 1000) / 1000 for i in range(3 * 640 * 640)]
    body = json.dumps({"inputs": [{"name": "images", "shape": [1, 3, 640, 640], "datatype": "FP32",
                                   "data": values}]}).encode()
    req = urllib.request.Request(server.url + "/v2/models/y8t/infer", data=body,
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=300) as r:
        tensor = json.loads(r.read())["outputs"][0]["data"]
    server.stop()
    log = server.proc.stdout.read().decode(errors="replace")
    return answers, tensor, log


def test_onnx_artifact_is_mapped_and_answers_like_model_onnx(start_server, tmp_path):
    (tmp_path / "y8").mkdir()
    shutil.copy(YOLOV8N, tmp_path / "y8" / "model.onnx")
    repo = tmp_path / "repo"
    fdir = functions(tmp_path / "functions")
    published = json.loads(mscr("publish", str(tmp_path / "y8"), "--repository", str(repo), "--model", MODEL,
                                "--no-compile"))
    assert published["format"] == "onnx" and "model.compiled" not in published["files"]
    source_answers, source_tensor, log = serve(start_server, repo, fdir)
    assert "compiled artifact" not in log
    assert sum(len(a) for a in source_answers) > 0

    out = json.loads(mscr("compile", "--repository", str(repo), "--model", MODEL))
    assert out["file"] == "model.compiled"
    path = repo / MODEL / "1" / "model.compiled"
    artifact = path.read_bytes()
    assert artifact[:7] == b"MSCRART" and out["size"] == len(artifact)
    header_length = int.from_bytes(artifact[16:24], "little")
    assert json.loads(artifact[24:24 + header_length])["format"] == "onnx-graph"

    maps = []
    answers, tensor, log = serve(start_server, repo, fdir, maps)
    assert "loaded from its compiled artifact" in log
    assert answers == source_answers
    assert tensor == source_tensor
    resolved = str(path.resolve())
    assert any(line.rstrip().endswith(" " + resolved) for line in maps[0].splitlines()), "the artifact is not mapped"

    # One flipped byte in the weights: the chunk digests refuse it and model.onnx answers the same.
    corrupt = bytearray(artifact)
    corrupt[len(corrupt) // 2] ^= 0x01
    path.write_bytes(bytes(corrupt))
    answers, tensor, log = serve(start_server, repo, fdir)
    assert "unusable" in log and "sha256 mismatch" in log
    assert "loaded from its compiled artifact" not in log
    assert answers == source_answers and tensor == source_tensor


def cpu_has_avx512():
    return " avx512f " in " " + pathlib.Path("/proc/cpuinfo").read_text().replace("\n", " ") + " "


def test_the_layout_does_not_depend_on_the_kernel_isa(start_server, tmp_path):
    """The artifact (written by a process on the CPU's best ISA) answers under MSCR_KERNEL_ISA=avx2
    exactly as model.onnx does under avx2, and under the default ISA as model.onnx does there."""
    (tmp_path / "y8").mkdir()
    shutil.copy(YOLOV8N, tmp_path / "y8" / "model.onnx")
    repo = tmp_path / "repo"
    fdir = functions(tmp_path / "functions")
    mscr("publish", str(tmp_path / "y8"), "--repository", str(repo), "--model", MODEL)
    isas = ["avx2", "avx512"] if cpu_has_avx512() else ["avx2"]
    for isa in isas:
        env = {"MSCR_KERNEL_ISA": isa}
        source = serve(start_server, repo, fdir, env={**env, "MSCR_ARTIFACT": "off"})
        maps = []
        artifact = serve(start_server, repo, fdir, maps, env=env)
        assert "loaded from its compiled artifact" in artifact[2] and "compiled artifact" not in source[2]
        assert artifact[:2] == source[:2], isa
        path = str((repo / MODEL / "1" / "model.compiled").resolve())
        assert any(line.rstrip().endswith(" " + path) for line in maps[0].splitlines())


def test_publish_writes_the_onnx_artifact(tmp_path):
    (tmp_path / "y8").mkdir()
    shutil.copy(YOLOV8N, tmp_path / "y8" / "model.onnx")
    published = json.loads(mscr("publish", str(tmp_path / "y8"), "--repository", str(tmp_path / "repo"),
                                "--model", MODEL))
    entry = published["files"]["model.compiled"]
    data = (tmp_path / "repo" / MODEL / "1" / "model.compiled").read_bytes()
    assert entry["size"] == len(data) and len(data) % 4096 == 0
    # The weights are there in execution layout: at least model.onnx's floats, at most twice them.
    assert os.path.getsize(YOLOV8N) * 0.8 < len(data) < os.path.getsize(YOLOV8N) * 3
