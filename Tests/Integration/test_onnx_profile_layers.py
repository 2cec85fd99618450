"""scripts/ort-profile-layers.py --mscr: ONNX Runtime's profile and mscr's step times joined per
module of yolov8n (the table of BENCHMARKS.md, session 10)."""
import json
import subprocess
import sys

from conftest import ROOT, SHARED, mscr_binary

YOLOV8N = SHARED / "data/models/onnx/yolov8n.onnx"


def test_every_convolution_module_has_both_engines_times(tmp_path):
    out = tmp_path / "rows.json"
    p = subprocess.run([sys.executable, str(ROOT / "scripts/ort-profile-layers.py"), str(YOLOV8N), "--mscr",
                        mscr_binary(), "--threads", "1", "--runs", "1", "--warmup", "0", "--json", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    report = json.loads(out.read_text())
    rows = {r["module"]: r for r in report["rows"]}
    # yolov8n's 64 convolutions are 64 modules (conv + act fused in mscr, Conv + QuickGelu in ORT), plus "other".
    assert len(rows) == 65 and "other" in rows
    assert rows["/model.0"]["layer"].startswith("3x640x640→16x320x320 k3 s2")
    assert " linear " in rows["/model.22/cv2.0/cv2.0.2"]["layer"]  # the box branch's last 1×1, no activation
    convs = [r for m, r in rows.items() if m != "other"]
    assert all(r["mscr_ms"] > 0 and r["ort_ms"] > 0 for r in convs), [r for r in convs if not r["ort_ms"]]
    assert "| /model.0 |" in p.stdout and p.stdout.count("\n| /model.") == 64
