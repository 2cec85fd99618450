#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 object server for the ObjectStore tests (stdlib only).

Objects are uploaded with  PUT /_objects/<key>  and then read as  GET|HEAD /<scenario>/<key>,
where <scenario> chooses the fault:

  ok            no fault
  flaky-N       the first N requests for each key answer 503 (any method, any key)
  busy-N        the first N requests for each key answer 429 with Retry-After: 0
  stall-N       the first N GETs of each key send headers and half the body, then go silent
  stall         every GET stalls like that
  cut-N         the first N GETs of each key announce the full Content-Length, send half the
                body and close the connection (a broken transfer)
  cut           every GET is cut like that
  mutate-N      like cut-N, and the object changes meanwhile (its ETag too): a resumed
                request with If-Match gets 412
  wrong         the body has one byte flipped in the middle (same length)
  short         the body lacks its last 10 bytes (with a matching Content-Length)
  norange       Range headers are ignored (always 200 and the whole body)
  nohead        HEAD answers 501
Body faults (stall, cut, wrong, short) spare keys ending in manifest.json and index.txt.
Range requests (bytes=a-b, bytes=a-) get 206 with Content-Range, or 416; If-Match is honoured.

GET /_log?contains=TEXT  lists the requests whose path contains TEXT as JSON
[{"method", "path", "range", "if_match", "authorization"}]. Any other path is a logged 404.

Prints {"port": N} on stdout once listening on 127.0.0.1 (port 0 = a free one) and exits when
stdin reaches EOF. Usage: python3 fault_server.py [--port 0] [--stall-seconds 30]
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OBJECTS = {}
COUNTS = {}
LOG = []
LOCK = threading.Lock()
STALL_SECONDS = 30.0


def count(scenario, key):
    with LOCK:
        n = COUNTS.get((scenario, key), 0) + 1
        COUNTS[(scenario, key)] = n
        return n


def limited(scenario, name):
    """For `name-N` returns N, for `name` returns a huge number, else None."""
    if scenario == name:
        return 1 << 60
    if scenario.startswith(name + "-"):
        try:
            return int(scenario[len(name) + 1:])
        except ValueError:
            return None
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with LOCK:
            LOG.append({"method": self.command, "path": self.path,
                        "range": self.headers.get("Range"), "if_match": self.headers.get("If-Match"),
                        "authorization": self.headers.get("Authorization")})

    def send_plain(self, status, text="", extra=None):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self):
        self.record()
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if not self.path.startswith("/_objects/"):
            return self.send_plain(405, "PUT only under /_objects/")
        with LOCK:
            OBJECTS[self.path[len("/_objects/"):]] = body
        self.send_plain(200, "stored")

    def do_HEAD(self):
        self.serve()

    def do_GET(self):
        if self.path.startswith("/_log"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            text = query.get("contains", [""])[0]
            with LOCK:
                entries = [e for e in LOG if text in e["path"]]
            return self.send_plain(200, json.dumps(entries))
        self.serve()

    def serve(self):
        self.record()
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = path.lstrip("/").split("/", 1)
        if len(parts) != 2:
            return self.send_plain(404, "no such object")
        scenario, key = parts
        with LOCK:
            data = OBJECTS.get(key)
        n = count(scenario, key)
        flaky = limited(scenario, "flaky")
        if flaky is not None and n <= flaky:
            return self.send_plain(503, "try again later")
        busy = limited(scenario, "busy")
        if busy is not None and n <= busy:
            return self.send_plain(429, "slow down", {"Retry-After": "0"})
        if self.command == "HEAD" and scenario == "nohead":
            return self.send_plain(501, "no HEAD here")
        if data is None:
            return self.send_plain(404, "no such object")
        body_faults = not (key.endswith("manifest.json") or key.endswith("index.txt"))
        if self.command == "HEAD":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", '"%d-%d"' % (len(data), hash(data) & 0xffffffff))
            self.end_headers()
            return
        gets = count(scenario + "#get", key)
        if body_faults and scenario == "wrong" and data:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        if body_faults and scenario == "short":
            data = data[:-10]
        etag = '"%d-%d"' % (len(data), hash(data) & 0xffffffff)
        if self.headers.get("If-Match") not in (None, "*", etag):
            return self.send_plain(412, "precondition failed")
        total = len(data)
        status, start, end = 200, 0, total - 1
        requested = self.headers.get("Range")
        if requested and scenario != "norange" and requested.startswith("bytes="):
            first, _, last = requested[len("bytes="):].partition("-")
            start = int(first)
            end = min(int(last), total - 1) if last else total - 1
            if start >= total or start > end:
                return self.send_plain(416, "range not satisfiable", {"Content-Range": "bytes */%d" % total})
            status = 206
        chunk = data[start:end + 1]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, total))
        self.end_headers()
        stall = limited(scenario, "stall")
        cut = limited(scenario, "cut")
        mutate = limited(scenario, "mutate")
        if body_faults and mutate is not None and gets <= mutate:
            with LOCK:
                OBJECTS[key] = OBJECTS[key] + b"!"
            cut = 1 << 60
        if body_faults and stall is not None and gets <= stall:
            self.wfile.write(chunk[:len(chunk) // 2])
            self.wfile.flush()
            time.sleep(STALL_SECONDS)
            self.close_connection = True
            return
        if body_faults and cut is not None and gets <= cut:
            self.wfile.write(chunk[:len(chunk) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(chunk)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients hang up on stalled and cut transfers on purpose: no tracebacks.
        pass


def main():
    global STALL_SECONDS
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stall-seconds", type=float, default=30.0)
    args = parser.parse_args()
    STALL_SECONDS = args.stall_seconds
    server = QuietServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
