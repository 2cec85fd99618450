#!/usr/bin/env python3
"""A fake GCE/Cloud Run metadata server for the gs:// token tests (stdlib only).

GET /computeMetadata/v1/instance/service-accounts/default/token with `Metadata-Flavor: Google`
answers {"access_token": "fake-token-<n>", "expires_in": E, "token_type": "Bearer"} (n counts
the tokens issued); without that header it answers 403, as the real one does.
GET /_count answers {"token_requests": n}.

Prints {"port": N} on stdout once listening on 127.0.0.1 and exits when stdin reaches EOF.
Usage: python3 metadata_server.py [--port 0] [--expires-in 3600]
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
STATE = {"issued": 0, "expires_in": 3600}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_count":
            with LOCK:
                return self.reply(200, {"token_requests": STATE["issued"]})
        if self.path.split("?")[0] != TOKEN_PATH:
            return self.reply(404, {"error": "not found"})
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, {"error": "Missing Metadata-Flavor: Google header"})
        with LOCK:
            STATE["issued"] += 1
            n = STATE["issued"]
        self.reply(200, {"access_token": "fake-token-%d" % n, "expires_in": STATE["expires_in"],
                         "token_type": "Bearer"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--expires-in", type=int, default=3600)
    args = parser.parse_args()
    STATE["expires_in"] = args.expires_in
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
