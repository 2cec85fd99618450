#!/usr/bin/env python3
"""Ultralytics' own predictor against mscr's `"kind": "detect"`, on the same ONNX exports and photos.

Outside `make test` (it needs `ultralytics`, whose torch is ~6 GB): run it in a cached venv,

    python3 -m venv /tmp/ultra-venv && /tmp/ultra-venv/bin/pip install ultralytics onnx onnxruntime
    /tmp/ultra-venv/bin/python scripts/ultralytics-agreement.py [--mscr .build/debug/mscr] [--conf 0.25 0.1]

For each architecture (yolov8n, yolo11n, yolov5nu) it makes a calibrated random-weight export with
../shared/tools/make_yolo_onnx.py (cached in --workdir), publishes it with `mscr publish`, serves it
with `mscr serve` (one `detect` function per model and threshold), and compares, photo by photo,
Ultralytics' `YOLO(model.onnx).predict(photo, conf, iou=0.7)` with mscr's POST /functions/<fn>
answer: detections matched by class and best IoU; reports matched / only-Ultralytics / only-mscr
counts, the smallest IoU and the largest score difference of the matched pairs. Exit 1 when a
detection is unmatched (other than within 2e-3 of the threshold) or a matched IoU is below 0.99.
"""
import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PHOTOS = ["dog.jpg", "eagle.jpg", "girl.png", "street.jpg"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{p.stdout}\n{p.stderr}")
    return p


def export(arch, seed, workdir):
    out = workdir / f"{arch}.onnx"
    if not out.exists():
        run([sys.executable, str(SHARED / "tools/make_yolo_onnx.py"), f"{arch}.yaml", str(seed)], cwd=workdir,
            timeout=1800)
    return out


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def compare(ultra, ours, conf):
    """Greedy matching, best scores first: same class, highest IoU."""
    free = list(range(len(ours)))
    pairs, only_ultra = [], []
    for u in ultra:
        best = max((j for j in free if ours[j]["class_id"] == u["class_id"]),
                   key=lambda j: iou(u["box"], ours[j]["box"]), default=None)
        if best is None or iou(u["box"], ours[best]["box"]) < 0.5:
            only_ultra.append(u)
            continue
        free.remove(best)
        pairs.append((u, ours[best]))
    only_ours = [ours[j] for j in free]
    near = lambda d: abs(d["score"] - conf) < 2e-3  # noqa: E731
    return {
        "ultralytics": len(ultra), "mscr": len(ours), "matched": len(pairs),
        "only_ultralytics": len(only_ultra), "only_mscr": len(only_ours),
        "unexplained": sum(not near(d) for d in only_ultra + only_ours),
        "min_iou": min((iou(u["box"], o["box"]) for u, o in pairs), default=1.0),
        "max_abs_dscore": max((abs(u["score"] - o["score"]) for u, o in pairs), default=0.0),
        "max_abs_dbox_px": max((max(abs(x - y) for x, y in zip(u["box"], o["box"])) for u, o in pairs), default=0.0),
        "same_order": [u["class_id"] for u in ultra] == [o["class_id"] for o in ours],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mscr", default=str(ROOT / ".build/debug/mscr"))
    ap.add_argument("--workdir", default="/tmp/ultra-agreement")
    ap.add_argument("--models", nargs="+", default=["yolov8n", "yolo11n", "yolov5nu"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--conf", nargs="+", type=float, default=[0.25, 0.1])
    ap.add_argument("--iou", type=float, default=0.7)
    a = ap.parse_args()
    from ultralytics import YOLO
    import ultralytics

    workdir = pathlib.Path(a.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    repo = workdir / "models"
    functions = workdir / "functions"
    names = {}
    for arch in a.models:
        onnx_path = export(arch, a.seed, workdir)
        folder = workdir / f"publish-{arch}"
        folder.mkdir(exist_ok=True)
        if not (folder / "model.onnx").exists():
            os.symlink(onnx_path, folder / "model.onnx")
        if not (repo / arch).exists():
            run([a.mscr, "publish", str(folder), "--repository", f"file://{repo}", "--model", arch], timeout=600)
        for conf in a.conf:
            fn = f"{arch}-{int(round(conf * 100))}"
            (functions / fn).mkdir(parents=True, exist_ok=True)
            (functions / fn / "function.json").write_text(json.dumps(
                {"name": fn, "kind": "detect", "model": arch, "params": {"threshold": conf, "nms": a.iou}}))
            names[(arch, conf)] = fn
    port = free_port()
    env = dict(os.environ, PORT=str(port), MSCR_FUNCTIONS=str(functions), MSCR_MODEL_REPOSITORY=f"file://{repo}")
    server = subprocess.Popen([a.mscr, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("mscr serve did not become healthy")
                time.sleep(0.1)
        report, ok = [], True
        for arch in a.models:
            model = YOLO(str(workdir / f"{arch}.onnx"), task="detect")
            for conf in a.conf:
                for photo in PHOTOS:
                    path = SHARED / "data/images" / photo
                    r = model.predict(str(path), conf=conf, iou=a.iou, imgsz=640, device="cpu", verbose=False)[0]
                    ultra = [{"class_id": int(c), "score": float(s), "box": [float(v) for v in b]}
                             for b, s, c in zip(r.boxes.xyxy.tolist(), r.boxes.conf.tolist(), r.boxes.cls.tolist())]
                    body = path.read_bytes()
                    kind = "image/png" if photo.endswith(".png") else "image/jpeg"
                    req = urllib.request.Request(f"{url}/functions/{names[(arch, conf)]}", data=body, method="POST",
                                                 headers={"Content-Type": kind})
                    answer = json.loads(urllib.request.urlopen(req, timeout=300).read())
                    ours = [{"class_id": d["class_id"], "score": d["score"],
                             "box": [d["box"][k] for k in ("x1", "y1", "x2", "y2")]} for d in answer["detections"]]
                    row = {"model": arch, "conf": conf, "photo": photo, **compare(ultra, ours, conf)}
                    ok &= row["unexplained"] == 0 and row["min_iou"] >= 0.99
                    report.append(row)
                    print(json.dumps(row), flush=True)
        total = {k: sum(r[k] for r in report) for k in ("ultralytics", "mscr", "matched", "only_ultralytics",
                                                         "only_mscr", "unexplained")}
        total.update(min_iou=min(r["min_iou"] for r in report), max_abs_dscore=max(r["max_abs_dscore"] for r in report),
                     max_abs_dbox_px=max(r["max_abs_dbox_px"] for r in report), ultralytics_version=ultralytics.__version__)
        print(json.dumps({"total": total}))
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
