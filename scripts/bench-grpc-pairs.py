#!/usr/bin/env python3
"""Server CPU per warm request over gRPC and over REST (HTTP/1.1 and/or h2c), for one or more
builds in the same minutes: a warm server of each build runs at once, and bursts of REQUESTS
requests at 10 clients (h2load, the bodies `bench-grpc.py` builds) go to each build and protocol
in a shuffled order, round after round; each burst's server CPU is read in nanoseconds from
/proc/PID/task/*/schedstat. The servers are restarted every few rounds (a process keeps a speed
of its own). This is how two builds are compared on a shared box whose speed drifts by 10 % or
more from minute to minute, which `bench-grpc.py` (one build, timed windows) cannot do.

    scripts/bench-grpc-pairs.py MSCR [MSCR...] [--name stock|detect] [--requests 3000]
        [--rounds 10] [--protocols grpc,h1] [--clients 10] [--env NAME=VALUE...]
        [--repository file://...]

Prints each round, then per build and protocol the mean CPU per request and requests/s, and per
build the mean per-round ratio gRPC / REST h1 of both. Without --repository it publishes
yolo-fastest-1.1 and trains a stock model into a temporary one (as bench-grpc.py does).
"""
import argparse
import glob
import importlib.util
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_grpc", os.path.join(HERE, "bench-grpc.py"))
bench_grpc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_grpc)


def cpu_ns(pid):
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            total += int(open(path).read().split()[0])
        except OSError:
            pass  # a thread that ended
    return total


def start(binary, repository, extra):
    port = bench_grpc.free_port()
    env = dict(os.environ, PORT=str(port), MSCR_FUNCTIONS=os.path.join(bench_grpc.ROOT, "functions"),
               MSCR_MODEL_REPOSITORY=repository, MSCR_WARM="stock,detect", LOG_LEVEL="warning", **extra)
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            return process, url
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"bench-grpc-pairs: {binary} did not start")
            time.sleep(0.1)


def burst(url, protocol, workload, name, requests, clients):
    """Seconds h2load took for `requests` requests (every one must succeed)."""
    with tempfile.NamedTemporaryFile(delete=False) as f:
        if protocol == "grpc":
            message = workload["grpc"].SerializeToString()
            f.write(b"\0" + len(message).to_bytes(4, "big") + message)
            headers = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
            path, h1 = "/inference.GRPCInferenceService/ModelInfer", []
        else:
            f.write(workload["rest"])
            headers = ["-H", f"Inference-Header-Content-Length: {workload['header']}"]
            path, h1 = f"/v2/models/{name}/infer", (["--h1"] if protocol == "h1" else [])
    out = subprocess.run(["h2load", "-n", str(requests), "-c", str(clients), "-m", "1", "-d", f.name] + h1 + headers
                         + [url + path], capture_output=True, text=True).stdout
    os.unlink(f.name)
    ok = re.search(r"(\d+) succeeded, (\d+) failed", out)
    took = re.search(r"finished in ([\d.]+)(m?s)", out)
    if not ok or ok.group(2) != "0" or not took:
        raise SystemExit(f"bench-grpc-pairs: h2load failed:\n{out[-1500:]}")
    return float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+", metavar="MSCR")
    parser.add_argument("--repository")
    parser.add_argument("--name", choices=["stock", "detect"], default="stock")
    parser.add_argument("--requests", type=int, help="requests per burst (default 3000 stock, 200 detect)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--protocols", default="grpc,h1", help="of grpc, h1, h2c")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--restart-every", type=int, default=2, metavar="K")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="for every server")
    args = parser.parse_args()
    requests = args.requests or (3000 if args.name == "stock" else 200)
    protocols = args.protocols.split(",")
    extra = dict(e.split("=", 1) for e in args.env)
    repository = args.repository or bench_grpc.make_repository(args.binaries[0], tempfile.mkdtemp(prefix="bgp-"))
    label = {b: f"{i}:{os.path.basename(b)}" for i, b in enumerate(args.binaries)}
    results = {(b, p): [] for b in args.binaries for p in protocols}
    servers, workload = {}, None
    bench_grpc.log(f"{len(args.binaries)} builds, {args.rounds} rounds of {requests} {args.name} requests "
                   f"per build and protocol, load average {os.getloadavg()}")
    try:
        for r in range(args.rounds):
            if r % args.restart_every == 0:
                for process, _ in servers.values():
                    process.terminate()
                    process.wait()
                servers = {b: start(b, repository, extra) for b in args.binaries}
                if workload is None:
                    workload = bench_grpc.workloads(next(iter(servers.values()))[1])[args.name]
                for _, url in servers.values():
                    for p in protocols:  # warm the connections' code paths
                        burst(url, p, workload, args.name, max(20, requests // 10), args.clients)
            order = [(b, p) for b in args.binaries for p in protocols]
            random.Random(r).shuffle(order)
            for b, p in order:
                process, url = servers[b]
                before = cpu_ns(process.pid)
                seconds = burst(url, p, workload, args.name, requests, args.clients)
                results[(b, p)].append(((cpu_ns(process.pid) - before) / requests / 1000, requests / seconds))
            print(f"round {r}: " + "  ".join(f"{label[b]}/{p} {results[(b, p)][-1][0]:.1f} µs {results[(b, p)][-1][1]:.0f}/s"
                                             for b in args.binaries for p in protocols), flush=True)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()
    print(f"\n{args.name}, {args.clients} clients: mean server CPU per request, mean requests/s")
    for b in args.binaries:
        for p in protocols:
            v = results[(b, p)]
            print(f"  {label[b]:24} {p:5} {statistics.mean(x[0] for x in v):9.1f} µs {statistics.mean(x[1] for x in v):9.0f}/s")
    if "grpc" in protocols and "h1" in protocols:
        for b in args.binaries:
            cpu = [g[0] / h[0] for g, h in zip(results[(b, "grpc")], results[(b, "h1")])]
            rps = [g[1] / h[1] for g, h in zip(results[(b, "grpc")], results[(b, "h1")])]
            print(f"  {label[b]:24} gRPC / REST h1: CPU {statistics.mean(cpu):.3f} (median {statistics.median(cpu):.3f}), "
                  f"requests/s {statistics.mean(rps):.3f} (median {statistics.median(rps):.3f})")


if __name__ == "__main__":
    sys.exit(main())
