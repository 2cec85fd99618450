"""A minimal OTLP/HTTP trace receiver: POST /v1/traces with an ExportTraceServiceRequest
(application/x-protobuf), decoded with the `opentelemetry-proto` package. Used by
Tests/Integration/test_tracing.py and scripts/bench-tracing.sh.

As a script it prints its port on the first line of stdout and serves until stdin closes:
    python Tests/Support/otlp_receiver.py [--count]
"""
import http.server
import sys
import threading

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


class OTLPReceiver:
    """Collects every span it receives, each with its resource's attributes."""

    def __init__(self, keep_spans: bool = True):
        """`keep_spans=False` (benchmarks) decodes every request but only counts its spans: the
        per-span Python work of keeping them cost ~70 us of CPU per traced request, on the same
        cores as the server it measures."""
        self.lock = threading.Lock()
        self.spans = []  # (resource attributes dict, span protobuf)
        self.counted = 0  # spans received when not kept
        self.requests = []  # (path, content type)
        self.batches = []  # spans per export, in order
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # Keep-alive, as OpenTelemetry collectors serve OTLP/HTTP: with HTTP/1.0 every export
            # opened a new connection, and that connect and close cost the exporter's thread more
            # CPU than building the request.
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                with receiver.lock:
                    receiver.requests.append((self.path, self.headers.get("Content-Type")))
                    receiver.batches.append(sum(len(ss.spans) for rs in request.resource_spans
                                                for ss in rs.scope_spans))
                    if not keep_spans:
                        receiver.counted += sum(len(ss.spans) for rs in request.resource_spans
                                                for ss in rs.scope_spans)
                    for rs in request.resource_spans if keep_spans else []:
                        resource = {a.key: value(a.value) for a in rs.resource.attributes}
                        for ss in rs.scope_spans:
                            for span in ss.spans:
                                receiver.spans.append((resource, span))
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.spans)

    def count(self):
        with self.lock:
            return len(self.spans) + self.counted

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def attributes(span) -> dict:
    return {a.key: value(a.value) for a in span.attributes}


if __name__ == "__main__":
    # --count: decode every request, keep no spans (benchmarks).
    r = OTLPReceiver(keep_spans="--count" not in sys.argv[1:])
    print(r.port, flush=True)
    # Serves until stdin closes, then prints how many spans arrived.
    sys.stdin.read()
    print(r.count(), flush=True)
