"""Abuse (issue 8): paths that try to leave the repository or the web root, credentials and
tokens that must never reach a log line or an error body, request size limits on every route
that reads a body, and admin endpoints that are off without a token."""
import json
import socket
import urllib.error
import urllib.request

import pytest

from conftest import SHARED, Server

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY-s3cr3t"
TOKEN = "admin-token-that-must-not-leak-7f3a9c"
OAUTH = "ya29.oauth-token-that-must-not-leak-11aa22bb"


def request(url, method="GET", body=None, headers=None):
    r = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r, timeout=60) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw_get(port, target: str):
    """A GET with the target sent byte for byte (urllib would normalise `..`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1]), reply


@pytest.fixture(scope="module")
def server(demo_repository):
    s = Server({**demo_repository.env, "MSCR_ADMIN_TOKEN": TOKEN, "LOG_LEVEL": "trace"})
    yield s
    s.stop()


TRAVERSALS = [
    "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/../../../../etc/passwd",
    "/static/..%5c..%5c..%5cetc%5cpasswd",
    "/static/%252e%252e%252fetc%252fpasswd",
    "/static//etc/passwd",
    "/../../../../etc/passwd",
    "/v2/models/..%2F..%2F..%2Fetc%2Fpasswd",
    "/v2/models/..%2F..%2Fstock-lstm/versions/1",
    "/readyz?function=..%2F..%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_paths_cannot_escape_the_web_root_or_the_repository(server, target):
    status, reply = raw_get(server.port, target)
    assert status in (400, 404), reply[:300]
    assert b"root:" not in reply


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..", "detect%00"])
def test_function_names_cannot_escape(server, name):
    status, body = request(server.url + f"/functions/{name}", "POST", b"x", {"Content-Type": "text/plain"})
    assert status == 404, body
    status, body = request(server.url + f"/admin/functions/{name}/reload", "POST", b"",
                           {"Authorization": f"Bearer {TOKEN}"})
    assert status == 404, body


def test_admin_needs_the_whole_token(server):
    for header in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TOKEN[:-1]}"},
                   {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Basic {TOKEN}"}):
        status, body = request(server.url + "/admin/functions/stock/reload", "POST", b"", header)
        assert status == 401, (header, body)
        assert TOKEN.encode() not in body
    status, body = request(server.url + "/admin/functions/stock/reload", "POST", b"",
                           {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body


def test_without_a_token_there_are_no_admin_routes(demo_repository):
    s = Server(demo_repository.env)
    try:
        status, _ = request(s.url + "/admin/functions/stock/reload", "POST", b"", {"Authorization": "Bearer x"})
        assert status == 404
    finally:
        s.stop()


def test_every_body_has_a_limit(server):
    """Feedback (1 MiB), V2 infer and the functions (their maxBodyBytes) all refuse oversize bodies."""
    big = b"1," * (1 << 20)
    for path in ("/functions/stock/feedback", "/v2/models/stock/infer", "/functions/stock"):
        status, body = request(server.url + path, "POST", big, {"Content-Type": "text/csv"})
        assert status == 413, (path, body[:200])


def test_credentials_and_tokens_never_reach_logs_or_error_bodies(tmp_path, demo_repository):
    """An S3 repository whose endpoint refuses the key, with every secret the process knows set,
    at LOG_LEVEL=trace: the cold start fails (503) and neither the error body, /functions, the
    metrics nor any log line contains a secret; failed admin calls do not echo the token."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**demo_repository.env, "MSCR_MODEL_REPOSITORY": "s3://models/repo",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID",
           "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": SECRET + "-session", "AWS_REGION": "us-east-1",
           "GOOGLE_OAUTH_ACCESS_TOKEN": OAUTH, "MSCR_ADMIN_TOKEN": TOKEN, "LOG_LEVEL": "trace",
           "MSCR_STORE_RETRIES": "2", "MSCR_STORE_DEADLINE": "3"}
    s = Server(env)
    try:
        bodies = []
        status, body = request(s.url + "/functions/stock", "POST", b"1,1,1,1,1\n" * 8, {"Content-Type": "text/csv"})
        assert status == 503, body
        bodies.append(body)
        bodies.append(request(s.url + "/functions")[1])
        bodies.append(request(s.url + "/metrics")[1])
        bodies.append(request(s.url + "/admin/functions/stock/reload", "POST", b"",
                              {"Authorization": f"Bearer {SECRET}"})[1])
        bodies.append(request(s.url + "/v2/models/stock")[1])
    finally:
        s.stop()
    logs = s.proc.stdout.read()
    assert b"AKIAEXAMPLEKEYID" in logs or b"s3://models/repo" in logs  # the logs did talk about the store
    for secret in (SECRET, TOKEN, OAUTH):
        assert secret.encode() not in logs, f"{secret[:8]}… in the logs"
        for body in bodies:
            assert secret.encode() not in body, f"{secret[:8]}… in a reply"
