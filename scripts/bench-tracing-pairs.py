#!/usr/bin/env python3
"""Issue 20's tracing cost by many short alternating bursts: two warm stock servers run at once,
one with tracing off and one with every request traced; bursts of requests at 10 clients
(`mscr load`) go to one, then the other, PAIRS times (the order flips every pair). Each burst's
server CPU is read in nanoseconds from /proc/PID/task/*/schedstat, so a burst of a second is
measured to well under 0.1 %; the machine's drift (CPU frequency, the host's other tenants,
which on these shared vCPUs moves CPU per request by ±5 % from minute to minute) hits both
sides of a pair alike, and many pairs average it out. The servers are restarted every few rounds:
each process has a speed of its own (±3 % between processes, whatever the build), so one pair
of processes, however long it runs, measures mostly which processes it got.

    scripts/bench-tracing-pairs.py [--pairs 40] [--requests 3000] [--endpoint sink|URL] [--baseline MSCR]
                                   [--traceparent]

Prints each pair and then the mean and median of the per-pair on/off ratios of CPU per request,
with a 95 % bootstrap interval of the mean (resampling whole server processes), and the same for requests per second. --baseline
runs an off and an on server of a second binary too, its bursts interleaved with the first's in
every round (order rotated), and prints its ratios and the per-round difference, so a change
is compared with its baseline in the same minutes. With
--mallocs PRELOAD.so (a library counting malloc calls that writes "calls bytes" to
$MALLOC_COUNT_FILE on SIGUSR2) it also prints allocations per request.

Env: MSCR_BINARY (default .build/release/mscr). The traced servers export to a sink in this
script that answers at once and counts the spans (so every span is encoded and sent, as with a
collector, whose own work stays off the box); --endpoint http://127.0.0.1:9 sends them nowhere,
which measures less than the real cost: the exporter retries with back-off, the queue fills,
and most spans are dropped before they are encoded.
"""

