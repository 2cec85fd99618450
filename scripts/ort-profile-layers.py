#!/usr/bin/env python3
"""ONNX Runtime's time per layer, to set beside mscr's own per-layer times.

Two kinds of model:

* A Darknet export (../shared/tools/peers/darknet2onnx.py, node names `l<index>_…`, the Darknet
  layer index): prints one JSON object {"threads", "runs", "layers": [{"index", "ms"}],
  "total_ms"}, "ms" the median over the timed runs of the summed kernel time of the layer's nodes,
  to set beside `mscr bench detect --layers`. ONNX Runtime fuses a shortcut's Add into the
  convolution before it, so shortcut layers show no time of their own.

      python scripts/ort-profile-layers.py yolov3-416.onnx --threads 2 --runs 5 --warmup 2

* Any other ONNX file with --mscr BINARY (e.g. an Ultralytics export, node names
  `/model.2/cv1/conv/Conv`): also runs `BINARY onnx run FILE --bench RUNS --steps`, whose step
  lines name each convolution's ONNX node, and groups both engines' times by module: a node's
  name up to `/conv/`, `/act/` or a last `/Conv` (`/model.2/cv1`), so ONNX Runtime's Conv and its
  activation (QuickGelu after its fusions) land in the row of mscr's one fused step. What has no
  module (Split, Concat, Add, Resize, ONNX Runtime's layout reorders, mscr's non-convolution
  steps) is one row, "other"; mscr folds residual Adds into the convolution before them, ONNX
  Runtime counts them in "other". Prints a Markdown table (largest gap first) and, with --json
  FILE, writes every row.

      python scripts/ort-profile-layers.py ../shared/data/models/onnx/yolov8n.onnx \\
          --mscr .build-rel/release/mscr --threads 1 --runs 20

Both engines' numbers are medians of wall time per step over the timed runs; on a shared box run
the comparison several times (profiles add their own overhead, so totals exceed a plain forward).

Needs onnxruntime and numpy.
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import tempfile


def module(name):
    """The module a node belongs to (`/model.2/cv1` for `/model.2/cv1/conv/Conv…` or
    `/model.2/cv1/act/Mul…`, `/model.22/cv2.0/cv2.0.2` for `/model.22/cv2.0/cv2.0.2/Conv`), else
    None."""
    m = re.match(r'^(/.+?)/(conv|act)/', name) or re.match(r'^(/.+)/Conv(_|$)', name)
    return m.group(1) if m else None


def ort_profile(path, threads, runs, warmup):
    """Per node name, its kernel times (ms) of the last `runs` runs."""
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(), 'ort')
    session = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    first = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in first.shape]
    x = np.random.default_rng(1).random(shape, dtype=np.float32)
    for _ in range(warmup + runs):
        session.run(None, {first.name: x})
    with open(session.end_profiling()) as f:
        events = json.load(f)
    per_node = collections.defaultdict(list)
    for e in events:
        if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time'):
            per_node[e['name'][:-len('_kernel_time')]].append(e['dur'] / 1000)
    return {name: times[-runs:] for name, times in per_node.items()}, ort.__version__


def darknet_layers(a):
    per_node, version = ort_profile(a.onnx, a.threads, a.runs, a.warmup)
    per_layer = collections.defaultdict(lambda: [0.0] * a.runs)
    for name, times in per_node.items():
        m = re.match(r'l(\d+)_', name)
        if not m:
            continue
        for run, ms in enumerate(times):
            per_layer[int(m.group(1))][run] += ms
    layers = [dict(index=i, ms=round(statistics.median(v), 3)) for i, v in sorted(per_layer.items())]
    print(json.dumps(dict(engine='onnxruntime ' + version, threads=a.threads, runs=a.runs, layers=layers,
                          total_ms=round(sum(l['ms'] for l in layers), 2))))


def mscr_steps(binary, path, threads, runs, warmup):
    """mscr's median ms per module (convolutions by their node name) and its step lines."""
    out = subprocess.run([binary, 'onnx', 'run', path, '--bench', str(runs), '--warmup', str(warmup), '--steps',
                          '--threads', str(threads)], capture_output=True, text=True, check=True)
    rows = collections.defaultdict(float)
    kinds = {}
    for line in out.stderr.splitlines():
        m = re.match(r'([\d.]+) ms  #(\d+) (.*)$', line)
        if not m:
            continue
        ms, text = float(m.group(1)), m.group(3)
        words = text.split()
        key = module(words[-1]) if words[0] == 'conv' else None
        if key is None:
            rows['other'] += ms
        else:
            rows[key] += ms
            # "conv 16x320x320→32x160x160 k3 s2 g1 swish direct /model.1/conv/Conv"
            kinds[key] = ' '.join(words[1:-1])
    forward = json.loads(out.stdout.strip().splitlines()[-1])['forward_ms']['median']
    return rows, kinds, forward


def compare(a):
    per_node, version = ort_profile(a.onnx, a.threads, a.runs, a.warmup)
    keys = set()
    mscr, kinds, forward = mscr_steps(a.mscr, a.onnx, a.threads, a.runs, a.warmup)
    keys.update(k for k in mscr if k != 'other')
    ort_rows = collections.defaultdict(lambda: [0.0] * a.runs)
    for name, times in per_node.items():
        key = module(name)
        key = key if key in keys else 'other'
        for run, ms in enumerate(times):
            ort_rows[key][run] += ms
    ort = {k: statistics.median(v) for k, v in ort_rows.items()}
    rows = [dict(module=k, layer=kinds.get(k, ''), mscr_ms=round(mscr.get(k, 0.0), 3), ort_ms=round(ort.get(k, 0.0), 3))
            for k in sorted(keys | {'other'})]
    for r in rows:
        r['gap_ms'] = round(r['mscr_ms'] - r['ort_ms'], 3)
    rows.sort(key=lambda r: -r['gap_ms'])
    total_m = sum(r['mscr_ms'] for r in rows)
    total_o = sum(r['ort_ms'] for r in rows)
    print(f'{a.threads} thread(s), medians of {a.runs} runs; mscr forward median {forward} ms; '
          f'onnxruntime {version}')
    print()
    print('| module | layer (mscr kernel) | mscr ms | ORT ms | gap ms |')
    print('|---|---|---:|---:|---:|')
    for r in rows:
        print(f"| {r['module']} | {r['layer']} | {r['mscr_ms']:.3f} | {r['ort_ms']:.3f} | {r['gap_ms']:+.3f} |")
    print(f'| total (sum of steps) | | {total_m:.2f} | {total_o:.2f} | {total_m - total_o:+.2f} |')
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(threads=a.threads, runs=a.runs, onnxruntime=version, mscr_forward_ms=forward, rows=rows), f,
                      indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('onnx')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--mscr', help='an mscr binary: compare per module (see above)')
    ap.add_argument('--json', help='with --mscr, also write the rows to this file')
    a = ap.parse_args()
    if a.mscr:
        compare(a)
    else:
        darknet_layers(a)


if __name__ == '__main__':
    main()
