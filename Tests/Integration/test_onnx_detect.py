"""`"kind": "detect"` with ONNX models: yolov8n (random weights, ../shared/data/models/onnx) published
with `mscr publish` and served by the real binary, checked on the shared photos against an
independent reference written here with numpy + ONNX Runtime (Ultralytics' letterbox with OpenCV's
fixed-point bilinear resize, decode, class-wise NMS with the class offset, scale_boxes + clip);
`?format=jpeg`, V2 and `mscr detect --onnx` give the same detections; the same kind serves a Darknet
model by its format (the goldens); darknet2onnx's raw-head export is refused by name."""
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as httpclient
from PIL import Image

from conftest import SHARED, Server, mscr_binary

YOLOV8N = SHARED / "data/models/onnx/yolov8n.onnx"
IMAGES = SHARED / "data/images"
PHOTOS = ["dog.jpg", "eagle.jpg", "girl.png", "street.jpg"]
FASTEST = SHARED / "data/models/yolo-fastest-1.1"
GOLDEN = SHARED / "golden/yolo-fastest-1.1"
# The random-weight yolov8n gives a handful of boxes at 0.25 on two of the photos; 0.1 gives more.
THRESHOLD = 0.1


# ---- the reference: Ultralytics' predictor, written out with numpy ----

