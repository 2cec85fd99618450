"""`mscr detect` and `mscr predict` print exactly what `POST /functions/…` answers for the same
input (the repository's model version aside: the CLI reads files, not a repository)."""
import json
import os
import subprocess
import urllib.error
import urllib.request

from conftest import ROOT, SHARED, mscr_binary

MODEL = SHARED / "data/models/yolo-fastest-1.1"
IMAGES = [SHARED / "data/images/dog.jpg", SHARED / "data/images/girl.png", ROOT / "README.md"]
CSV = ROOT / "Sources/Runtime/Web/sample-goog.csv"


def post(server, path, body, content_type):
    request = urllib.request.Request(server.url + path, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def without_version(answer):
    answer = dict(answer)
    if "model" in answer:
        answer["model"] = {k: v for k, v in answer["model"].items() if k != "version"}
    return answer


def test_mscr_detect_prints_what_http_answers(server):
    done = subprocess.run([mscr_binary(), "detect", "--cfg", str(MODEL / "yolo-fastest-1.1.cfg"),
                           "--weights", str(MODEL / "yolo-fastest-1.1.weights"), "--names", str(MODEL / "coco.names"),
                           *map(str, IMAGES)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, "the README is not an image: exit 1"
    lines = done.stdout.splitlines()
    assert len(lines) == len(IMAGES)
    for image, line in zip(IMAGES, lines):
        types = {".jpg": "image/jpeg", ".png": "image/png"}
        http = post(server, "/functions/detect", image.read_bytes(), types.get(image.suffix, "application/octet-stream"))
        cli = json.loads(line)
        assert without_version(cli) == without_version(http), image.name
        assert line == json.dumps(cli, separators=(",", ":"), ensure_ascii=False), "one compact object per line"
    assert json.loads(lines[0])["detections"], "the dog photo has detections"
    assert json.loads(lines[2])["error"]["code"] == "unsupported_media_type"


def test_mscr_predict_prints_what_http_answers(server, demo_repository):
    model = demo_repository.path.parent / "stock-model"  # the folder the demo repository published
    done = subprocess.run([mscr_binary(), "predict", "--model", str(model), "--model-name", "stock-lstm", str(CSV)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    http = post(server, "/functions/stock", CSV.read_bytes(), "text/csv")
    assert without_version(json.loads(done.stdout)) == without_version(http)
    assert http["predictions"]


def test_mscr_predict_prints_the_http_error_for_bad_rows(server, demo_repository, tmp_path):
    model = demo_repository.path.parent / "stock-model"
    bad = tmp_path / "bad.csv"
    bad.write_text("2024-01-02,not-a-price\n")
    done = subprocess.run([mscr_binary(), "predict", "--model", str(model), "--model-name", "stock-lstm", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, "a request the function refuses exits 1"
    http = post(server, "/functions/stock", bad.read_bytes(), "text/csv")
    assert http["error"]["code"] == "invalid_input", http
    assert json.loads(done.stdout) == http


def test_mscr_detect_refuses_a_bad_thread_count_naming_it():
    env = dict(os.environ, MSCR_THREADS="two")
    done = subprocess.run([mscr_binary(), "detect", "--cfg", str(MODEL / "yolo-fastest-1.1.cfg"),
                           "--weights", str(MODEL / "yolo-fastest-1.1.weights"), "--names", str(MODEL / "coco.names"),
                           str(IMAGES[0])], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode != 0
    assert "MSCR_THREADS=two" in done.stderr, done.stderr
