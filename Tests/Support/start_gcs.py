#!/usr/bin/env python3
"""Start gcp-storage-emulator on 127.0.0.1 (in memory) with a default bucket.

Prints {"endpoint": "http://127.0.0.1:PORT", "port": PORT, "bucket": NAME, "pid": PID} on
stdout once the emulator answers, and stops it when stdin reaches EOF or on SIGTERM/SIGINT.
Usage: .venv/bin/python Tests/Support/start_gcs.py [--port 0] [--bucket mscr-test]
(STORAGE_EMULATOR_HOST=http://127.0.0.1:PORT points gs:// at it.)
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", default="mscr-test")
    args = parser.parse_args()
    port = args.port or free_port()
    emulator = os.path.join(os.path.dirname(sys.executable), "gcp-storage-emulator")
    proc = subprocess.Popen([emulator, "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory",
                             "--default-bucket", args.bucket],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(*_):
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        if proc.poll() is not None:
            print(json.dumps({"error": f"gcp-storage-emulator exited with {proc.returncode}"}), flush=True)
            os._exit(1)
        try:
            urllib.request.urlopen(f"{endpoint}/storage/v1/b/{args.bucket}", timeout=1).read()
            break
        except Exception:
            if time.time() > deadline:
                proc.kill()
                print(json.dumps({"error": "gcp-storage-emulator did not answer within 30 s"}), flush=True)
                os._exit(1)
            time.sleep(0.1)
    print(json.dumps({"endpoint": endpoint, "port": port, "bucket": args.bucket, "pid": proc.pid}), flush=True)

    def watch():
        while proc.poll() is None:
            time.sleep(0.5)
        print("gcp-storage-emulator exited", file=sys.stderr, flush=True)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    sys.stdin.read()
    stop()


if __name__ == "__main__":
    main()
