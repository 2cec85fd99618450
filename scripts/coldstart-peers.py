#!/usr/bin/env python3
"""Spawn → first detection, side by side in one run: mscr from the source files, from the compiled
artifact on disk and from moto S3, against OpenVINO (its model cache, CACHE_DIR, already filled by
an earlier process) and ONNX Runtime, each a fresh process whose start counts.

Per model (yolov3-416: ../shared's yolov3.cfg at 416 with random weights; yolo-fastest-1.1; and with
--models yolov8n the ONNX model ../shared/data/models/onnx/yolov8n.onnx at 640, published as format
onnx: "sources" imports model.onnx, "artifact" maps its compiled graph; the peers run the same file), every
round runs `mscr coldstart` once over the mscr variants (interleaved there), then one OpenVINO and
one ONNX Runtime process; the medians over rounds are reported. Then one more mscr server per model
answers a first and 10 warm requests: the server's own infer time (Server-Timing) gives first
forward / warm forward. Peak RSS: the process group's VmHWM (mscr coldstart) and ru_maxrss (peers).
With moto, every round also fetches the artifact alone from moto with curl the way mscr does (4
parallel ranged GETs of 8 MiB), so "spawn → first detection from S3" can be set against the bare
transfer time of the same object in the same run (goal: ≤ transfer + 350 ms).

  scripts/coldstart-peers.py --mscr .build/release/mscr --rounds 5 --json /tmp/coldstart.json

Needs: a Python with onnxruntime, openvino, onnx, Pillow (--peer-python, default /tmp/onnxvenv),
the test venv's moto (--moto-python, default .venv or /work/main/.venv) and ../shared.
Progress on stderr; a Markdown table on stdout.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.normpath(os.path.join(ROOT, '..', 'shared'))

# One peer cold start: import, load (OpenVINO: from CACHE_DIR), one preprocessed forward, the
# detection printed. The parent times spawn → that line.
PEER = r'''
import sys, time, json, os
t0 = time.perf_counter()
engine, onnx, image, size, threads, cache = sys.argv[1:7]
size, threads = int(size), int(threads)
import numpy as np
from PIL import Image
if engine == "openvino":
    import openvino as ov
    t1 = time.perf_counter()
    core = ov.Core()
    core.set_property({"CACHE_DIR": cache})
    # f32: on CPUs with AVX-512-BF16 OpenVINO otherwise silently computes in bf16.
    compiled = core.compile_model(onnx, "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                                               "NUM_STREAMS": 1, "ENABLE_CPU_PINNING": False,
                                               "INFERENCE_PRECISION_HINT": "f32"})
    req = compiled.create_infer_request()
    run = lambda blob: req.infer({0: blob})
else:
    import onnxruntime as ort
    t1 = time.perf_counter()
    o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
    s = ort.InferenceSession(onnx, o, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    run = lambda blob: s.run(None, {name: blob})
t2 = time.perf_counter()
img = Image.open(image).convert("RGB").resize((size, size), Image.BILINEAR)
blob = np.ascontiguousarray((np.asarray(img, dtype=np.float32) / 255.0).transpose(2, 0, 1)[None])
t3 = time.perf_counter()
run(blob)
t4 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "load_ms": (t2 - t1) * 1e3, "first_forward_ms": (t4 - t3) * 1e3}),
      flush=True)
'''


def log(msg):
    print(f'[coldstart-peers {time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def run(cmd, env=None, **kw):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f'{" ".join(map(str, cmd))[:200]} exited {p.returncode}:\n{p.stderr[-3000:]}')
    return p.stdout


def prepare_models(a, work):
    """name → (folder with cfg/weights/coco.names or model.onnx, cfg, weights, size); cfg None for ONNX."""
    models = {}
    names = os.path.join(SHARED, 'data/models/darknet-cfg/coco.names')
    if 'yolov3-416' in a.models:
        d = os.path.join(work, 'yolov3-416')
        os.makedirs(d, exist_ok=True)
        cfg, weights = os.path.join(d, 'yolov3-416.cfg'), os.path.join(d, 'yolov3-416.weights')
        if not os.path.exists(weights):
            text = open(os.path.join(SHARED, 'data/models/darknet-cfg/yolov3.cfg')).read()
            text = re.sub(r'(?m)^width=\d+', 'width=416', text)
            text = re.sub(r'(?m)^height=\d+', 'height=416', text)
            open(cfg, 'w').write(text)
            shutil.copy(names, os.path.join(d, 'coco.names'))
            log('random yolov3-416 weights (seed 1)')
            run([a.moto_python, os.path.join(SHARED, 'tools/random_darknet_weights.py'), cfg, weights, '--seed', '1'])
        models['yolov3-416'] = (d, cfg, weights, 416)
    if 'yolo-fastest-1.1' in a.models:
        d = os.path.join(SHARED, 'data/models/yolo-fastest-1.1')
        models['yolo-fastest-1.1'] = (d, os.path.join(d, 'yolo-fastest-1.1.cfg'),
                                      os.path.join(d, 'yolo-fastest-1.1.weights'), 320)
    if 'yolov8n' in a.models:
        d = os.path.join(work, 'yolov8n')
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(SHARED, 'data/models/onnx/yolov8n.onnx'), os.path.join(d, 'model.onnx'))
        models['yolov8n'] = (d, None, None, 640)
    return models


def functions_dir(work, model, onnx=False):
    d = os.path.join(work, 'functions', model, 'detect')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'function.json'), 'w') as f:
        json.dump({'name': 'detect', 'kind': 'detect' if onnx else 'darknet-yolo', 'model': model,
                   'version': 'latest', 'params': {'threshold': 0.25} if onnx else {'threshold': 0.25, 'nms': 0.45},
                   'limits': {'concurrency': 1}}, f)
    return os.path.dirname(d)


def peer_once(a, engine, onnx, size, cache):
    t0 = time.perf_counter()
    p = subprocess.Popen([a.peer_python, '-c', PEER, engine, onnx, a.image, str(size), str(a.threads), cache],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    first = (time.perf_counter() - t0) * 1e3
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0 or not line.startswith('{'):
        raise SystemExit(f'{engine} failed: {p.stderr.read()[-2000:]}')
    r = json.loads(line)
    r.update(first_answer_ms=first, peak_rss_mib=usage.ru_maxrss / 1024)
    return r


def s3_transfer(s3_env, key, size, streams=4, part=8 << 20):
    """Wall time of fetching the object at `key` (bucket/key on moto) the way mscr fetches an
    artifact: `streams` parallel ranged GETs of `part` bytes each (one curl process, SigV4)."""
    url = f'{s3_env["AWS_ENDPOINT_URL"]}/{key}'
    auth = ['--aws-sigv4', f'aws:amz:{s3_env["AWS_REGION"]}:s3', '--user',
            f'{s3_env["AWS_ACCESS_KEY_ID"]}:{s3_env["AWS_SECRET_ACCESS_KEY"]}',
            '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '--fail', '-s', '-o', '/dev/null']
    cmd = ['curl', '--parallel', '--parallel-max', str(streams)]
    for i, lower in enumerate(range(0, size, part)):
        if i:
            cmd.append('--next')
        cmd += auth + ['-r', f'{lower}-{min(size, lower + part) - 1}', url]
    t0 = time.perf_counter()
    run(cmd)
    return (time.perf_counter() - t0) * 1e3


def first_vs_warm(a, env, port_env_repo, functions, warm=10):
    """A server's own infer time (Server-Timing) for its first and its warm requests."""
    import socket
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
    env = dict(env, PORT=str(port), MSCR_MODEL_REPOSITORY=port_env_repo, MSCR_FUNCTIONS=functions)
    p = subprocess.Popen([a.mscr, 'serve'], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=1).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit('server did not become healthy')
                time.sleep(0.005)  # poll interval, bounded by the deadline
        body = open(a.image, 'rb').read()
        infer = []
        for _ in range(warm + 1):
            req = urllib.request.Request(f'http://127.0.0.1:{port}/functions/detect', data=body,
                                         headers={'Content-Type': 'image/jpeg'}, method='POST')
            with urllib.request.urlopen(req, timeout=120) as r:
                timing = r.headers.get('Server-Timing', '')
                r.read()
            m = re.search(r'infer;dur=([0-9.]+)', timing)
            infer.append(float(m.group(1)) if m else float('nan'))
        return infer[0], statistics.median(infer[1:])
    finally:
        p.terminate()
        p.wait(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--mscr', default=os.path.join(ROOT, '.build/release/mscr'))
    ap.add_argument('--models', default='yolov3-416,yolo-fastest-1.1')
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2, help='peers\' threads (mscr: its default)')
    ap.add_argument('--image', default=os.path.join(SHARED, 'data/images/dog.jpg'))
    ap.add_argument('--work', default=os.path.join(ROOT, '.build', 'coldstart-peers'))
    ap.add_argument('--peer-python', default='/tmp/onnxvenv/bin/python')
    default_venv = next((p for p in [os.path.join(ROOT, '.venv/bin/python'), '/work/main/.venv/bin/python']
                         if os.path.exists(p)), sys.executable)
    ap.add_argument('--moto-python', default=default_venv)
    ap.add_argument('--peers', default='openvino,onnxruntime')
    ap.add_argument('--no-s3', action='store_true')
    ap.add_argument('--json')
    a = ap.parse_args()
    a.models = a.models.split(',')
    a.mscr = os.path.abspath(a.mscr)
    work = a.work
    os.makedirs(work, exist_ok=True)
    models = prepare_models(a, work)
    repo = os.path.join(work, 'repo')
    moto = None
    s3_env = {}
    if not a.no_s3:
        moto = subprocess.Popen([a.moto_python, os.path.join(ROOT, 'Tests/Support/start_moto.py'), '--bucket', 'models'],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        info = json.loads(moto.stdout.readline())
        s3_env = dict(AWS_ACCESS_KEY_ID=info['access_key'], AWS_SECRET_ACCESS_KEY=info['secret_key'],
                      AWS_REGION=info['region'], AWS_ENDPOINT_URL=info['endpoint'])
    results = {}
    try:
        for name, (folder, cfg, weights, size) in models.items():
            # Published again by this binary every run: an artifact another build wrote (another
            # artifact format version) would be ignored and the "artifact" rows would measure
            # the source files.
            shutil.rmtree(os.path.join(repo, name), ignore_errors=True)
            log(f'publishing {name} (with its compiled artifact) to {repo}')
            run([a.mscr, 'publish', folder, '--repository', repo, '--model', name, '--version', '1'])
            if moto:
                log(f'publishing {name} to moto S3')
                run([a.mscr, 'publish', folder, '--repository', 's3://models/repo', '--model', name],
                    env=dict(os.environ, **s3_env))
            onnx = os.path.join(folder, 'model.onnx') if cfg is None else os.path.join(work, f'{name}.onnx')
            if not os.path.exists(onnx):
                run([a.peer_python, os.path.join(SHARED, 'tools/peers/darknet2onnx.py'), cfg, weights, onnx,
                     '--size', str(size)])
            cache = os.path.join(work, f'ov-cache-{name}')
            peers = [p for p in a.peers.split(',') if p]
            if 'openvino' in peers:
                peer_once(a, 'openvino', onnx, size, cache)  # fills CACHE_DIR: later processes load from it
            functions = functions_dir(work, name, onnx=cfg is None)
            base = f'MSCR_FUNCTIONS={functions} LOG_LEVEL=warning {a.mscr} serve'
            spawn = [('sources', f'MSCR_ARTIFACT=off MSCR_MODEL_REPOSITORY={repo} {base}'),
                     ('artifact', f'MSCR_MODEL_REPOSITORY={repo} {base}')]
            if moto:
                creds = ' '.join(f'{k}={v}' for k, v in s3_env.items())
                spawn.append(('moto-s3', f'{creds} MSCR_MODEL_REPOSITORY=s3://models/repo {base}'))
            rows = {label: [] for label, _ in spawn}
            rows.update({p: [] for p in peers})
            transfers = []
            artifact_bytes = os.path.getsize(os.path.join(repo, name, '1', 'model.compiled'))
            for r in range(a.rounds):
                cmd = [a.mscr, 'coldstart', '--function', 'detect', '--input', a.image, '--runs', '1', '--json']
                for label, command in spawn:
                    cmd += ['--spawn', command, '--label', label]
                out = json.loads(run(cmd))
                for t in out['targets']:
                    rows[t['label']] += t['runs']
                for p in peers:
                    rows[p].append(peer_once(a, p, onnx, size, cache))
                if moto:
                    # The same object through curl in the same round: the transfer alone.
                    transfers.append(s3_transfer(s3_env, f'models/repo/{name}/1/model.compiled', artifact_bytes))
                    log(f'{name} round {r + 1}: moto transfer of the artifact {transfers[-1]:.0f} ms')
                log(f'{name} round {r + 1}/{a.rounds}: ' + ', '.join(
                    f'{k} {v[-1]["first_answer_ms"]:.0f} ms' for k, v in rows.items()))
            first, warm = first_vs_warm(a, dict(os.environ), repo, functions)
            artifact_size = os.path.getsize(os.path.join(repo, name, '1', 'model.compiled'))
            results[name] = dict(runs=rows, first_forward_ms=first, warm_forward_ms=warm,
                                 artifact_mib=artifact_size / 2**20, s3_transfer_ms=transfers)
    finally:
        if moto:
            moto.stdin.close()
            moto.wait(20)

    def med(xs, key):
        v = [x[key] for x in xs if x.get(key) is not None]
        return statistics.median(v) if v else float('nan')

    print(f'spawn → first detection, {a.rounds} rounds, medians (ms; peak RSS MiB); peers {a.threads} threads\n')
    for name, res in results.items():
        print(f'### {name} (artifact {res["artifact_mib"]:.1f} MiB)\n')
        print('| | spawn → first detection | peak RSS | notes |')
        print('|---|---|---|---|')
        for label, xs in res['runs'].items():
            note = ''
            if label in ('openvino', 'onnxruntime'):
                note = (f'import {med(xs, "import_ms"):.0f}, load {med(xs, "load_ms"):.0f}, '
                        f'first forward {med(xs, "first_forward_ms"):.0f}')
            else:
                note = f'server cold {med(xs, "server_cold_ms"):.0f}, infer {med(xs, "server_infer_ms"):.0f}'
            print(f'| {label} | {med(xs, "first_answer_ms"):.0f} | {med(xs, "peak_rss_mib"):.0f} | {note} |')
        if res['s3_transfer_ms'] and res['runs'].get('moto-s3'):
            t = statistics.median(res['s3_transfer_ms'])
            s3 = med(res['runs']['moto-s3'], 'first_answer_ms')
            print(f'\nmoto S3: the artifact alone (curl, 4 parallel 8 MiB ranged GETs) {t:.0f} ms; spawn → first '
                  f'detection {s3:.0f} ms = transfer + {s3 - t:.0f} ms (goal: ≤ transfer + 350)')
        print(f'\nfirst forward {res["first_forward_ms"]:.1f} ms, warm {res["warm_forward_ms"]:.1f} ms '
              f'({res["first_forward_ms"] / res["warm_forward_ms"]:.2f}×)\n')
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
