#!/usr/bin/env python3
"""The load scenarios of RELIABILITY.md (issue 8), against the release binary on loopback.

    scripts/reliability.py [SCENARIO...] [--minutes M] [--out results.json]

Scenarios: original-stock, original-detect (10 users x 1000 requests, as the original load
test), burst (10x the detect concurrency limit), swap (a new stock-lstm version published and
reloaded over HTTP during load), rollback (stock follows the `stable` alias; `mscr models pin`
picked up by the version poller, then `mscr models rollback` + the reload route, during load),
memory (six detect functions on one large model, a memory budget that fits two, requests spread
over all six: evictions, 503s and peak RSS against the budget; MSCR_BENCH_MODEL_DIR names a
Darknet folder, default yolo-fastest-1.1-xl from ../shared), kill (one of three instances behind the local HTTPS front end
killed with SIGKILL during load), soak (M minutes, default 30, of steady mixed load, RSS
sampled every 10 s). Default: all but soak. Each scenario starts fresh servers, prints one JSON
line of results and appends it to --out; the last line is the markdown table RELIABILITY.md
shows. Needs `make run`'s demo repository (scripts seed it into a temp folder) and, for kill,
nginx and openssl (runtime/local/cloudrun-local.sh).
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BINARY = os.environ.get("MSCR_BINARY", str(ROOT / ".build/release/mscr"))
DOG = SHARED / "data/images/dog.jpg"
CSV = ROOT / "Sources/Runtime/Web/sample-goog.csv"
ENV_BASE = {"MSCR_FUNCTIONS": str(ROOT / "functions"), "LOG_LEVEL": "warning"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int, field="VmRSS") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """Samples the RSS of some pids every `every` seconds until stopped."""

    def __init__(self, pids, every=0.2):
        super().__init__(daemon=True)
        self.pids, self.every, self.samples = list(pids), every, []
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            total = 0.0
            for pid in self.pids:
                try:
                    total += rss_mib(pid)
                except OSError:
                    pass
            self.samples.append((time.time(), total))
            self.stop_event.wait(self.every)

    def stop(self):
        self.stop_event.set()
        self.join()
        return max((s for _, s in self.samples), default=0.0)


class Server:
    def __init__(self, repository: pathlib.Path, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {**os.environ, **ENV_BASE, "MSCR_MODEL_REPOSITORY": "file://" + str(repository),
                "PORT": str(self.port), **(env or {})}
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([BINARY, "serve"], env=full, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


def load(url, function, body, users, requests, extra=()):
    """`mscr load ... --json`; returns its report."""
    command = [BINARY, "load", url, "--function", function, "--input", str(body), "--users", str(users),
               "--requests", str(requests), "--json", "--allow-failures", *extra]
    if os.cpu_count() and os.cpu_count() > 1 and shutil.which("taskset"):
        command = ["taskset", "-c", str(os.cpu_count() - 1), *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"mscr load failed: {done.stderr}")
    return json.loads(done.stdout)


def row(scenario, command, report, peak_rss, outcome, note=""):
    return {"scenario": scenario, "command": command, "sent": report["sent"], "failed": report["failed"],
            "status": report["status"], "p50_ms": report["latency_ms"]["p50"], "p99_ms": report["latency_ms"]["p99"],
            "rps": report["rps"], "peak_rss_mib": round(peak_rss, 1), "outcome": outcome, "note": note}


# ---------------------------------------------------------------- scenarios

def original(repository, function):
    server = Server(repository)
    sampler = Sampler([server.proc.pid])
    sampler.start()
    body = DOG if function == "detect" else CSV
    report = load(server.url, function, body, 10, 1000)
    peak = sampler.stop()
    code = server.stop()
    ok = report["failed"] == 0 and report["succeeded"] == 1000 and code == 0
    return row(f"original-{function}", f"mscr load URL --function {function} --users 10 --requests 1000",
               report, peak, "holds" if ok else "FAILS")


def burst(repository):
    """detect's limit is 4 concurrent (function.json) with MSCR_QUEUE_DEPTH=4 places to wait:
    40 users is 10x the limit. Allowed answers: 200, 429 or 503 (both with Retry-After)."""
    server = Server(repository, {"MSCR_QUEUE_DEPTH": "4"})
    sampler = Sampler([server.proc.pid])
    sampler.start()
    report = load(server.url, "detect", DOG, 40, 4000)
    peak = sampler.stop()
    code = server.stop()
    bad = {s: n for s, n in report["status"].items() if s not in ("200", "429", "503")}
    transport = sum(v for k, v in report["errors"].items() if k not in ("4xx", "5xx"))
    ok = not bad and transport == 0 and code == 0 and report["status"].get("200", 0) > 0
    r = row("burst-10x-detect", "mscr load URL --function detect --users 40 --requests 4000 (limit 4, queue 4)",
            report, peak, "holds" if ok else "FAILS",
            f"answers {report['status']}; server queue p99 {report['server_ms']['queue']['p99']} ms")
    r["failed"] = sum(bad.values()) + transport  # 429s are the documented answer, not failures
    return r


def swap(repository):
    token = "reliability-token"
    work = pathlib.Path(tempfile.mkdtemp())
    models = work / "models"
    shutil.copytree(repository, models)
    trained = work / "stock-v2"
    subprocess.run([BINARY, "train", "stock", "--data", str(SHARED / "data/stock/goog-daily.csv"), "--order",
                    "newest-first", "--out", str(trained), "--epochs", "5"], check=True, capture_output=True)
    server = Server(models, {"MSCR_ADMIN_TOKEN": token})
    sampler = Sampler([server.proc.pid])
    sampler.start()
    result = {}
    runner = threading.Thread(target=lambda: result.update(load(server.url, "stock", CSV, 10, 20000)))
    runner.start()
    time.sleep(1.0)
    subprocess.run([BINARY, "publish", str(trained), "--repository", "file://" + str(models), "--model",
                    "stock-lstm"], check=True, capture_output=True)
    request = urllib.request.Request(server.url + "/admin/functions/stock/reload", method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        reload = json.load(r)
    runner.join()
    peak = sampler.stop()
    with urllib.request.urlopen(server.url + "/functions", timeout=10) as r:
        state = {f["name"]: f for f in json.load(r)["functions"]}["stock"]
    code = server.stop()
    shutil.rmtree(work)
    ok = result["failed"] == 0 and state["version"] == 2 and code == 0
    return row("swap-under-load", "mscr load URL --function stock --users 10 --requests 20000; "
               "mscr publish (v2) + POST /admin/functions/stock/reload after 1 s", result, peak,
               "holds" if ok else "FAILS", f"reload answered {reload}; serving version after: {state['version']}")


def functions_following(alias: str, work: pathlib.Path) -> pathlib.Path:
    """A copy of ./functions whose stock function follows `alias` instead of latest."""
    functions = work / "functions"
    shutil.copytree(ROOT / "functions", functions)
    config = json.loads((functions / "stock/function.json").read_text())
    config["version"] = alias
    (functions / "stock/function.json").write_text(json.dumps(config))
    return functions


def served_version(url, name):
    with urllib.request.urlopen(url + "/functions", timeout=10) as r:
        return {f["name"]: f for f in json.load(r)["functions"]}[name]


def wait_for(condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def rollback(repository):
    token = "reliability-token"
    work = pathlib.Path(tempfile.mkdtemp())
    models = work / "models"
    shutil.copytree(repository, models)
    uri = "file://" + str(models)
    trained = work / "stock-v2"
    subprocess.run([BINARY, "train", "stock", "--data", str(SHARED / "data/stock/goog-daily.csv"), "--order",
                    "newest-first", "--out", str(trained), "--epochs", "5"], check=True, capture_output=True)
    subprocess.run([BINARY, "publish", str(trained), "--repository", uri, "--model", "stock-lstm"], check=True,
                   capture_output=True)
    subprocess.run([BINARY, "models", "pin", "--model", "stock-lstm", "--version", "1", "--repository", uri],
                   check=True, capture_output=True)
    server = Server(models, {"MSCR_ADMIN_TOKEN": token, "MSCR_VERSION_POLL": "0.5",
                             "MSCR_FUNCTIONS": str(functions_following("stable", work))})
    sampler = Sampler([server.proc.pid])
    sampler.start()
    result = {}
    runner = threading.Thread(target=lambda: result.update(load(server.url, "stock", CSV, 10, 20000)))
    runner.start()
    steps = []
    wait_for(lambda: served_version(server.url, "stock")["requests"] > 500)
    subprocess.run([BINARY, "models", "pin", "--model", "stock-lstm", "--version", "2", "--repository", uri],
                   check=True, capture_output=True)
    pinned_at = time.time()
    steps.append(("pin 2 seen by the poller", wait_for(lambda: served_version(server.url, "stock")["version"] == 2),
                  round(time.time() - pinned_at, 2)))
    subprocess.run([BINARY, "models", "rollback", "--model", "stock-lstm", "--repository", uri], check=True,
                   capture_output=True)
    request = urllib.request.Request(server.url + "/admin/functions/stock/reload", method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        reload = json.load(r)
    state = served_version(server.url, "stock")
    steps.append(("rollback + reload route", state["version"] == 1, reload))
    runner.join()
    peak = sampler.stop()
    state = served_version(server.url, "stock")
    code = server.stop()
    shutil.rmtree(work)
    ok = result["failed"] == 0 and all(s[1] for s in steps) and state["version"] == 1 and code == 0
    return row("pin-and-rollback-under-load", "mscr load URL --function stock --users 10 --requests 20000; "
               "stock follows 'stable'; mscr models pin 2 (poller, 0.5 s) then mscr models rollback + reload route",
               result, peak, "holds" if ok else "FAILS",
               f"steps {steps}; serving version after: {state['version']} (follows {state.get('follows')})")



def memory(repository):
    """Six functions on one model, a budget for two: every request to a cold function evicts the
    least recently used idle one. Outcome: no answer but 200 or 503 + Retry-After, the process
    alive, peak RSS within the budget plus the runtime's own baseline."""
    work = pathlib.Path(tempfile.mkdtemp())
    models = work / "models"
    source = pathlib.Path(os.environ.get("MSCR_BENCH_MODEL_DIR", str(SHARED / "data/models/yolo-fastest-1.1-xl")))
    subprocess.run([BINARY, "publish", str(source), "--repository", "file://" + str(models), "--model", "big"],
                   check=True, capture_output=True)
    functions = work / "functions"
    for i in range(1, 7):
        (functions / f"d{i}").mkdir(parents=True)
        (functions / f"d{i}" / "function.json").write_text(json.dumps({
            "name": f"d{i}", "kind": "darknet-yolo", "model": "big", "limits": {"concurrency": 2}}))
    # One function alone first, to read its size from the budget's own accounting.
    probe = Server(models, {"MSCR_FUNCTIONS": str(functions), "MSCR_MEMORY_LIMIT": "none"})
    baseline = rss_mib(probe.proc.pid)
    post(probe.url + "/functions/d1", DOG.read_bytes())
    one = metric_value(probe.url, "mscr_memory_charged_bytes")
    loaded_rss = rss_mib(probe.proc.pid)
    probe.stop()
    limit = int(one * 2.5)
    server = Server(models, {"MSCR_FUNCTIONS": str(functions), "MSCR_MEMORY_LIMIT": str(limit)})
    sampler = Sampler([server.proc.pid])
    sampler.start()
    statuses, lock = {}, threading.Lock()
    latencies = []

    def user(seed):
        import random
        rnd = random.Random(seed)
        for _ in range(40):
            started = time.time()
            status, headers = post(f"{server.url}/functions/d{rnd.randint(1, 6)}", DOG.read_bytes())
            ok = status == 200 or (status == 503 and headers.get("Retry-After"))
            with lock:
                statuses[str(status) if ok else f"bad-{status}"] = statuses.get(str(status) if ok else f"bad-{status}", 0) + 1
                latencies.append((time.time() - started) * 1000)

    users = [threading.Thread(target=user, args=(i,)) for i in range(4)]
    for t in users:
        t.start()
    for t in users:
        t.join()
    peak = sampler.stop()
    evictions = metric_value(server.url, "mscr_function_evictions_total", total=True)
    alive = server.proc.poll() is None
    code = server.stop()
    shutil.rmtree(work)
    latencies.sort()
    sent = sum(statuses.values())
    failed = sum(n for k, n in statuses.items() if k.startswith("bad-"))
    within = peak <= limit / 1048576 + baseline + 64
    report = {"sent": sent, "failed": failed, "status": statuses, "rps": 0,
              "latency_ms": {"p50": round(latencies[len(latencies) // 2], 1), "p99": round(latencies[int(len(latencies) * 0.99)], 1)}}
    ok = failed == 0 and alive and code == 0 and within and evictions > 0 and statuses.get("200", 0) > 0
    return row("memory-budget-6-functions", f"6 functions on {source.name}, MSCR_MEMORY_LIMIT={limit} (2.5 x one "
               "loaded function), 4 users x 40 requests to random functions", report, peak,
               "holds" if ok else "FAILS",
               f"answers {statuses}; evictions {int(evictions)}; one function charged {one / 1048576:.1f} MiB "
               f"(RSS {baseline:.1f} MiB idle, {loaded_rss:.1f} MiB with it loaded); budget {limit / 1048576:.1f} MiB; "
               f"peak RSS {peak:.1f} MiB")


def post(url, body):
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "image/jpeg"})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            r.read()
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, dict(e.headers)


def metric_value(url, name, total=False):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        lines = r.read().decode().splitlines()
    values = [float(l.rsplit(" ", 1)[1]) for l in lines if l.startswith(name + " ") or l.startswith(name + "{")]
    return sum(values) if total else (values[0] if values else 0.0)


def kill(repository):
    work = pathlib.Path(tempfile.mkdtemp())
    state_file = work / "state.json"
    env = {**os.environ, **ENV_BASE, "MSCR_MODEL_REPOSITORY": "file://" + str(repository), "MSCR_BINARY": BINARY}
    front = subprocess.Popen([str(ROOT / "runtime/local/cloudrun-local.sh"), "-n", "3", "-p", "0", "-s",
                              str(state_file)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not state_file.exists() and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    state = json.loads(state_file.read_text())
    pids = [i["pid"] for i in state["instances"]]
    sampler = Sampler(pids)
    sampler.start()
    result = {}
    runner = threading.Thread(target=lambda: result.update(
        load(state["url"], "stock", CSV, 10, 20000, ["--insecure"])))
    runner.start()
    time.sleep(1.5)
    os.kill(pids[0], signal.SIGKILL)
    runner.join()
    peak = sampler.stop()
    front.send_signal(signal.SIGTERM)
    front.wait(60)
    shutil.rmtree(work)
    ok = result["failed"] == 0
    return row("kill-1-of-3", "runtime/local/cloudrun-local.sh -n 3; mscr load https://… --function stock "
               "--users 10 --requests 20000 --insecure; kill -9 one instance after 1.5 s", result, peak,
               "holds" if ok else "FAILS", "peak RSS: the three instances together")


def soak(repository, minutes):
    """Steady mixed load in 1-minute windows (stock at 40 req/s, detect at 8 req/s), RSS
    sampled every 10 s. Holds when no request fails, the RSS of the last five windows is within
    5 % (+2 MiB) of windows 2-6, and the p99 of the last windows is not above twice the first's."""
    server = Server(repository)
    sampler = Sampler([server.proc.pid], every=10)
    sampler.start()
    windows = []
    for minute in range(minutes):
        out = {}
        a = threading.Thread(target=lambda: out.update(stock=load(
            server.url, "stock", CSV, 4, 10**6, ["--rate", "40", "--duration", "60"])))
        b = threading.Thread(target=lambda: out.update(detect=load(
            server.url, "detect", DOG, 2, 10**6, ["--rate", "8", "--duration", "60"])))
        a.start(); b.start(); a.join(); b.join()
        rss = rss_mib(server.proc.pid)
        windows.append({"minute": minute + 1, "rss_mib": round(rss, 1),
                        "stock": {k: out["stock"][k] for k in ("sent", "failed")} | {"p99": out["stock"]["latency_ms"]["p99"]},
                        "detect": {k: out["detect"][k] for k in ("sent", "failed")} | {"p99": out["detect"]["latency_ms"]["p99"]}})
        print(json.dumps(windows[-1]), file=sys.stderr, flush=True)
    peak = sampler.stop()
    code = server.stop()
    sent = sum(w["stock"]["sent"] + w["detect"]["sent"] for w in windows)
    failed = sum(w["stock"]["failed"] + w["detect"]["failed"] for w in windows)
    early = statistics.median(w["rss_mib"] for w in windows[1:6]) if len(windows) >= 6 else windows[0]["rss_mib"]
    late = statistics.median(w["rss_mib"] for w in windows[-5:])
    p99_first = max(windows[0]["stock"]["p99"], 1.0)
    p99_last = statistics.median(w["stock"]["p99"] for w in windows[-5:])
    ok = failed == 0 and late <= early * 1.05 + 2 and p99_last <= 2 * p99_first and code == 0
    report = {"sent": sent, "failed": failed, "status": {}, "rps": round(sent / (60 * minutes), 1),
              "latency_ms": {"p50": statistics.median(w["stock"]["p99"] for w in windows),
                             "p99": max(w["stock"]["p99"] for w in windows)}}
    r = row(f"soak-{minutes}min", f"scripts/reliability.py soak --minutes {minutes}", report, peak,
            "holds" if ok else "FAILS",
            f"RSS windows 2-6 median {early:.1f} MiB, last 5 {late:.1f} MiB; stock p99 first window "
            f"{windows[0]['stock']['p99']} ms, last 5 median {p99_last} ms; p50/p99 columns: median/max of "
            f"the per-minute stock p99")
    r["windows"] = windows
    return r


def seed(work: pathlib.Path) -> pathlib.Path:
    repository = work / "models"
    subprocess.run([BINARY, "models", "seed", "--repository", "file://" + str(repository)], check=True,
                   capture_output=True)
    return repository


def markdown(rows):
    lines = ["| scenario | requests | failures | p50 ms | p99 ms | peak RSS MiB | outcome |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['sent']} | {r['failed']} | {r['p50_ms']} | {r['p99_ms']} | "
                     f"{r['peak_rss_mib']} | {r['outcome']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*")
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--out", default="reliability-results.json")
    args = parser.parse_args()
    names = args.scenarios or ["original-stock", "original-detect", "burst", "swap", "rollback", "memory", "kill"]
    work = pathlib.Path(tempfile.mkdtemp())
    repository = seed(work)
    rows = []
    for name in names:
        started = time.time()
        if name.startswith("original-"):
            r = original(repository, name.split("-", 1)[1])
        elif name == "burst":
            r = burst(repository)
        elif name == "swap":
            r = swap(repository)
        elif name == "rollback":
            r = rollback(repository)
        elif name == "memory":
            r = memory(repository)
        elif name == "kill":
            r = kill(repository)
        elif name == "soak":
            r = soak(repository, args.minutes)
        else:
            raise SystemExit(f"unknown scenario {name}")
        r["seconds"] = round(time.time() - started, 1)
        r["load_average"] = open("/proc/loadavg").read().split()[:3]
        rows.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "windows"}), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(r) + "\n")
    shutil.rmtree(work)
    print(markdown(rows))
    sys.exit(0 if all(r["outcome"] == "holds" for r in rows) else 1)


if __name__ == "__main__":
    main()
