#!/usr/bin/env python3
"""Warm requests per second of V2 inference over gRPC vs REST, stock and detect, N clients.

Starts `mscr serve` (stock and detect warmed before the port opens) and drives it with
h2load (Debian's nghttp2-client), which costs the 2-core box far less than Python clients:
REST V2 with the binary tensor extension over HTTP/1.1 (`--h1`) and over h2c, and the gRPC
`ModelInfer` call (h2c, `content-type: application/grpc`), each with the same tensors. The
protocols run alternately, round after round, in a rotating order (the box drifts), and the
summary is the median per-round ratio gRPC / REST. `--client triton` drives the same calls
with tritonclient's grpc and http clients instead (one process per client).

  scripts/bench-grpc.py --mscr .build/release/mscr [--repository file://...] \\
      [--clients 10] [--seconds 8] [--rounds 3] [--client h2load|triton]

Without --repository it publishes yolo-fastest-1.1 and trains a stock model (5 epochs) into a
temporary one. Needs tritonclient[grpc] (to build the protobuf bodies and check the answers).
"""
import argparse
import json
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
from tritonclient.grpc import service_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
DOG = os.path.join(SHARED, "data/images/dog.jpg")
GOOG = os.path.join(SHARED, "data/stock/goog-daily.csv")


def log(msg):
    print(f"[bench-grpc {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_repository(mscr, folder):
    repository = "file://" + os.path.join(folder, "models")
    subprocess.run([mscr, "publish", os.path.join(SHARED, "data/models/yolo-fastest-1.1"), "--repository", repository,
                    "--model", "yolo-fastest-1.1"], check=True, capture_output=True)
    stock = os.path.join(folder, "stock-model")
    subprocess.run([mscr, "train", "stock", "--data", GOOG, "--order", "newest-first", "--out", stock,
                    "--epochs", "5"], check=True, capture_output=True)
    subprocess.run([mscr, "publish", stock, "--repository", repository, "--model", "stock-lstm"], check=True,
                   capture_output=True)
    return repository


def window_length(url):
    with urllib.request.urlopen(url + "/v2/models/stock", timeout=30) as r:
        return json.load(r)["inputs"][0]["shape"][1]


def workloads(url):
    """Per workload: the REST V2 binary body, its header length, and the gRPC request."""
    rows = [[float(v) for v in line.split(",")] for line in open(GOOG).read().splitlines()
            if line.strip() and not line.startswith("#")]
    window = np.array([rows[:window_length(url)]], dtype=np.float32)
    image = open(DOG, "rb").read()
    out = {}
    for name, tensor, datatype, raw, outputs in (
            ("stock", "window", "FP32", window.tobytes(), ["close"]),
            ("detect", "image", "BYTES", len(image).to_bytes(4, "little") + image,
             ["boxes", "scores", "classes", "labels"])):
        shape = list(window.shape) if name == "stock" else [1]
        header = json.dumps({"inputs": [{"name": tensor, "datatype": datatype, "shape": shape,
                                         "parameters": {"binary_data_size": len(raw)}}],
                             "outputs": [{"name": o, "parameters": {"binary_data": True}} for o in outputs]}).encode()
        request = service_pb2.ModelInferRequest(model_name=name)
        request.inputs.add(name=tensor, datatype=datatype, shape=shape)
        request.raw_input_contents.append(raw)
        for o in outputs:
            request.outputs.add(name=o)
        out[name] = {"rest": header + raw, "header": len(header), "grpc": request}
    return out


def check_same_answer(url, name, w):
    """The REST binary section equals the gRPC raw outputs (so both paths do the same work)."""
    import grpc
    from tritonclient.grpc import service_pb2_grpc
    req = urllib.request.Request(f"{url}/v2/models/{name}/infer", data=w["rest"], method="POST",
                                 headers={"Inference-Header-Content-Length": str(w["header"])})
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
        n = int(r.headers["Inference-Header-Content-Length"])
    with grpc.insecure_channel(url.removeprefix("http://")) as channel:
        reply = service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(w["grpc"], timeout=60)
    assert b"".join(reply.raw_output_contents) == body[n:], f"{name}: gRPC and REST answers differ"


def cpu_seconds(pid):
    """User + system CPU time of the process so far (/proc/PID/stat, clock ticks)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def h2load(args, url, path, body, headers, h1):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(body)
    cmd = ["h2load", "-c", str(args.clients), "-m", "1", "-D", str(args.seconds), "--warm-up-time", "1",
           "-d", f.name] + (["--h1"] if h1 else [])
    for h in headers:
        cmd += ["-H", h]
    done = subprocess.run(cmd + [url + path], capture_output=True, text=True)
    os.unlink(f.name)
    rps = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", done.stdout)
    ok = re.search(r"requests: .* (\d+) succeeded, (\d+) failed", done.stdout)
    if not rps or not ok or int(ok.group(2)) > 0:
        raise SystemExit(f"h2load failed:\n{done.stdout[-1500:]}\n{done.stderr[-500:]}")
    return float(rps.group(1)), int(ok.group(1))


def triton_worker(kind, address, name, w, seconds, queue):
    if kind == "grpc":
        import tritonclient.grpc as client_module
    else:
        import tritonclient.http as client_module
    # grpcio's BDP pings (one per call here) trip swift-nio-http2's control-frame flood limit
    # (200 per 30 s) after ~1000 calls on a connection, which then closes: see BENCHMARKS.md.
    options = {"channel_args": [("grpc.http2.bdp_probe", 0)]} if kind == "grpc" else {}
    client = client_module.InferenceServerClient(url=address, **options)
    g = service_pb2.ModelInferRequest.FromString(w)
    tensor = g.inputs[0]
    data = (np.frombuffer(g.raw_input_contents[0], dtype=np.float32).reshape(list(tensor.shape))
            if tensor.datatype == "FP32" else np.array([open(DOG, "rb").read()], dtype=np.object_))
    inp = client_module.InferInput(tensor.name, list(tensor.shape), tensor.datatype)
    if kind == "grpc":
        inp.set_data_from_numpy(data)
        outs = [client_module.InferRequestedOutput(o.name) for o in g.outputs]
    else:
        inp.set_data_from_numpy(data, binary_data=True)
        outs = [client_module.InferRequestedOutput(o.name, binary_data=True) for o in g.outputs]
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        client.infer(name, [inp], outputs=outs)
        count += 1
    queue.put(count)


def triton(args, url, name, w, kind):
    # Spawned, not forked: grpcio breaks in a child forked after the parent used it.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [context.Process(target=triton_worker, args=(kind, url.removeprefix("http://"), name,
                                                         w["grpc"].SerializeToString(),
                                                                  args.seconds, queue)) for _ in range(args.clients)]
    start = time.monotonic()
    for p in procs:
        p.start()
    total = sum(queue.get(timeout=args.seconds + 120) for _ in procs)
    for p in procs:
        p.join()
    return total / (time.monotonic() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mscr", required=True)
    parser.add_argument("--repository")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client", choices=["h2load", "triton"], default="h2load")
    parser.add_argument("--json")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="bench-grpc-")
    repository = args.repository or make_repository(args.mscr, scratch)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PORT=str(port), MSCR_FUNCTIONS=os.path.join(ROOT, "functions"),
               MSCR_MODEL_REPOSITORY=repository, MSCR_WARM="stock,detect", LOG_LEVEL="warning")
    server = subprocess.Popen([args.mscr, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("mscr did not start")
                time.sleep(0.2)
        loads = workloads(url)
        results = {name: {"rest-h1": [], "rest-h2c": [], "grpc": []} for name in loads}
        cpu = {name: {p: [] for p in results[name]} for name in loads}
        for name, w in loads.items():
            check_same_answer(url, name, w)
        if args.client == "triton":
            for key in ("rest-h2c",):
                for r in results.values():
                    r.pop(key)
        for round_ in range(args.rounds):
            for name, w in loads.items():
                order = list(results[name])
                order = order[round_ % len(order):] + order[:round_ % len(order)]
                for protocol in order:
                    cpu_before = cpu_seconds(server.pid)
                    count = None
                    if args.client == "triton":
                        rps = triton(args, url, name, w, "grpc" if protocol == "grpc" else "http")
                    elif protocol == "grpc":
                        body = b"\x00" + len(w["grpc"].SerializeToString()).to_bytes(4, "big") + \
                            w["grpc"].SerializeToString()
                        rps, count = h2load(args, url, "/inference.GRPCInferenceService/ModelInfer", body,
                                            ["content-type: application/grpc", "te: trailers"], h1=False)
                    else:
                        rps, count = h2load(args, url, f"/v2/models/{name}/infer", w["rest"],
                                            [f"inference-header-content-length: {w['header']}"],
                                            h1=protocol == "rest-h1")
                    results[name][protocol].append(rps)
                    # Server CPU per request (warm-up second included in the CPU, so a little high).
                    if count:
                        cpu[name][protocol].append((cpu_seconds(server.pid) - cpu_before) * 1e6 / count)
                    log(f"round {round_ + 1} {name} {protocol}: {rps:.1f} req/s"
                        + (f", {cpu[name][protocol][-1]:.0f} us server CPU/request" if count else ""))
        print(f"| workload ({args.clients} clients, {args.client}) | " + " | ".join(
            f"{p} req/s" for p in next(iter(results.values()))) + " | gRPC / REST (median of rounds) |")
        print("|---" * (len(next(iter(results.values()))) + 2) + "|")
        for name, r in results.items():
            rest = "rest-h1"
            ratios = [g / h for g, h in zip(r["grpc"], r[rest])]
            print(f"| {name} | " + " | ".join(f"{statistics.median(v):.1f}" for v in r.values())
                  + f" | {statistics.median(ratios):.3f} (min {min(ratios):.3f}) |")
        if args.client == "h2load":
            print()
            print("| server CPU per request (median of rounds) | " + " | ".join(
                f"{p} µs" for p in next(iter(cpu.values()))) + " | gRPC / REST h1 |")
            print("|---" * (len(next(iter(cpu.values()))) + 2) + "|")
            for name, c in cpu.items():
                print(f"| {name} | " + " | ".join(f"{statistics.median(v):.0f}" for v in c.values())
                      + f" | {statistics.median(c['grpc']) / statistics.median(c['rest-h1']):.3f} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"rps": results, "cpu_us_per_request": cpu}, f, indent=1)
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    main()
