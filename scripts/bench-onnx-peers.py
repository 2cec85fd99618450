#!/usr/bin/env python3
"""ONNX forward latency: `mscr onnx run --bench` against ONNX Runtime (and OpenVINO when it is
installed), interleaved.

Each round runs every engine once, as a fresh process with its own warm-up, in an order that
rotates from round to round (a shared 2-core VM drifts by 20-30 % over tens of seconds, so only
runs close in time compare like with like). The summary is the median over rounds of the paired
ratio mscr / fastest peer (below 1.0 means mscr is faster), with the worst round.

Peers: ONNX Runtime (CPUExecutionProvider, intra-op threads = --threads, sequential execution,
all graph optimisations); OpenVINO CPU with INFERENCE_PRECISION_HINT f32, PERFORMANCE_HINT
LATENCY, one stream, INFERENCE_NUM_THREADS = --threads. Both time `run` on the same seeded input.

Usage (Python needs numpy, onnxruntime; optionally openvino):

  scripts/bench-onnx-peers.py --mscr .build/release/mscr ../shared/data/models/onnx/yolov8n.onnx \\
      --threads 1,2 --rounds 5 --runs 10 --warmup 3

Prints progress on stderr, a Markdown table on stdout; --json FILE also writes every number.
--baseline OTHER_MSCR adds a second mscr build to the rotation (the before of a change) and the
paired ratio mscr / baseline. --cpu-time compares CPU time per forward instead (for a loaded box).
--wait-idle SECONDS starts each engine's run only once the machine is idle (for 2-thread wall
times on a box others use now and then).
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

PEER = r'''
import json, sys, time
import numpy as np
engine, model, threads, runs, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t0 = time.perf_counter()
if engine == "ort":
    import onnxruntime as ort
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(model, o, providers=["CPUExecutionProvider"])
    inp = s.get_inputs()[0]
    x = np.random.default_rng(0).random([d if isinstance(d, int) else 1 for d in inp.shape], dtype=np.float32)
    run = lambda: s.run(None, {inp.name: x})
else:
    import openvino as ov
    core = ov.Core()
    compiled = core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1",
        "INFERENCE_NUM_THREADS": str(threads)})
    request = compiled.create_infer_request()
    shape = [d.get_length() for d in compiled.inputs[0].get_partial_shape()]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    run = lambda: request.infer({0: x})
load = (time.perf_counter() - t0) * 1e3
times = []
for i in range(warmup + runs):
    t = time.perf_counter()
    run()
    if i >= warmup:
        times.append((time.perf_counter() - t) * 1e3)
times.sort()
print(json.dumps({"forward_ms": {"min": times[0], "median": times[len(times) // 2]}, "load_ms": load}))
'''


def log(msg):
    print(f'[bench-onnx-peers {time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f'{cmd[0]} exited {p.returncode}:\n{p.stderr[-2000:]}')
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith('{')]
    if not lines:
        raise SystemExit(f'no JSON from {" ".join(cmd)}:\n{p.stdout[-1000:]}\n{p.stderr[-1000:]}')
    return json.loads(lines[-1])


def cpu_seconds(cmd):
    """User + system seconds of the process `cmd` (and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_json(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def idle_fraction(seconds):
    """Share of all CPUs' time spent idle over the next `seconds` (from /proc/stat)."""
    def sample():
        with open('/proc/stat') as f:
            fields = [float(x) for x in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return (idle1 - idle0) / max(1.0, total1 - total0)


def wait_idle(limit):
    """Waits until the machine was at least 90 % idle for 0.2 s, at most `limit` seconds; returns
    whether it was."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if idle_fraction(0.2) >= 0.9:
            return True
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('model')
    ap.add_argument('--mscr', required=True, help='the mscr binary (a release build)')
    ap.add_argument('--baseline', help='another mscr binary (e.g. before a change), run in the same rotation')
    ap.add_argument('--threads', default='1,2', help='comma-separated thread counts')
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--json', help='also write every number here')
    ap.add_argument('--cpu-time', action='store_true',
                    help='compare CPU time per forward instead of wall time: each engine runs twice (2 and '
                         '2 + RUNS forwards) and the difference of the two processes\' user + system time is '
                         'divided by RUNS. Meant for 1 thread on a loaded machine, where wall time measures '
                         'the other work more than the engines')
    ap.add_argument('--wait-idle', type=float, default=0, metavar='SECONDS',
                    help='before each engine\'s run, wait up to SECONDS for the machine to be idle (90 %% '
                         'over 0.2 s: other work on a shared box); rounds where it was not are marked busy')
    args = ap.parse_args()

    peers = ['ort']
    try:
        import openvino  # noqa: F401
        peers.append('openvino')
    except ImportError:
        log('openvino not installed: comparing with ONNX Runtime only')
    engines = ['mscr'] + (['baseline'] if args.baseline else []) + peers
    results = {}
    for threads in [int(t) for t in args.threads.split(',')]:
        rounds = []
        for r in range(args.rounds):
            order = engines[r % len(engines):] + engines[:r % len(engines)]
            medians = {}
            busy = False
            for engine in order:
                if args.wait_idle > 0 and not wait_idle(args.wait_idle):
                    busy = True
                def command(runs):
                    if engine in ('mscr', 'baseline'):
                        binary = args.mscr if engine == 'mscr' else args.baseline
                        return [binary, 'onnx', 'run', args.model, '--bench', str(runs), '--warmup',
                                str(args.warmup), '--threads', str(threads)]
                    return [sys.executable, '-c', PEER, engine, args.model, str(threads), str(runs),
                            str(args.warmup)]
                if args.cpu_time:
                    medians[engine] = (cpu_seconds(command(2 + args.runs)) - cpu_seconds(command(2))) / args.runs * 1e3
                else:
                    medians[engine] = run_json(command(args.runs))['forward_ms']['median']
            fastest = min(peers, key=lambda p: medians[p])
            medians['ratio'] = medians['mscr'] / medians[fastest]
            medians['fastest_peer'] = fastest
            if args.baseline:
                medians['vs_baseline'] = medians['mscr'] / medians['baseline']
            if args.wait_idle > 0:
                medians['busy'] = busy
            log(f'{threads} thread(s), round {r + 1}: ' + ', '.join(
                f'{e} {medians[e]:.1f} ms' for e in engines) + f'; ratio {medians["ratio"]:.2f} vs {fastest}'
                + (' (the machine was busy before a run)' if busy else ''))
            rounds.append(medians)
        results[threads] = rounds

    extra = ' mscr / baseline (median, worst) |' if args.baseline else ''
    unit = 'CPU ms/forward' if args.cpu_time else 'median ms'
    print('| threads | ' + ' | '.join(f'{e} {unit}' for e in engines) + ' | mscr / fastest peer (median, worst) |'
          + extra)
    print('|---|' + '---|' * len(engines) + '---|' + ('---|' if args.baseline else ''))
    for threads, rounds in results.items():
        cells = [f'{statistics.median(r[e] for r in rounds):.1f}' for e in engines]
        ratios = [r['ratio'] for r in rounds]
        line = f'| {threads} | ' + ' | '.join(cells) + f' | {statistics.median(ratios):.2f} ({max(ratios):.2f}) |'
        if args.baseline:
            vs = [r['vs_baseline'] for r in rounds]
            line += f' {statistics.median(vs):.2f} ({max(vs):.2f}) |'
        print(line)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({str(k): v for k, v in results.items()}, f, indent=1)


if __name__ == '__main__':
    main()