def taps(src, dst, clamp):
    """OpenCV INTER_LINEAR's source offsets and 11-bit weights per destination column/row."""
    scale = 1.0 / (dst / src)
    f = ((np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = (f - s.astype(np.float32)).astype(np.float32)
    if clamp:
        f[s < 0], s[s < 0] = 0, 0
        f[s >= src - 1], s[s >= src - 1] = 0, src - 1
    return s, np.rint((np.float32(1) - f) * np.float32(2048)).astype(np.int32), np.rint(f * np.float32(2048)).astype(np.int32)


def resize_linear(img, w, h):
    """cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR) for uint8 HxWx3, bit-exact."""
    H, W = img.shape[:2]
    if (W, H) == (w, h):
        return img.copy()
    if W == 2 * w and H == 2 * h:  # OpenCV switches to its 2x2 area average
        s = img.astype(np.int32)
        return ((s[0::2, 0::2] + s[0::2, 1::2] + s[1::2, 0::2] + s[1::2, 1::2] + 2) >> 2).astype(np.uint8)
    sx, a0, a1 = taps(W, w, True)
    hor = img[:, sx].astype(np.int32) * a0[None, :, None] + img[:, np.minimum(sx + 1, W - 1)].astype(np.int32) * a1[None, :, None]
    sy, b0, b1 = taps(H, h, False)
    r0, r1 = np.clip(sy, 0, H - 1), np.clip(sy + 1, 0, H - 1)
    v = ((b0[:, None, None] * (hor[r0] >> 4)) >> 16) + ((b1[:, None, None] * (hor[r1] >> 4)) >> 16) + 2
    return np.clip(v >> 2, 0, 255).astype(np.uint8)


def letterbox(rgb, size=640):
    h, w = rgb.shape[:2]
    r = min(size / h, size / w)
    nw, nh = max(round(w * r), 1), max(round(h * r), 1)
    top, left = int(round((size - nh) / 2 - 0.1)), int(round((size - nw) / 2 - 0.1))
    canvas = np.full((size, size, 3), 114, np.uint8)
    canvas[top:top + nh, left:left + nw] = resize_linear(rgb, nw, nh)
    return (canvas.astype(np.float32) / np.float32(255)).transpose(2, 0, 1)[None].copy()


def nms(out, conf, iou, max_det=300):
    """non_max_suppression (best class, not agnostic) on one [4+C, N] output: xyxy, scores, classes."""
    scores = out[4:]
    best, cls = scores.max(0), scores.argmax(0)
    keep = best > conf
    b, s, c = out[:4, keep].T, best[keep], cls[keep]
    half = b[:, 2:] / np.float32(2)
    xyxy = np.concatenate([b[:, :2] - half, b[:, :2] + half], 1)
    order = np.argsort(-s, kind="stable")[:30000]
    xyxy, s, c = xyxy[order], s[order], c[order]
    boxes = xyxy + (c.astype(np.float32) * np.float32(7680))[:, None]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    suppressed = np.zeros(len(s), bool)
    kept = []
    for i in range(len(s)):
        if suppressed[i]:
            continue
        kept.append(i)
        o = boxes[i + 1:]
        w = np.maximum(np.float32(0), np.minimum(boxes[i, 2], o[:, 2]) - np.maximum(boxes[i, 0], o[:, 0]))
        h = np.maximum(np.float32(0), np.minimum(boxes[i, 3], o[:, 3]) - np.maximum(boxes[i, 1], o[:, 1]))
        inter = w * h
        suppressed[i + 1:] |= inter / (areas[i] + areas[i + 1:] - inter) > iou
    kept = kept[:max_det]
    return xyxy[kept], s[kept], c[kept]


def scale_boxes(xyxy, w0, h0, size=640):
    """Ultralytics 8.4: per-axis gains of the rounded resize, the letterbox's own padding."""
    gain = min(size / h0, size / w0)
    nw, nh = max(round(w0 * gain), 1), max(round(h0 * gain), 1)
    px, py = round((size - nw) / 2 - 0.1), round((size - nh) / 2 - 0.1)
    g = np.array([nw / w0, nh / h0, nw / w0, nh / h0], np.float32)
    b = (xyxy - np.array([px, py, px, py], np.float32)) / g
    b[:, [0, 2]] = b[:, [0, 2]].clip(0, w0)
    b[:, [1, 3]] = b[:, [1, 3]].clip(0, h0)
    return b


def reference(session, path, conf=THRESHOLD, iou=0.7):
    rgb = np.asarray(Image.open(path).convert("RGB"))
    out = session.run(None, {"images": letterbox(rgb)})[0][0]
    xyxy, s, c = nms(out, conf, iou)
    return [{"class_id": int(k), "score": float(p), "box": [float(v) for v in b]}
            for b, p, k in zip(scale_boxes(xyxy, rgb.shape[1], rgb.shape[0]), s, c)]


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_of(d):
    b = d["box"]
    return [b["x1"], b["y1"], b["x2"], b["y2"]] if isinstance(b, dict) else b


def assert_agree(ours, ref, threshold=THRESHOLD, label=""):
    """The same detections: each of ours matches one of the reference's with the same class, the
    score within 2e-4 and box IoU >= 0.999 (measured: 3e-5 and 0.99995; the engine's outputs are
    within 1e-4 of ONNX Runtime's), and ours come highest score first. Two detections of different
    classes whose scores differ by less than the tolerance may come in either order (random
    weights give many such ties). A detection within 2e-3 of the threshold may be on one side only
    (JPEG decoders, float sums)."""
    near = lambda d: abs(d["score"] - threshold) < 2e-3  # noqa: E731
    ours = [d for d in ours if not near(d)]
    ref = [d for d in ref if not near(d)]
    assert len(ours) == len(ref), f"{label}: {len(ours)} detections, reference {len(ref)}"
    scores = [d["score"] for d in ours]
    assert scores == sorted(scores, reverse=True), f"{label}: not in descending score order"
    unmatched = list(range(len(ref)))
    for i, a in enumerate(ours):
        match = next((j for j in unmatched if ref[j]["class_id"] == a["class_id"]
                      and abs(ref[j]["score"] - a["score"]) <= 2e-4
                      and iou(box_of(a), box_of(ref[j])) >= 0.999), None)
        assert match is not None, f"{label} #{i}: {a} has no counterpart in the reference"
        assert abs(match - i) <= 3, f"{label} #{i}: matches reference #{match}, out of order"
        unmatched.remove(match)


# ---- the served functions ----

def publish(folder, repo, model):
    p = subprocess.run([mscr_binary(), "publish", str(folder), "--repository", repo, "--model", model],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx-detect")
    repo = "file://" + str(root / "models")
    (root / "y8").mkdir()
    shutil.copy(YOLOV8N, root / "y8" / "model.onnx")
    publish(root / "y8", repo, "yolov8n")
    publish(FASTEST, repo, "yolo-fastest-1.1")
    # darknet2onnx: yolo-fastest with its [yolo] heads as raw conv maps, the decode left outside.
    (root / "fx").mkdir()
    shutil.copy(FASTEST / "coco.names", root / "fx" / "classes.txt")
    p = subprocess.run([sys.executable, str(SHARED / "tools/peers/darknet2onnx.py"),
                        str(FASTEST / "yolo-fastest-1.1.cfg"), str(FASTEST / "yolo-fastest-1.1.weights"),
                        str(root / "fx" / "model.onnx")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    publish(root / "fx", repo, "fastest-onnx")
    functions = {
        "y8": {"kind": "detect", "model": "yolov8n", "params": {"threshold": THRESHOLD}},
        "y8-defaults": {"kind": "detect", "model": "yolov8n"},
        "fastest": {"kind": "detect", "model": "yolo-fastest-1.1", "params": {"threshold": 0.25, "nms": 0.45}},
        "fastest-onnx": {"kind": "detect", "model": "fastest-onnx"},
    }
    for name, spec in functions.items():
        (root / "functions" / name).mkdir(parents=True)
        (root / "functions" / name / "function.json").write_text(json.dumps({"name": name, **spec}))
    server = Server({"MSCR_FUNCTIONS": str(root / "functions"), "MSCR_MODEL_REPOSITORY": repo})
    yield server, ort.InferenceSession(str(YOLOV8N), providers=["CPUExecutionProvider"])
    server.stop()


def post(server, function, body, query="", content_type="image/jpeg"):
    request = urllib.request.Request(f"{server.url}/functions/{function}{query}", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=300) as r:
        return r.headers.get("Content-Type"), r.read()


def content_type(name):
    return "image/png" if name.endswith(".png") else "image/jpeg"


@pytest.mark.parametrize("photo", PHOTOS)
def test_detections_match_the_numpy_reference(served, photo):
    server, session = served
    _, body = post(server, "y8", (IMAGES / photo).read_bytes(), content_type=content_type(photo))
    answer = json.loads(body)
    with Image.open(IMAGES / photo) as image:
        assert answer["image"] == {"width": image.width, "height": image.height}
    assert answer["model"] == {"name": "yolov8n", "version": 1}
    # Class names come from the export's metadata (Ultralytics' `names`: '0' … '79').
    assert all(d["class"] == str(d["class_id"]) for d in answer["detections"])
    assert all(d["score"] > THRESHOLD for d in answer["detections"])
    assert_agree(answer["detections"], reference(session, IMAGES / photo), label=photo)
    # The random-weight model finds boxes on two photos (28 and 140 at 0.1) and none on the others.
    assert (len(answer["detections"]) > 20) == (photo in ("dog.jpg", "girl.png"))


def test_the_random_model_finds_boxes_and_defaults_are_ultralytics(served):
    server, session = served
    dog = (IMAGES / "dog.jpg").read_bytes()
    low = json.loads(post(server, "y8", dog)[1])["detections"]
    default = json.loads(post(server, "y8-defaults", dog)[1])["detections"]
    # conf 0.25 and IoU 0.7 when function.json says nothing: a strict subset of the 0.1 answer.
    assert 0 < len(default) < len(low)
    assert_agree(default, reference(session, IMAGES / "dog.jpg", conf=0.25), threshold=0.25, label="defaults")
    queried = json.loads(post(server, "y8", dog, "?threshold=0.25")[1])["detections"]
    assert queried == default


def test_jpeg_format_draws_the_boxes(served):
    server, _ = served
    girl = (IMAGES / "girl.png").read_bytes()
    kind, body = post(server, "y8", girl, "?format=jpeg", "image/png")
    assert kind == "image/jpeg" and body[:3] == b"\xff\xd8\xff"
    import io
    drawn = np.asarray(Image.open(io.BytesIO(body)).convert("RGB")).astype(int)
    plain = np.asarray(Image.open(IMAGES / "girl.png").convert("RGB")).astype(int)
    assert drawn.shape == plain.shape
    # Boxes change many pixels far beyond JPEG noise.
    assert (np.abs(drawn - plain).max(axis=2) > 100).sum() > 1000


def test_v2_infer_equals_the_native_answer(served):
    server, _ = served
    image = (IMAGES / "dog.jpg").read_bytes()
    native = json.loads(post(server, "y8", image)[1])["detections"]
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    tensor = httpclient.InferInput("image", [1], "BYTES")
    tensor.set_data_from_numpy(np.array([image], dtype=np.object_), binary_data=True)
    result = client.infer("y8", [tensor], outputs=[httpclient.InferRequestedOutput(n) for n in
                                                   ("boxes", "scores", "classes", "labels")])
    assert len(native) > 0
    assert result.as_numpy("classes").tolist() == [d["class_id"] for d in native]
    np.testing.assert_allclose(result.as_numpy("scores"), [d["score"] for d in native], atol=2e-6)
    np.testing.assert_allclose(result.as_numpy("boxes"), [box_of(d) for d in native], atol=2e-3)
    meta = client.get_model_metadata("y8")
    assert [t["name"] for t in meta["outputs"]] == ["boxes", "scores", "classes", "labels"]


def test_cli_detect_onnx_prints_the_http_answer(served, tmp_path):
    server, _ = served
    p = subprocess.run([mscr_binary(), "detect", "--onnx", str(YOLOV8N), "--threshold", str(THRESHOLD),
                        "--model-name", "yolov8n", str(IMAGES / "dog.jpg"), str(IMAGES / "girl.png")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    for line, photo in zip(lines, ["dog.jpg", "girl.png"]):
        http = json.loads(post(server, "y8", (IMAGES / photo).read_bytes(), content_type=content_type(photo))[1])
        assert line["detections"] == http["detections"] and line["image"] == http["image"]
    assert len(lines) == 2


@pytest.mark.parametrize("photo", PHOTOS)
def test_kind_detect_serves_a_darknet_model_by_its_format(served, photo):
    server, _ = served
    _, body = post(server, "fastest", (IMAGES / photo).read_bytes(), content_type=content_type(photo))
    ours = json.loads(body)["detections"]
    golden = json.loads((GOLDEN / (photo.rsplit(".", 1)[0] + ".json")).read_text())["detections"]
    # The goldens' tolerance (../shared/golden/README.md): same set, IoU >= 0.98, |dprob| <= 0.01.
    near = lambda d: abs(d.get("score", d.get("prob")) - 0.25) < 0.01  # noqa: E731
    ours = [d for d in ours if not near(d)]
    golden = [d for d in golden if not near(d)]
    assert len(ours) == len(golden) > 0 or len(ours) == len(golden)
    for g in golden:
        match = [d for d in ours if d["class_id"] == g["class_id"] and iou(box_of(d), g["box"]) >= 0.98]
        assert match and abs(match[0]["score"] - g["prob"]) <= 0.01, f"{photo}: {g} not found"


def test_a_darknet2onnx_export_is_refused_naming_its_outputs(served):
    server, _ = served
    with pytest.raises(urllib.error.HTTPError) as refused:
        post(server, "fastest-onnx", (IMAGES / "dog.jpg").read_bytes())
    assert refused.value.code == 503
    message = json.loads(refused.value.read())["error"]["message"]
    # Its outputs are the two raw [yolo] maps [1, 255, h, w], not [1, 4+classes, boxes].
    assert "[1, 4+classes, boxes]" in message and "255" in message, message


def test_bench_detect_onnx_has_the_darknet_bench_fields(tmp_path):
    def bench(*model):
        p = subprocess.run([mscr_binary(), "bench", "detect", *model, "--threads", "1", "--runs", "2", "--warmup", "0",
                            "--layers", str(IMAGES / "dog.jpg")], capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    ours = bench("--onnx", str(YOLOV8N))
    darknet = bench("--cfg", str(FASTEST / "yolo-fastest-1.1.cfg"), "--weights",
                    str(FASTEST / "yolo-fastest-1.1.weights"))
    assert set(ours) == set(darknet)
    assert ours["model"] == "yolov8n.onnx" and ours["input"] == "640x640" and ours["runs"] == 2
    # Ultralytics quotes 8.7 GFLOPs for YOLOv8n at 640; the convolutions are nearly all of it.
    assert 8.0 < ours["model_gflop"] < 9.0
    assert ours["forward_ms"]["min"] > 0 and ours["preprocess_ms"]["min"] > 0
    steps = ours["layers"]
    assert [s["index"] for s in steps] == list(range(len(steps))) and len(steps) > 60
    assert sum(s["type"].startswith("conv") for s in steps) == 64  # yolov8n's 64 convolutions, each one step
    # Each convolution step names its kernel and its ONNX node (what ort-profile-layers.py joins on).
    convs = [s["type"].split() for s in steps if s["type"].startswith("conv")]
    assert convs[0][-1] == "/model.0/conv/Conv" and convs[-1][-1] == "/model.22/dfl/conv/Conv"
    assert all(c[-1].startswith("/model.") and c[-1].endswith("Conv") for c in convs)
    assert {c[-2] for c in convs} <= {"winograd", "panel", "strided", "direct", "depthwise", "gemm"}


def test_bench_and_cli_refuse_what_they_cannot_run(tmp_path):
    p = subprocess.run([mscr_binary(), "bench", "detect", "--onnx", str(YOLOV8N), "--cfg", "x.cfg",
                        str(IMAGES / "dog.jpg")], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "--onnx replaces" in p.stderr
    p = subprocess.run([mscr_binary(), "detect", str(IMAGES / "dog.jpg")], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "--onnx" in p.stderr
