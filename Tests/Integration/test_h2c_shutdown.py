"""SIGTERM and HTTP/2 streams in flight: an h2c connection (the transport of gRPC calls and of
REST with prior knowledge) gets the configured `MSCR_SHUTDOWN_GRACE`, not a fixed grace of its
own (it was 30 s). A stream that ends within the grace is answered in full, even past 30 s when
the grace is longer; one that would outlast the grace gets GOAWAY at once and is cut when the
grace ends, not before; the process exits 0 either way."""
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import Server, wait_until


def inflight(server) -> float:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("mscr_inflight_requests"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no mscr_inflight_requests in /metrics")


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl")
def test_an_h2c_stream_within_a_grace_longer_than_30s_is_answered_after_sigterm(mscr_test_function):
    """The request takes 31 s (the test function sleeps) and the grace is 40 s: it is answered
    after SIGTERM. With the old fixed 30 s the connection was closed under it at 30 s."""
    s = Server({**mscr_test_function, "MSCR_SHUTDOWN_GRACE": "40"})
    try:
        client = subprocess.Popen(
            ["curl", "-sS", "--http2-prior-knowledge", "--max-time", "120", "-w", "\n%{http_version} %{http_code}",
             "--data-binary", "x", f"{s.url}/functions/t?sleep_ms=31000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert wait_until(lambda: inflight(s) >= 1, timeout=20), "the h2c request never got in flight"
        s.proc.send_signal(signal.SIGTERM)
        out, err = client.communicate(timeout=90)
        assert client.returncode == 0, err.decode()
        body, status = out.decode().rsplit("\n", 1)
        assert status == "2 200", out.decode()
        assert '"text":"hello"' in body.replace(" ", "")
        assert s.proc.wait(30) == 0
    finally:
        s.stop()


# A minimal HTTP/2 client: enough frames to hold a request's body open and watch what the
# server sends (frame type 0 DATA, 1 HEADERS, 3 RST_STREAM, 4 SETTINGS, 6 PING, 7 GOAWAY).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def header_block(fields) -> bytes:
    """HPACK literal fields without indexing, new names, no Huffman (RFC 7541 6.2.2)."""
    out = b""
    for name, value in fields:
        out += b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
    return out


class H2CStream:
    """One connection with one POST on stream 1 whose body stays open until `finish`."""

    def __init__(self, port: int, path: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buffer = b""
        self.frames = []  # (type, flags, stream) of everything the server sent
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        block = header_block([(":method", "POST"), (":scheme", "http"), (":path", path),
                              (":authority", f"127.0.0.1:{port}"), ("content-type", "application/octet-stream")])
        self.sock.sendall(frame(HEADERS, END_HEADERS, 1, block) + frame(DATA, 0, 1, b"ab"))
        # Frames are handled in order: the PING's answer means the stream is open in the server.
        self.sock.sendall(frame(PING, 0, 0, b"opened!!"))
        assert self.read_until(lambda: (PING, ACK, 0) in self.frames, deadline=30)

    def finish(self):
        self.sock.sendall(frame(DATA, END_STREAM, 1, b"c"))

    def read_until(self, done, deadline: float) -> bool:
        """Reads frames until `done()` holds (True) or the connection closes or `deadline` s pass
        (False)."""
        end = time.monotonic() + deadline
        while not done():
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                return False
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                return done()
            self.buffer += chunk
            while len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[:3], "big")
                if len(self.buffer) < 9 + length:
                    break
                kind, flags, stream = self.buffer[3], self.buffer[4], int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
                if kind == SETTINGS and not flags & ACK:
                    self.sock.sendall(frame(SETTINGS, ACK, 0))
                self.frames.append((kind, flags, stream))
                if kind == HEADERS and stream == 1:
                    self.response_headers = self.buffer[9:9 + length]
                self.buffer = self.buffer[9 + length:]
        return True

    closed = False
    response_headers = b""

    def got(self, kind: int, stream: int) -> bool:
        return any(k == kind and s == stream for k, _, s in self.frames)


def test_an_h2c_stream_gets_goaway_then_is_cut_when_the_grace_ends(mscr_test_function):
    """A request whose body never ends (the client holds the stream; no work is running): SIGTERM
    sends GOAWAY, the stream is not cut before the 3 s grace is over, then the connection is
    closed without an answer on it and the process exits 0."""
    s = Server({**mscr_test_function, "MSCR_SHUTDOWN_GRACE": "3"})
    try:
        h2 = H2CStream(s.port, "/functions/t")
        start = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        assert h2.read_until(lambda: h2.got(GOAWAY, 0), deadline=20), h2.frames
        assert h2.read_until(lambda: h2.closed, deadline=30), f"not closed: {h2.frames}"
        held = time.monotonic() - start
        assert held >= 2.9, f"the stream was cut {held:.2f} s after SIGTERM, within the 3 s grace"
        assert not h2.got(HEADERS, 1) and not h2.got(DATA, 1), h2.frames
        assert s.proc.wait(30) == 0
    finally:
        s.stop()


def test_an_h2c_stream_finished_within_the_grace_is_answered(mscr_test_function):
    """The same held request, finished by the client after the GOAWAY: answered in full."""
    s = Server({**mscr_test_function, "MSCR_SHUTDOWN_GRACE": "20"})
    try:
        h2 = H2CStream(s.port, "/functions/t")
        s.proc.send_signal(signal.SIGTERM)
        assert h2.read_until(lambda: h2.got(GOAWAY, 0), deadline=20), h2.frames
        h2.finish()
        assert h2.read_until(lambda: any(k == DATA and f & END_STREAM and st == 1 for k, f, st in h2.frames)
                             or any(k == HEADERS and f & END_STREAM and st == 1 for k, f, st in h2.frames),
                             deadline=30), h2.frames
        assert h2.got(HEADERS, 1) and not h2.got(RST_STREAM, 1), h2.frames
        assert h2.response_headers[:1] == b"\x88", h2.response_headers  # HPACK's indexed `:status: 200`
        assert s.proc.wait(30) == 0
    finally:
        s.stop()


def test_work_that_outlives_the_grace_ends_the_process_with_status_1_not_a_crash(mscr_test_function):
    """A request still computing when the grace (2 s) ends cannot be cancelled: the process
    logs that it waited and exits 1. Before, ServiceLifecycle's cancellation timeout ended it
    with a fatalError (SIGILL, status 132)."""
    s = Server({**mscr_test_function, "MSCR_SHUTDOWN_GRACE": "2", "MSCR_LOG_FORMAT": "json"})
    try:
        client = subprocess.Popen(
            ["curl", "-sS", "--max-time", "120", "--data-binary", "x", f"{s.url}/functions/t?sleep_ms=60000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert wait_until(lambda: inflight(s) >= 1, timeout=20), "the request never got in flight"
        s.proc.send_signal(signal.SIGTERM)
        status = s.proc.wait(30)
        log = s.proc.stdout.read().decode()
        assert status == 1, f"exit status {status}\n{log[-2000:]}"
        assert "shutdown grace passed with work still running" in log
        assert "Fatal error" not in log
        client.kill()
        client.wait(10)
    finally:
        s.stop()
