#!/usr/bin/env python3
"""Issue 20's tracing cost in instructions: warm stock servers run under Valgrind's callgrind,
with tracing off and with every request traced and exported (to the same counting sink as
scripts/bench-tracing-pairs.py); each gets REQUESTS requests at 10 clients after a warm-up, and
the instructions the whole server process executed during them (every thread: event loops,
the function's pool, the span exporter) are divided by the requests.

    scripts/count-tracing-instructions.py [--requests 1000] [--processes 3] [--baseline MSCR] [--top 40]
                                          [--traceparent] [--keep DIR]

Unlike CPU time this does not move with the host: a burst counted twice in one process gives
the same count to 0.05 %. What still differs is one process from the next, by a few tenths of
a percent (the Swift runtime's metadata and conformance caches are hash tables whose probe
lengths depend on what the process happened to look up first), so each mode runs in
--processes servers and the counts are averaged. It counts user-space instructions, not
time: no cache misses, no kernel work (the export's POST is a few per thousand requests). Read
it next to the CPU-time ratio of scripts/bench-tracing-pairs.py, which has those and the noise.

--top N prints the N functions whose own instructions per request grew most with tracing on
(callgrind's exclusive cost, summed over the processes): where the cost is, to the instruction.
--baseline runs a second binary the same way and prints its counts too.

Needs valgrind (apt-get install valgrind). The binaries are copied without their DWARF debug
information (Valgrind 3.19 cannot read Swift's DWARF 5; the symbols stay).

Env: MSCR_BINARY (default .build/release/mscr).
"""

import argparse
import collections
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("pairs", os.path.join(ROOT, "scripts/bench-tracing-pairs.py"))
pairs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pairs)


def callgrind_server(binary, models, traced, endpoint, work, label):
    port = pairs.free_port()
    env = dict(os.environ, PORT=str(port), MSCR_FUNCTIONS="functions", MSCR_MODEL_REPOSITORY=f"file://{models}",
               MSCR_WARM="stock", LOG_LEVEL="warning")
    for k in [k for k in env if k.startswith("OTEL_")]:
        del env[k]
    if traced:
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="mscr-bench")
    out = os.path.join(work, f"callgrind.{label}")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "serve"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + 300
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"count-tracing-instructions: the server exited under valgrind:\n"
                         f"{proc.stderr.read().decode(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                proc.kill()
                sys.exit("count-tracing-instructions: the server did not answer /healthz under valgrind in 300 s")
            time.sleep(0.5)
    server = type("S", (), {})()
    server.port, server.proc, server.out = port, proc, out
    return server


