"""Stand-ins for the credential endpoints a cloud runtime gives a process: the ECS container
credentials endpoint, EC2 instance metadata (IMDSv2) and a Google OAuth token endpoint (which
verifies the service-account JWT's RS256 signature), plus a recording reverse proxy. Each runs
on 127.0.0.1 on a free port in a thread of the test process and records what it received."""
import http.client
import http.server
import json
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone


def iso(offset_seconds: float) -> str:
    """An AWS-style Expiration `offset_seconds` from now."""
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def aws_json(credentials: dict, expires_in: float = 3600) -> dict:
    """The JSON the ECS endpoint and IMDS answer, from boto3 `Credentials`."""
    return {"AccessKeyId": credentials["AccessKeyId"], "SecretAccessKey": credentials["SecretAccessKey"],
            "Token": credentials["SessionToken"], "Expiration": iso(expires_in)}


class StandIn:
    """A threaded HTTP server whose `handle(handler, method)` the subclass writes; `received`
    lists (method, path, headers) of every request."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with outer.lock:
                    outer.received.append((method, self.path, dict(self.headers), body))
                outer.handle(self, method, body)

            def do_GET(self):
                self._any("GET")

            def do_PUT(self):
                self._any("PUT")

            def do_POST(self):
                self._any("POST")

            def do_HEAD(self):
                self._any("HEAD")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requests(self):
        with self.lock:
            return list(self.received)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def reply(handler, status, body: bytes, content_type="application/json", headers=(), length=None):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)


class ContainerCredentials(StandIn):
    """`AWS_CONTAINER_CREDENTIALS_FULL_URI` → GET /creds, answering `answer` when the
    Authorization header equals `token`, 401 otherwise. With `lifetime`, each answer expires
    that many seconds after it is given (as a real endpoint's would)."""

    def __init__(self, token: str, answer: dict, lifetime: float = None):
        self.token = token
        self.answer = answer
        self.lifetime = lifetime
        super().__init__()

    def handle(self, handler, method, body):
        if handler.path != "/creds" or method != "GET":
            return self.reply(handler, 404, b"{}")
        if handler.headers.get("Authorization") != self.token:
            return self.reply(handler, 401, b'{"message":"bad authorization token"}')
        answer = dict(self.answer)
        if self.lifetime is not None:
            answer["Expiration"] = iso(self.lifetime)
        self.reply(handler, 200, json.dumps(answer).encode())


class InstanceMetadata(StandIn):
    """IMDSv2: PUT /latest/api/token (TTL header required) gives a session token; the
    credential paths answer only with that token in X-aws-ec2-metadata-token."""
    ROLE = "mscr-instance-role"
    SESSION = "imds-session-token-1"

    def __init__(self, answer: dict, available: bool = True):
        self.answer = answer
        self.available = available
        super().__init__()

    def handle(self, handler, method, body):
        base = "/latest/meta-data/iam/security-credentials/"
        if not self.available:
            return self.reply(handler, 404, b"", "text/plain")
        if handler.path == "/latest/api/token" and method == "PUT":
            if not handler.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(handler, 400, b"missing TTL", "text/plain")
            return self.reply(handler, 200, self.SESSION.encode(), "text/plain")
        if handler.headers.get("X-aws-ec2-metadata-token") != self.SESSION:
            return self.reply(handler, 401, b"", "text/plain")
        if handler.path == base and method == "GET":
            return self.reply(handler, 200, self.ROLE.encode(), "text/plain")
        if handler.path == base + self.ROLE and method == "GET":
            return self.reply(handler, 200, json.dumps({"Code": "Success", "Type": "AWS-HMAC", **self.answer}).encode())
        self.reply(handler, 404, b"", "text/plain")


class GoogleTokenEndpoint(StandIn):
    """An OAuth 2.0 token endpoint for the JWT-bearer grant: verifies the assertion's RS256
    signature with `public_key` (python `cryptography`) and its claims, then hands out
    `access_token`; `claims` keeps the verified claims of each accepted JWT."""

    def __init__(self, public_key, audience: str, access_token: str):
        self.public_key = public_key
        self.audience = audience
        self.access_token = access_token
        self.claims = []
        self.refused = []
        super().__init__()

    @property
    def token_uri(self):
        return self.url + "/token"

    def handle(self, handler, method, body):
        import base64
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.exceptions import InvalidSignature

        def b64(part):
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        form = urllib.parse.parse_qs(body.decode())
        try:
            assert handler.path == "/token" and method == "POST", "not POST /token"
            assert form.get("grant_type") == ["urn:ietf:params:oauth:grant-type:jwt-bearer"], "grant_type"
            header, claims, signature = form["assertion"][0].split(".")
            self.public_key.verify(b64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
            assert json.loads(b64(header)) == {"alg": "RS256", "typ": "JWT"}, "header"
            payload = json.loads(b64(claims))
            assert payload["aud"] == self.audience, "aud"
            assert payload["exp"] - payload["iat"] == 3600, "lifetime"
            assert abs(payload["iat"] - time.time()) < 120, "iat"
            assert "devstorage" in payload["scope"], "scope"
        except (AssertionError, KeyError, ValueError, InvalidSignature) as error:
            self.refused.append(repr(error))
            return self.reply(handler, 400, json.dumps(
                {"error": "invalid_grant", "error_description": f"invalid JWT signature or claims: {error!r}"}).encode())
        self.claims.append(payload)
        self.reply(handler, 200, json.dumps(
            {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}).encode())


class RecordingProxy(StandIn):
    """Forwards every request to `backend` (host, port) and records its headers: it shows
    what the client sent to a server that does not check authorization (the GCS emulator)."""

    def __init__(self, backend_host: str, backend_port: int):
        self.backend = (backend_host, backend_port)
        super().__init__()

    def handle(self, handler, method, body):
        connection = http.client.HTTPConnection(*self.backend, timeout=30)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        connection.request(method, handler.path, body=body or None, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        passed = [(k, v) for k, v in answer.getheaders()
                  if k.lower() not in ("content-length", "connection", "transfer-encoding", "content-type", "server", "date")]
        # A HEAD answer has no body but the GET's length.
        length = answer.getheader("Content-Length") if method == "HEAD" else None
        self.reply(handler, answer.status, data, answer.getheader("Content-Type") or "application/octet-stream", passed,
                   length)
        connection.close()
