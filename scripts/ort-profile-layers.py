#!/usr/bin/env python3
"""ONNX Runtime's time per Darknet layer, to set beside `mscr bench detect --layers`.

Runs MODEL.onnx (from ../shared/tools/peers/darknet2onnx.py, whose node names start with
`l<index>_`, the Darknet layer index) with ONNX Runtime's profiler on, and prints one JSON
object: {"threads", "runs", "layers": [{"index", "ms"}], "total_ms"}, where "ms" is the median
over the timed runs of the summed kernel time of the layer's nodes. ONNX Runtime fuses a
shortcut's Add into the convolution before it, so shortcut layers show no time of their own.

  python scripts/ort-profile-layers.py yolov3-416.onnx --threads 2 --runs 5 --warmup 2

Needs onnxruntime and numpy.
"""
import argparse
import collections
import json
import os
import re
import statistics
import tempfile


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('onnx')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    a = ap.parse_args()
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(), 'ort')
    session = ort.InferenceSession(a.onnx, so, providers=['CPUExecutionProvider'])
    first = session.get_inputs()[0]
    x = np.random.default_rng(1).random([1] + list(first.shape[1:]), dtype=np.float32)
    for _ in range(a.warmup + a.runs):
        session.run(None, {first.name: x})
    with open(session.end_profiling()) as f:
        events = json.load(f)
    # Per node, its kernel times in run order; then per layer, the sum of its nodes per run.
    per_node = collections.defaultdict(list)
    for e in events:
        if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time'):
            per_node[e['name']].append(e['dur'] / 1000)
    per_layer = collections.defaultdict(lambda: [0.0] * a.runs)
    for name, times in per_node.items():
        m = re.match(r'l(\d+)_', name)
        if not m:
            continue
        for run, ms in enumerate(times[-a.runs:]):
            per_layer[int(m.group(1))][run] += ms
    layers = [dict(index=i, ms=round(statistics.median(v), 3)) for i, v in sorted(per_layer.items())]
    print(json.dumps(dict(engine='onnxruntime ' + ort.__version__, threads=a.threads, runs=a.runs, layers=layers,
                          total_ms=round(sum(l['ms'] for l in layers), 2))))


if __name__ == '__main__':
    main()