import argparse
import glob
import http.server
import threading
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV = os.path.join(ROOT, "Sources/Runtime/Web/sample-goog.csv")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ns(pid):
    """The process's CPU time so far, in nanoseconds (all threads, living ones)."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just exited
    return total


class Server:
    def __init__(self, mscr, models, traced, endpoint, work, preload):
        self.port = free_port()
        self.traced = traced
        self.count_file = os.path.join(work, f"mallocs-{self.port}")
        env = dict(os.environ, PORT=str(self.port), MSCR_FUNCTIONS="functions",
                   MSCR_MODEL_REPOSITORY=f"file://{models}", MSCR_WARM="stock", LOG_LEVEL="warning")
        for k in [k for k in env if k.startswith("OTEL_")]:
            del env[k]
        if traced:
            env.update(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="mscr-bench")
        if preload:
            env.update(LD_PRELOAD=preload, MALLOC_COUNT_FILE=self.count_file)
        self.proc = subprocess.Popen([mscr, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{self.port}/healthz"
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"bench-tracing-pairs: the {'traced' if traced else 'untraced'} server exited")
                time.sleep(0.05)
        sys.exit("bench-tracing-pairs: the server did not answer /healthz in 30 s")

    def mallocs(self):
        """(calls, bytes) so far, from the preloaded counter."""
        try:
            os.remove(self.count_file)
        except FileNotFoundError:
            pass
        self.proc.send_signal(signal.SIGUSR2)
        for _ in range(200):
            if os.path.exists(self.count_file) and os.path.getsize(self.count_file) > 0:
                with open(self.count_file) as f:
                    calls, size = f.read().split()
                return int(calls), int(size)
            time.sleep(0.005)
        sys.exit("bench-tracing-pairs: the malloc counter did not answer (is --mallocs a counting library?)")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


# Headers every request carries (--traceparent: a caller's W3C trace, as Cloud Run sends on every request).
HEADERS = []
CALLER_TRACEPARENT = "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def load(mscr, server, requests):
    out = subprocess.run([mscr, "load", f"http://127.0.0.1:{server.port}", "--function", "stock", "--input", CSV,
                          "--users", "10", "--requests", str(requests), "--json"]
                         + [arg for header in HEADERS for arg in ("--header", header)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def burst(mscr, server, requests, preload):
    m0 = server.mallocs() if preload else (0, 0)
    c0 = cpu_ns(server.proc.pid)
    result = load(mscr, server, requests)
    c1 = cpu_ns(server.proc.pid)
    m1 = server.mallocs() if preload else (0, 0)
    if result["failed"]:
        sys.exit(f"bench-tracing-pairs: {result['failed']} requests failed")
    return {"cpu_us": (c1 - c0) / 1e3 / requests, "rps": result["rps"],
            "mallocs": (m1[0] - m0[0]) / requests, "bytes": (m1[1] - m0[1]) / requests}


def fields(data):
    """(field number, bytes) of the length-delimited fields of a protobuf message."""
    i, out = 0, []
    while i < len(data):
        key, i = varint(data, i)
        kind = key & 7
        if kind == 2:
            n, i = varint(data, i)
            out.append((key >> 3, data[i:i + n]))
            i += n
        elif kind == 0:
            _, i = varint(data, i)
        elif kind == 1:
            i += 8
        elif kind == 5:
            i += 4
        else:
            raise ValueError("unexpected wire type")
    return out


def varint(data, i):
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


class Sink:
    """An OTLP/HTTP endpoint that answers 200 at once and only counts what it gets: every span
    is then encoded and exported as with a real collector (an endpoint that refuses connections
    makes the exporter retry with back-off while the queue fills, and most spans are dropped
    before they are encoded), and the collector's own work stays off the cores (it reads the
    bodies and counts bytes; the spans of the first body are counted to estimate the rest)."""

    def __init__(self):
        self.bytes = 0
        self.exports = 0
        self.bytes_per_span = None
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.bytes += len(body)
                sink.exports += 1
                if sink.bytes_per_span is None:
                    spans = sum(sum(1 for n, _ in fields(scope) if n == 2) for _, resource in fields(body)
                                for number, scope in fields(resource) if number == 2)
                    sink.bytes_per_span = len(body) / max(spans, 1)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def publish_stock_model(mscr, work):
    """Trains a stock model (5 epochs) and publishes it to file://WORK/models as stock-lstm."""
    subprocess.run([mscr, "train", "stock", "--data", os.path.join(ROOT, "../shared/data/stock/goog-daily.csv"),
                    "--order", "newest-first", "--out", f"{work}/stock", "--epochs", "5"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([mscr, "publish", f"{work}/stock", "--repository", f"file://{work}/models", "--model",
                    "stock-lstm"], check=True, stdout=subprocess.DEVNULL)


def interval(ratios, block=1):
    """The mean of `ratios` and a 95 % bootstrap interval of it, resampling blocks of `block`
    consecutive values (the rounds of one set of server processes, which are not independent)."""
    blocks = [ratios[i:i + block] for i in range(0, len(ratios), block)]
    rng = random.Random(1)
    means = sorted(statistics.fmean(v for b in rng.choices(blocks, k=len(blocks)) for v in b) for _ in range(4000))
    return statistics.fmean(ratios), means[100], means[3899]


def summary(label, rows, block):
    cpu = [on["cpu_us"] / off["cpu_us"] for off, on in rows]
    rps = [on["rps"] / off["rps"] for off, on in rows]
    for name, ratios in (("server CPU per request", cpu), ("requests/s", rps)):
        mean, low, high = interval(ratios, block)
        print(f"{label}{name}, on/off: mean {mean:.4f} (95 % interval {low:.4f}-{high:.4f}), "
              f"median {statistics.median(ratios):.4f}")
    print(f"{label}CPU us per request: off {statistics.fmean(o['cpu_us'] for o, _ in rows):.1f}, "
          f"on {statistics.fmean(n['cpu_us'] for _, n in rows):.1f}")
    if rows[0][0]["mallocs"]:
        print(f"{label}allocations per request: off {statistics.fmean(o['mallocs'] for o, _ in rows):.1f} "
              f"({statistics.fmean(o['bytes'] for o, _ in rows):.0f} bytes), "
              f"on {statistics.fmean(n['mallocs'] for _, n in rows):.1f} "
              f"({statistics.fmean(n['bytes'] for _, n in rows):.0f} bytes)")
    return cpu


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=40)
    p.add_argument("--requests", type=int, default=3000, help="requests per burst")
    p.add_argument("--endpoint", default="sink",
                   help="where the traced servers export: 'sink' (default: an endpoint in this script that "
                        "answers 200 at once and counts the spans), or a URL (http://127.0.0.1:9: nowhere)")
    p.add_argument("--mallocs", metavar="PRELOAD.so")
    p.add_argument("--baseline", metavar="MSCR", help="a second binary measured in the same rounds")
    p.add_argument("--restart-every", type=int, default=2, metavar="K",
                   help="start fresh servers every K rounds (default 2): a server process keeps its own speed "
                        "for its life (memory layout, where its threads run), ±3 %% from one to the next, so the "
                        "mean must span many processes")
    p.add_argument("--probe", metavar="COMMAND",
                   help="run after every round, its output printed with the round's line (e.g. the vCPU probe, "
                        "scripts/vcpu-probe.c: whether the host placed the two vCPUs apart meanwhile)")
    p.add_argument("--traceparent", action="store_true",
                   help="every request carries a caller's sampled traceparent (Cloud Run sends one on every "
                        "request): the traced server continues it, the untraced one reads it for its log lines")
    args = p.parse_args()
    if args.traceparent:
        HEADERS.append(CALLER_TRACEPARENT)
    mscr = os.environ.get("MSCR_BINARY", os.path.join(ROOT, ".build/release/mscr"))
    preload = os.path.abspath(args.mallocs) if args.mallocs else None
    sink = Sink() if args.endpoint == "sink" else None
    endpoint = sink.url if sink else args.endpoint
    builds = [("", mscr)] + ([("baseline ", os.path.abspath(args.baseline))] if args.baseline else [])
    with tempfile.TemporaryDirectory() as work:
        print("bench-tracing-pairs: training and publishing the stock model", file=sys.stderr)
        publish_stock_model(mscr, work)
        servers = {}

        def start():
            for b, (_, binary) in enumerate(builds):
                for traced in (False, True):
                    servers[b, traced] = Server(binary, f"{work}/models", traced, endpoint, work, preload)
            for server in servers.values():
                load(mscr, server, 1000)  # past the first requests' one-time costs

        try:
            start()
            with open("/proc/loadavg") as f:
                print(f"bench-tracing-pairs: load average {' '.join(f.read().split()[:3])}; {args.pairs} rounds of "
                      f"{args.requests} requests per server; then off and on: CPU us per request, requests/s",
                      file=sys.stderr)
            rows = [[] for _ in builds]
            keys = list(servers)
            for i in range(args.pairs):
                if i and i % args.restart_every == 0:
                    for server in servers.values():
                        server.stop()
                    start()
                # Rotated, and reversed every other round, so no server always goes first.
                order = keys[i % len(keys):] + keys[:i % len(keys)]
                if i % 2:
                    order.reverse()
                r = {key: burst(mscr, servers[key], args.requests, preload) for key in order}
                line = f"{i + 1:3d}"
                for b, (label, _) in enumerate(builds):
                    off, on = r[b, False], r[b, True]
                    rows[b].append((off, on))
                    line += (f"   {label}off {off['cpu_us']:6.1f} {off['rps']:6.0f}  on {on['cpu_us']:6.1f} "
                             f"{on['rps']:6.0f}  cpu on/off {on['cpu_us'] / off['cpu_us']:.3f}")
                if args.probe:
                    probe = subprocess.run(args.probe, shell=True, capture_output=True, text=True).stdout.strip()
                    line += f"   probe: {probe}"
                print(line, flush=True)
        finally:
            for server in servers.values():
                server.stop()
    if sink:
        # Warm-ups included; each traced request has a server span and two phases.
        traced = (args.pairs * args.requests + (args.pairs + args.restart_every - 1) // args.restart_every * 1000)
        spans = sink.bytes / sink.bytes_per_span if sink.bytes_per_span else 0
        print(f"the sink received {sink.exports} exports, {sink.bytes / 1e6:.1f} MB: about {spans:.0f} spans "
              f"(3 per traced request would be {3 * traced * len(builds)})")
    ratios = [summary(label, r, args.restart_every) for (label, _), r in zip(builds, rows)]
    if len(ratios) == 2:
        mean, low, high = interval([a - b for a, b in zip(*ratios)], args.restart_every)
        print(f"CPU on/off, this build minus the baseline, per round: mean {mean:+.4f} "
              f"(95 % interval {low:+.4f} to {high:+.4f})")
        for traced, mode in ((False, "off"), (True, "on")):
            side = 1 if traced else 0
            mean, low, high = interval([a[side]["cpu_us"] / b[side]["cpu_us"] for a, b in zip(*rows)],
                                       args.restart_every)
            print(f"CPU per request with tracing {mode}, this build / the baseline, per round: mean {mean:.4f} "
                  f"(95 % interval {low:.4f}-{high:.4f})")


if __name__ == "__main__":
    main()