def control(server, command):
    subprocess.run(["callgrind_control", command, str(server.proc.pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def self_costs(path):
    """Exclusive instructions per function of a callgrind dump (names decompressed)."""
    tables = collections.defaultdict(dict)
    cost = collections.Counter()
    fn = None
    skip = False

    def name(text, table):
        m = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not m:
            return text
        if m.group(2):
            tables[table][m.group(1)] = m.group(2)
        return tables[table].get(m.group(1), text)

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                fn = name(line[3:], "fn")
            elif line.startswith("cfn="):
                name(line[4:], "fn")
            elif line.startswith(("fl=", "fi=", "fe=", "cfi=", "cfl=")):
                name(line.split("=", 1)[1], "fl")
            elif line.startswith("calls="):
                skip = True  # the next cost line is the call's inclusive cost
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                if skip:
                    skip = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and fn is not None:
                    cost[fn] += int(parts[1])
    return cost


def measure(binary, models, traced, endpoint, work, label, requests, keep):
    """(instructions per request, self costs) of one server process."""
    server = callgrind_server(binary, models, traced, endpoint, work, label)
    try:
        pairs.load(binary, server, 300)  # past the first requests' one-time costs
        control(server, "-z")
        result = pairs.load(binary, server, requests)
        if result["failed"]:
            sys.exit(f"count-tracing-instructions: {result['failed']} requests failed")
        control(server, "-d")
        dumps = sorted((p for p in os.listdir(work) if p.startswith(f"callgrind.{label}.")),
                       key=lambda p: os.path.getmtime(os.path.join(work, p)))
        if not dumps:
            sys.exit("count-tracing-instructions: callgrind wrote no dump")
        path = os.path.join(work, dumps[-1])
        with open(path) as f:
            total = next(int(line.split()[1]) for line in f if line.startswith("summary:"))
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(path, os.path.join(keep, f"callgrind.{label}"))
        return total / requests, self_costs(path)
    finally:
        server.proc.terminate()
        server.proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=1000, help="requests per counted burst")
    p.add_argument("--processes", type=int, default=3, help="servers per mode (their counts are averaged)")
    p.add_argument("--baseline", metavar="MSCR", help="a second binary counted the same way")
    p.add_argument("--top", type=int, default=0, metavar="N")
    p.add_argument("--traceparent", action="store_true",
                   help="every request carries a caller's sampled traceparent, as on Cloud Run")
    p.add_argument("--keep", metavar="DIR", help="copy the callgrind dumps there (for callgrind_annotate)")
    args = p.parse_args()
    if args.traceparent:
        pairs.HEADERS.append(pairs.CALLER_TRACEPARENT)
    for tool in ("valgrind", "callgrind_control", "objcopy"):
        if not shutil.which(tool):
            sys.exit(f"count-tracing-instructions: needs {tool} (apt-get install valgrind binutils)")
    mscr = os.environ.get("MSCR_BINARY", os.path.join(ROOT, ".build/release/mscr"))
    sink = pairs.Sink()
    builds = [("", mscr)] + ([("baseline ", os.path.abspath(args.baseline))] if args.baseline else [])
    with tempfile.TemporaryDirectory() as work:
        print("count-tracing-instructions: training and publishing the stock model", file=sys.stderr)
        pairs.publish_stock_model(mscr, work)
        for b, (label, binary) in enumerate(builds):
            stripped = os.path.join(work, f"mscr-{b}")
            subprocess.run(["objcopy", "--strip-debug", binary, stripped], check=True)
            counts = {False: [], True: []}
            costs = {False: collections.Counter(), True: collections.Counter()}
            for i in range(args.processes):
                for traced in (False, True) if i % 2 == 0 else (True, False):
                    mode = "on" if traced else "off"
                    print(f"count-tracing-instructions: {label or 'this build '}tracing {mode}, process {i + 1}",
                          file=sys.stderr)
                    n, c = measure(stripped, f"{work}/models", traced, sink.url, work, f"{b}-{mode}-{i}",
                                   args.requests, args.keep)
                    counts[traced].append(n)
                    costs[traced].update(c)
            off = sum(counts[False]) / len(counts[False])
            on = sum(counts[True]) / len(counts[True])
            print(f"{label}instructions per request: off {off:,.0f} "
                  f"({', '.join(f'{v:,.0f}' for v in counts[False])}), "
                  f"on {on:,.0f} ({', '.join(f'{v:,.0f}' for v in counts[True])}); "
                  f"on - off {on - off:+,.0f}, on/off {on / off:.4f}")
            if args.top:
                scale = args.processes * args.requests
                grown = sorted(((costs[True][k] - costs[False][k]) / scale, k)
                               for k in set(costs[True]) | set(costs[False]))
                names = subprocess.run(["swift", "demangle", "--simplified"],
                                       input="\n".join(k for _, k in grown), capture_output=True,
                                       text=True).stdout.split("\n") if shutil.which("swift") else None
                pretty = dict(zip((k for _, k in grown), names)) if names else {}
                print(f"{label}own instructions per request that grew most with tracing on:")
                for v, k in grown[::-1][:args.top]:
                    print(f"  {v:+8.0f}  {pretty.get(k, k)[:140]}")
                print(f"{label}... and shrank most:")
                for v, k in grown[:5]:
                    print(f"  {v:+8.0f}  {pretty.get(k, k)[:140]}")


if __name__ == "__main__":
    main()
