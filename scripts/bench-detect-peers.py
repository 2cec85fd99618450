#!/usr/bin/env python3
"""Detection forward latency: mscr against ONNX Runtime and OpenCV DNN, interleaved.

The engines run in short alternating bursts (rounds), each a fresh process with its own
warm-up, in an order that rotates from round to round. On a shared 2-core VM the machine's
speed drifts by 20-30 % over tens of seconds (clock boost, neighbours); back-to-back runs of a
whole benchmark per engine then compare different machines. A round's engines run within a few
seconds of each other, so the per-round ratio compares like with like, and the summary is the
median of those paired ratios (with the worst one and how many rounds met the goal).

Usage (peers from ../shared/tools/peers; Python needs onnxruntime, opencv-python-headless<5, numpy):

  scripts/bench-detect-peers.py --mscr .build/release/mscr \\
      --cfg ../shared/data/models/darknet-cfg/yolov3.cfg --weights yolov3-random.weights --size 416 \\
      --threads 2 --rounds 8 --runs 5 --warmup 2 ../shared/data/images/dog.jpg

Prints progress on stderr, a Markdown table on stdout; --json FILE also writes every number.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TOOLS = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'tools'))


def log(msg):
    print(f'[bench-detect-peers {time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def run_json(cmd, env):
    """Runs `cmd` and returns the last JSON object it printed on stdout."""
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f'{cmd[0]} {" ".join(cmd[1:3])}... exited {p.returncode}:\n{p.stderr[-2000:]}')
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith('{')]
    if not lines:
        raise SystemExit(f'no JSON from {" ".join(cmd)}:\n{p.stdout[-1000:]}\n{p.stderr[-1000:]}')
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('image')
    ap.add_argument('--mscr', required=True, help='the mscr binary (a release build)')
    ap.add_argument('--cfg', required=True)
    ap.add_argument('--weights', required=True)
    ap.add_argument('--size', type=int, help='network input size (default: the cfg\'s)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--rounds', type=int, default=8)
    ap.add_argument('--runs', type=int, default=5, help='timed forwards per engine per round')
    ap.add_argument('--warmup', type=int, default=2, help='untimed forwards per engine per round')
    ap.add_argument('--peers', default='ort,opencv', help='comma-separated: ort, opencv')
    ap.add_argument('--tools', default=DEFAULT_TOOLS, help='the shared tools directory (peers/ inside)')
    ap.add_argument('--onnx', help='ONNX file for ONNX Runtime (default: converted once into --work)')
    ap.add_argument('--work', default=os.path.normpath(os.path.join(HERE, '..', '.build', 'bench-peers')))
    ap.add_argument('--json', help='also write every number here')
    ap.add_argument('--interleave', choices=['round', 'run'], default='round',
                    help='round: each engine\'s own benchmark script, in alternating processes (default); '
                         'run: one forward of each engine in turn, peers in this process, mscr with --step')
    ap.add_argument('--gap', type=float, default=0.02, help='seconds of rest between two engines\' forwards (run mode)')
    a = ap.parse_args()

    peers_dir = os.path.join(a.tools, 'peers')
    if not os.path.isdir(peers_dir):
        raise SystemExit(f'no peers at {peers_dir} (pass --tools)')
    sys.path[:0] = [a.tools, peers_dir]  # the peers' modules, for --interleave run
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([a.tools, peers_dir] + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    peers = [p for p in a.peers.split(',') if p]
    for p in peers:
        if p not in ('ort', 'opencv'):
            raise SystemExit(f'unknown peer {p!r} (ort, opencv)')

    size_args = ['--size', str(a.size)] if a.size else []
    onnx = a.onnx
    if 'ort' in peers and not onnx:
        os.makedirs(a.work, exist_ok=True)
        stem = os.path.splitext(os.path.basename(a.weights))[0]
        onnx = os.path.join(a.work, f'{stem}-{a.size or "cfg"}.onnx')
        if not os.path.exists(onnx) or os.path.getmtime(onnx) < os.path.getmtime(a.weights):
            log(f'converting {a.weights} to {onnx} (darknet2onnx.py)')
            subprocess.run([sys.executable, os.path.join(peers_dir, 'darknet2onnx.py'), a.cfg, a.weights, onnx]
                           + size_args, env=env, check=True, stdout=subprocess.DEVNULL)

    common = ['--threads', str(a.threads), '--runs', str(a.runs), '--warmup', str(a.warmup)]
    commands = {
        'mscr': [a.mscr, 'bench', 'detect', '--cfg', a.cfg, '--weights', a.weights] + size_args + common + [a.image],
        'ort': [sys.executable, os.path.join(peers_dir, 'ort_bench.py'), onnx or '', a.cfg, a.image] + common,
        'opencv': [sys.executable, os.path.join(peers_dir, 'yolo_ref.py'), 'bench', '--cfg', a.cfg,
                   '--weights', a.weights, '--size', str(a.size or cfg_size(a.cfg))] + common + [a.image],
    }
    engines = ['mscr'] + peers
    if a.interleave == 'run':
        return run_by_run(a, engines, peers, commands['mscr'], onnx)
    names = {}
    rounds = []
    for r in range(a.rounds):
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        row = {'round': r + 1, 'loadavg': round(os.getloadavg()[0], 2), 'order': order}
        for e in order:
            out = run_json(commands[e], env)
            names[e] = out.get('engine') or ('mscr ' + out.get('model', ''))
            f = out['forward_ms']
            row[e] = {'median': f['median'], 'min': f['min'], 'max': f['max']}
            if e == 'mscr':
                row[e]['first'] = out.get('first_forward_ms')
                row[e]['gflops'] = out.get('gflops')
        fastest = min(peers, key=lambda p: row[p]['median']) if peers else None
        if fastest:
            row['faster_peer'] = fastest
            row['ratio'] = round(row['mscr']['median'] / row[fastest]['median'], 3)
        rounds.append(row)
        log(f'round {r + 1}/{a.rounds}: ' + ', '.join(f'{e} {row[e]["median"]:.2f} ms' for e in engines)
            + (f' → mscr / {fastest} {row["ratio"]:.3f}' if fastest else ''))

    summary = {}
    for e in engines:
        meds = [row[e]['median'] for row in rounds]
        summary[e] = {'engine': names[e], 'median_of_medians': round(statistics.median(meds), 3),
                      'min': round(min(row[e]['min'] for row in rounds), 3),
                      'median_range': [round(min(meds), 3), round(max(meds), 3)]}
    if peers:
        ratios = [row['ratio'] for row in rounds]
        summary['ratio'] = {'median': round(statistics.median(ratios), 3), 'worst': max(ratios), 'best': min(ratios),
                            'rounds_at_or_below_1': sum(1 for x in ratios if x <= 1.0), 'rounds': len(ratios)}
        firsts = [row['mscr']['first'] / row['mscr']['median'] for row in rounds if row['mscr'].get('first')]
        if firsts:
            summary['mscr_first_over_median'] = round(max(firsts), 3)

    print(f'\n{os.path.basename(a.cfg)} @{a.size or cfg_size(a.cfg)}, {a.threads} thread(s), '
          f'{a.rounds} rounds × {a.runs} runs (+{a.warmup} warm-up), {time.strftime("%Y-%m-%d %H:%M")}\n')
    print('| round | load | ' + ' | '.join(f'{e} median (min) ms' for e in engines) + (' | mscr / faster peer |' if peers else ' |'))
    print('|---' * (len(engines) + 2 + (1 if peers else 0)) + '|')
    for row in rounds:
        cells = ' | '.join(f'{row[e]["median"]:.2f} ({row[e]["min"]:.2f})' for e in engines)
        print(f'| {row["round"]} | {row["loadavg"]} | {cells} |' + (f' {row["ratio"]:.3f} |' if peers else ''))
    cells = ' | '.join(f'**{summary[e]["median_of_medians"]:.2f}** ({summary[e]["min"]:.2f})' for e in engines)
    print(f'| all | | {cells} |' + (f' **{summary["ratio"]["median"]:.3f}** |' if peers else ''))
    if peers:
        s = summary['ratio']
        print(f'\nmscr / faster peer per round: median {s["median"]:.3f}, best {s["best"]:.3f}, worst {s["worst"]:.3f}; '
              f'{s["rounds_at_or_below_1"]} of {s["rounds"]} rounds at or below 1.0.')
    if a.json:
        sys.stdout.flush()
        with open(a.json, 'w') as f:
            json.dump({'args': vars(a), 'rounds': rounds, 'summary': summary}, f, indent=1)


def run_by_run(a, engines, peers, mscr_command, onnx):
    """One forward of each engine in turn (the order rotating), `a.runs` times. mscr runs in its
    own process with `--step`; the peers run here, set up as ort_bench.py and yolo_ref.py do."""
    import cv2
    import yolo_ref as Y
    size = a.size or cfg_size(a.cfg)
    img = cv2.imread(a.image, cv2.IMREAD_COLOR)
    forwards = {}
    if 'ort' in peers:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(onnx, so, providers=['CPUExecutionProvider'])
        inp = sess.get_inputs()[0]
        outs = [o.name for o in sess.get_outputs()]
        blob = cv2.dnn.blobFromImage(img, 1 / 255.0, (inp.shape[3], inp.shape[2]), swapRB=True, crop=False)
        forwards['ort'] = ('onnxruntime ' + ort.__version__, lambda: sess.run(outs, {inp.name: blob}))
    if 'opencv' in peers:
        net = Y.make_net(cv2, a.cfg, a.weights, a.threads)
        names_out = net.getUnconnectedOutLayersNames()
        cv_blob = Y.preprocess(cv2, img, size)

        def cv_forward():
            net.setInput(cv_blob)
            net.forward(names_out)
        forwards['opencv'] = ('opencv-dnn ' + cv2.__version__, cv_forward)
    for name, (_, forward) in forwards.items():
        log(f'{name}: {a.warmup} warm-up forwards')
        for _ in range(a.warmup):
            forward()

    proc = subprocess.Popen(mscr_command + ['--step'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = json.loads(proc.stdout.readline())
    if not ready.get('ready'):
        raise SystemExit(f'mscr did not start: {ready}')

    def mscr_forward():
        proc.stdin.write('run\n')
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())['forward_ms']

    times = {e: [] for e in engines}
    for i in range(a.runs):
        order = engines[i % len(engines):] + engines[:i % len(engines)]
        for e in order:
            if e == 'mscr':
                times[e].append(mscr_forward())
            else:
                t0 = time.perf_counter()
                forwards[e][1]()
                times[e].append((time.perf_counter() - t0) * 1e3)
            time.sleep(a.gap)
        if (i + 1) % max(1, a.runs // 10) == 0:
            log(f'run {i + 1}/{a.runs}: ' + ', '.join(f'{e} {times[e][-1]:.2f} ms' for e in engines))
    proc.stdin.close()
    proc.stdout.read()  # mscr's own summary of its runs; the harness keeps its own
    if proc.wait() != 0:
        raise SystemExit(f'mscr exited {proc.returncode}')

    def stats(xs):
        return {'median': round(statistics.median(xs), 3), 'min': round(min(xs), 3), 'max': round(max(xs), 3),
                'p90': round(sorted(xs)[int(0.9 * (len(xs) - 1))], 3)}
    summary = {e: stats(times[e]) for e in engines}
    summary['mscr']['engine'] = 'mscr'
    for e in peers:
        summary[e]['engine'] = forwards[e][0]
    result = {'args': vars(a), 'mode': 'run', 'times': times, 'summary': summary}
    print(f'\n{os.path.basename(a.cfg)} @{size}, {a.threads} thread(s), {a.runs} forwards of each engine in turn '
          f'(+{a.warmup} warm-up), {time.strftime("%Y-%m-%d %H:%M")}, load {os.getloadavg()[0]:.2f}\n')
    print('| engine | median ms | min ms | p90 ms | max ms |' + (' median / faster peer |' if peers else ''))
    print('|---|---|---|---|---|' + ('---|' if peers else ''))
    fastest = min(peers, key=lambda p: summary[p]['median']) if peers else None
    for e in engines:
        s = summary[e]
        ratio = f' {s["median"] / summary[fastest]["median"]:.3f} |' if fastest else ''
        print(f'| {summary[e]["engine"]} | {s["median"]:.2f} | {s["min"]:.2f} | {s["p90"]:.2f} | {s["max"]:.2f} |{ratio}')
    if fastest:
        paired = sorted(m / p for m, p in zip(times['mscr'], times[fastest]))
        result['paired'] = {'peer': fastest, 'median': round(statistics.median(paired), 3),
                            'at_or_below_1': sum(1 for x in paired if x <= 1.0), 'runs': len(paired)}
        print(f'\nmscr / {summary[fastest]["engine"]}, run by run: median {statistics.median(paired):.3f}; mscr as fast '
              f'or faster in {result["paired"]["at_or_below_1"]} of {len(paired)} runs.')
    if a.json:
        sys.stdout.flush()
        with open(a.json, 'w') as f:
            json.dump(result, f, indent=1)


def cfg_size(cfg):
    with open(cfg) as f:
        for line in f:
            line = line.split('#')[0].strip().replace(' ', '')
            if line.startswith('width='):
                return int(line.split('=')[1])
    return 416


if __name__ == '__main__':
    main()
