"""`mscr bench detect` and the interleaved peer harness, run on the real binary and model."""
import json
import os
import subprocess
import sys
import time

from conftest import ROOT, SHARED, mscr_binary

DOG = SHARED / "data/images/dog.jpg"
MODEL = SHARED / "data/models/yolo-fastest-1.1"
CFG = MODEL / "yolo-fastest-1.1.cfg"
WEIGHTS = MODEL / "yolo-fastest-1.1.weights"


def cfg_sections(path):
    """Section names after [net], in order."""
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("[") and line.endswith("]"):
            names.append(line[1:-1])
    assert names[0] in ("net", "network")
    return names[1:]


def bench_command(*extra, threads=1, runs=3, warmup=1, cfg=CFG, weights=WEIGHTS):
    return [mscr_binary(), "bench", "detect", "--cfg", str(cfg), "--weights", str(weights), "--threads", str(threads),
            "--runs", str(runs), "--warmup", str(warmup), *extra, str(DOG)]


def bench(*extra):
    p = subprocess.run(bench_command(*extra), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def start_stepping(**options):
    """`mscr bench detect --step` after it said it is ready: the process and that first line."""
    p = subprocess.Popen(bench_command("--step", **options), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    ready = json.loads(p.stdout.readline())
    assert ready["ready"] is True
    return p, ready


def test_bench_detect_times_every_layer():
    out = bench("--layers")
    assert out["runs"] == 3 and len(out["forward_runs_ms"]) == 3
    assert min(out["forward_runs_ms"]) == out["forward_ms"]["min"]
    assert max(out["forward_runs_ms"]) == out["forward_ms"]["max"]
    layers = out["layers"]
    assert [layer["type"] for layer in layers] == cfg_sections(CFG)
    assert [layer["index"] for layer in layers] == list(range(len(layers)))
    # The layers' GFLOP add up to the model's; every convolution did measurable work.
    assert abs(sum(layer["gflop"] for layer in layers) - out["model_gflop"]) <= 0.001 * len(layers) + 0.001
    for layer in layers:
        if layer["type"] == "convolutional":
            assert layer["ms"]["min"] > 0, layer
        if layer["type"] == "yolo":  # the head is the previous layer's output: no work of its own
            assert layer["ms"]["max"] == 0, layer
    # Layer times are parts of the forward: their medians cannot add up to more than the slowest
    # forward, nor to less than a tenth of the fastest (the rest would be unaccounted for).
    total = sum(layer["ms"]["median"] for layer in layers)
    assert out["forward_ms"]["min"] / 10 < total <= out["forward_ms"]["max"] * 1.01
    # Output shapes follow the cfg: the last convolution before each [yolo] has 255 = 3 × (80 + 5) maps.
    heads = [i for i, layer in enumerate(layers) if layer["type"] == "yolo"]
    assert heads and all(layers[i - 1]["output"].startswith("255x") for i in heads)


def test_bench_detect_without_layers_has_no_layer_table():
    out = bench()
    assert "layers" not in out
    assert len(out["forward_runs_ms"]) == 3


def test_peer_harness_runs_interleaved_rounds_of_mscr():
    # The peers need onnxruntime and OpenCV (not in the test venv); with no peers the harness
    # still runs its rounds of the real binary and writes every number.
    p = subprocess.run(
        [sys.executable, str(ROOT / "scripts/bench-detect-peers.py"), "--mscr", mscr_binary(),
         "--cfg", str(CFG), "--weights", str(WEIGHTS), "--threads", "1", "--rounds", "2", "--runs", "3",
         "--warmup", "1", "--peers", "", "--json", "/dev/stdout", str(DOG)],
        capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "round 2/2" in p.stderr
    table, _, dump = p.stdout.partition("\n{")
    assert "| 1 |" in table and "| 2 |" in table and "| all |" in table
    result = json.loads("{" + dump)
    assert [r["round"] for r in result["rounds"]] == [1, 2]
    assert all(r["mscr"]["median"] > 0 for r in result["rounds"])
    assert result["summary"]["mscr"]["min"] == min(r["mscr"]["min"] for r in result["rounds"])


def test_bench_detect_step_runs_one_forward_per_line_and_stops_at_eof():
    p, ready = start_stepping(runs=50)
    try:
        assert ready["load_ms"] > 0
        lines = []
        for _ in range(2):
            p.stdin.write("run\n")
            p.stdin.flush()
            lines.append(json.loads(p.stdout.readline()))
        assert [line["run"] for line in lines] == [1, 2]
        assert all(line["forward_ms"] > 0 for line in lines)
        p.stdin.close()  # EOF ends the runs early: 2 of the 50 asked for
        summary = json.loads(p.stdout.read())
        assert p.wait(timeout=30) == 0
    finally:
        p.kill()
    assert summary["runs"] == 2
    assert summary["forward_runs_ms"] == [line["forward_ms"] for line in lines]


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc (all its threads)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_an_idle_process_burns_no_cpu_after_start():
    # OpenBLAS starts worker threads when it loads, and each spins for 0.1-0.2 s before it
    # sleeps; mscr stops them first thing (it never gives them work). Measured right after start,
    # while the process waits on stdin, it must use (almost) no CPU.
    p, _ = start_stepping(threads=2, runs=1, warmup=0)
    try:
        before = cpu_seconds(p.pid)
        time.sleep(0.3)
        used = cpu_seconds(p.pid) - before
        assert used <= 0.03, f"{used * 1000:.0f} ms of CPU in 300 ms of waiting on stdin"
    finally:
        p.kill()
        p.wait()



def test_bench_layers_show_shortcuts_folded_into_their_convolutions(tmp_path):
    # Two residual blocks (Tests/Support/residual-blocks.cfg) whose convolutions (Winograd,
    # panels) add the shortcut as they store: each shortcut is reported as folded into the
    # layer before it and does no work of its own.
    cfg = ROOT / "Tests/Support/residual-blocks.cfg"
    weights = tmp_path / "residual-blocks.weights"
    subprocess.run([sys.executable, str(SHARED / "tools/random_darknet_weights.py"), str(cfg), str(weights)],
                   check=True, capture_output=True)
    p = subprocess.run(bench_command("--layers", cfg=cfg, weights=weights), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    layers = json.loads(p.stdout)["layers"]
    assert [layer["type"] for layer in layers] == cfg_sections(cfg)
    fused = {layer["index"]: layer["fused_into"] for layer in layers if "fused_into" in layer}
    assert fused == {3: 2, 5: 4}
    assert all(layers[i]["type"] == "shortcut" and layers[i]["ms"]["max"] == 0 for i in fused)
