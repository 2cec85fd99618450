"""The bad-input corpus (issue 8): generated here, never committed. Every case goes to one real
`mscr serve` with the demo models and must get its documented status and the JSON error shape;
between cases the process must keep serving (a good request still answers 200), and at the end
no request may have been answered 5xx and the process must still be the one we started."""
import email
import io
import json
import socket
import struct
import urllib.error
import urllib.request
import zlib

import pytest
from PIL import Image

from conftest import SHARED, Server

DOG = (SHARED / "data/images/dog.jpg").read_bytes()
GIRL = (SHARED / "data/images/girl.png").read_bytes()
GOOG = (SHARED / "data/stock/goog-daily.csv").read_text()
MAX_BODY = 10 * 1024 * 1024  # functions/*/function.json maxBodyBytes


@pytest.fixture(scope="module")
def server(demo_repository):
    s = Server({**demo_repository.env, "MSCR_BODY_TIMEOUT": "2"})
    yield s
    s.stop()


def post(server, path, body: bytes, content_type="application/octet-stream", headers=None):
    if len(body) > MAX_BODY:
        return raw_post(server, path, body, content_type)
    h = {"Content-Type": content_type} if content_type else {}
    h.update(headers or {})
    request = urllib.request.Request(server.url + path, data=body, method="POST", headers=h)
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def raw_post(server, path, body: bytes, content_type):
    """For bodies over the limit, on a connection the client closes after one request: the
    server must read the rest of the body and answer 413, not close on the unread bytes (which
    resets the connection and loses the reply)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as s:
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        s.sendall(head + body)  # a reset (the server closing on unread bytes) fails the test
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = email.message_from_string("\n".join(lines[1:]))
    return status, headers, payload


# ---------------------------------------------------------------- corpus generators

def dog_image() -> Image.Image:
    return Image.open(io.BytesIO(DOG)).convert("RGB")


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes, crc=None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG whose IHDR claims width×height RGB pixels, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """dog.jpg with its SOF frame header patched to claim width×height."""
    data = bytearray(DOG)
    i = 2
    while i < len(data):
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5:i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length
    raise AssertionError("no SOF marker in dog.jpg")


def png16(image: Image.Image) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one): each 8-bit value v becomes v*257."""
    width, height = image.size
    pixels = image.tobytes()
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        line = pixels[y * width * 3:(y + 1) * width * 3]
        rows += bytes(b for v in line for b in (v, v))  # v*257 big-endian is (v, v)
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(bytes(rows)))
            + png_chunk(b"IEND", b""))


def png_with_bad_crc() -> bytes:
    data = bytearray(GIRL)
    # IHDR's CRC sits at bytes 29..32 (8 signature + 4 length + 4 type + 13 data).
    data[29] ^= 0xFF
    return bytes(data)


def corrupt_jpeg() -> bytes:
    """dog.jpg with a run of bytes in the middle of the entropy-coded data overwritten."""
    data = bytearray(DOG)
    middle = len(data) // 2
    data[middle:middle + 2000] = bytes((i * 37) & 0xFF for i in range(2000))
    return bytes(data)


def nested_json(depth: int) -> bytes:
    return b'{"rows": ' + b"[" * depth + b"]" * depth + b"}"


def goog_csv(rows: int) -> str:
    lines = [line for line in GOOG.splitlines() if line.strip() and not line.startswith("#")]
    return "\n".join(lines[:rows]) + "\n"


# ---------------------------------------------------------------- cases
# (id, path, body or a function returning it, content type, expected status, expected error code)

def detect(body, ctype="image/jpeg"):
    return "/functions/detect", body, ctype


def stock(body, ctype="text/csv"):
    return "/functions/stock", body, ctype


BAD = [
    ("jpeg-empty", *detect(b""), 400, "invalid_input"),
    ("jpeg-truncated-half", *detect(lambda: DOG[: len(DOG) // 2]), 422, "unprocessable"),
    ("jpeg-truncated-header", *detect(lambda: DOG[:200]), 422, "unprocessable"),
    ("jpeg-soi-only", *detect(b"\xff\xd8"), 422, "unprocessable"),
    ("jpeg-claims-65500x65500", *detect(lambda: jpeg_claiming(65500, 65500)), 422, "unprocessable"),
    ("png-claims-65500x65500", *detect(lambda: png_claiming(65500, 65500), "image/png"), 422, "unprocessable"),
    ("png-claims-0x0", *detect(lambda: png_claiming(0, 0), "image/png"), 422, "unprocessable"),
    ("png-bad-crc", *detect(png_with_bad_crc, "image/png"), 422, "unprocessable"),
    ("png-truncated", *detect(lambda: GIRL[: len(GIRL) // 3], "image/png"), 422, "unprocessable"),
    ("png-signature-only", *detect(lambda: GIRL[:8], "image/png"), 422, "unprocessable"),
    ("gif", *detect(lambda: encode(dog_image().resize((64, 48)), "GIF"), "image/gif"), 415, "unsupported_media_type"),
    ("bmp-as-octets", *detect(lambda: encode(dog_image().resize((64, 48)), "BMP"), "application/octet-stream"),
     415, "unsupported_media_type"),
    ("webp", *detect(lambda: encode(dog_image().resize((64, 48)), "WEBP"), "image/webp"), 415,
     "unsupported_media_type"),
    ("text-body", *detect(b"hello, this is not an image", "text/plain"), 415, "unsupported_media_type"),
    ("random-bytes", *detect(bytes(range(256)) * 64, "application/octet-stream"), 415, "unsupported_media_type"),
    ("multipart-without-file", *detect(
        b"--xyz\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhello\r\n--xyz--\r\n",
        "multipart/form-data; boundary=xyz"), 400, "invalid_input"),
    ("multipart-unterminated", *detect(
        b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n" + DOG[:100],
        "multipart/form-data; boundary=xyz"), 400, "invalid_input"),
    ("multipart-no-boundary", *detect(b"--xyz\r\n", "multipart/form-data"), 400, "invalid_input"),
    ("detect-oversize", *detect(lambda: b"\xff\xd8" + b"\0" * MAX_BODY), 413, "payload_too_large"),
    ("detect-bad-format-param", "/functions/detect?format=gif", DOG, "image/jpeg", 400, "invalid_input"),
    ("stock-empty", *stock(b""), 400, "invalid_input"),
    ("stock-nan", *stock(lambda: (goog_csv(7) + "NaN,1,1,1,1\n").encode()), 400, "invalid_input"),
    ("stock-inf", *stock(lambda: (goog_csv(7) + "1,inf,1,1,1\n").encode()), 400, "invalid_input"),
    ("stock-huge-number", *stock(lambda: (goog_csv(7) + "1,1e400,1,1,1\n").encode()), 400, "invalid_input"),
    ("stock-wrong-columns", *stock(lambda: (goog_csv(7) + "1,2,3\n").encode()), 400, "invalid_input"),
    ("stock-too-many-columns", *stock(lambda: (goog_csv(7) + "1,2,3,4,5,6\n").encode()), 400, "invalid_input"),
    ("stock-too-few-rows", *stock(lambda: goog_csv(3).encode()), 400, "invalid_input"),
    ("stock-not-numbers", *stock(lambda: (goog_csv(7) + "a,b,c,d,e\n").encode()), 400, "invalid_input"),
    ("stock-non-utf8", *stock(lambda: goog_csv(8).encode() + b"\xff\xfe\xfa,1,1,1,1\n"), 400, "invalid_input"),
    ("stock-nul-bytes", *stock(b"\0" * 4096), 400, "invalid_input"),
    ("stock-json-deeply-nested", *stock(lambda: nested_json(100_000), "application/json"), 400, "invalid_input"),
    ("stock-json-strings", *stock(b'{"rows": [["a","b","c","d","e"]]}', "application/json"), 400, "invalid_input"),
    ("stock-json-null-rows", *stock(b'{"rows": null}', "application/json"), 400, "invalid_input"),
    ("stock-json-not-object", *stock(b"[1,2,3]", "application/json"), 400, "invalid_input"),
    ("stock-json-truncated", *stock(b'{"rows": [[1,2,3,4,5],', "application/json"), 400, "invalid_input"),
    ("stock-json-nan-literal", *stock(b'{"rows": [[NaN,1,1,1,1]]}', "application/json"), 400, "invalid_input"),
    ("stock-json-oversize", *stock(lambda: b'{"rows": [' + b"[1,1,1,1,1]," * (MAX_BODY // 12 + 10) + b"[1,1,1,1,1]]}",
                                   "application/json"), 413, "payload_too_large"),
    ("stock-image-body", *stock(DOG, "image/jpeg"), 415, "unsupported_media_type"),
    ("stock-bad-order", "/functions/stock?order=sideways", b"1,1,1,1,1\n" * 8, "text/csv", 400, "invalid_input"),
    ("unknown-function", "/functions/nope", b"x", "text/plain", 404, "not_found"),
    ("traversal-function", "/functions/..%2F..%2Fetc%2Fpasswd", b"x", "text/plain", 404, None),
]


def v2(body: dict):
    return json.dumps(body).encode()


def window_tensor(shape, data, datatype="FP32", name="window"):
    return v2({"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]})


BAD_V2 = [
    ("v2-shape-larger-than-data", "/v2/models/stock/infer", lambda: window_tensor([1, 7, 5], [1.0] * 20), 400),
    ("v2-shape-smaller-than-data", "/v2/models/stock/infer", lambda: window_tensor([1, 7, 5], [1.0] * 40), 400),
    ("v2-shape-overflow", "/v2/models/stock/infer",
     lambda: window_tensor([4611686018427387904, 4611686018427387904, 5], [1.0] * 35), 400),
    ("v2-shape-negative", "/v2/models/stock/infer", lambda: window_tensor([-1, 7, 5], [1.0] * 35), 400),
    ("v2-wrong-datatype", "/v2/models/stock/infer", lambda: window_tensor([1, 7, 5], [1] * 35, "INT64"), 400),
    ("v2-wrong-input-name", "/v2/models/stock/infer", lambda: window_tensor([1, 7, 5], [1.0] * 35, name="x"), 400),
    ("v2-strings-as-fp32", "/v2/models/stock/infer", lambda: window_tensor([1, 7, 5], ["a"] * 35), 400),
    ("v2-no-inputs", "/v2/models/stock/infer", lambda: v2({"inputs": []}), 400),
    ("v2-not-json", "/v2/models/stock/infer", lambda: b"{{{{", 400),
    ("v2-deeply-nested", "/v2/models/stock/infer", lambda: b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     400),
    ("v2-unknown-model", "/v2/models/nope/infer", lambda: window_tensor([1, 7, 5], [1.0] * 35), 404),
    ("v2-detect-bytes-not-image", "/v2/models/detect/infer",
     lambda: v2({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": ["aGVsbG8="]}]}), None),
]


def binary_v2(header: dict, payload: bytes, declared_header_length=None):
    head = json.dumps(header).encode()
    length = len(head) if declared_header_length is None else declared_header_length
    return head + payload, {"Inference-Header-Content-Length": str(length)}


BAD_V2_BINARY = [
    # The binary tensor extension: the JSON header says how many bytes each tensor has.
    ("v2bin-binary-size-lies", lambda: binary_v2(
        {"inputs": [{"name": "window", "shape": [1, 7, 5], "datatype": "FP32",
                     "parameters": {"binary_data_size": 140}}]}, b"\0" * 60)),
    ("v2bin-header-length-past-body", lambda: binary_v2(
        {"inputs": [{"name": "window", "shape": [1, 7, 5], "datatype": "FP32",
                     "parameters": {"binary_data_size": 140}}]}, b"\0" * 140, declared_header_length=1 << 30)),
    ("v2bin-header-length-negative", lambda: binary_v2(
        {"inputs": [{"name": "window", "shape": [1, 7, 5], "datatype": "FP32",
                     "parameters": {"binary_data_size": 140}}]}, b"\0" * 140, declared_header_length=-5)),
    ("v2bin-shape-disagrees-with-size", lambda: binary_v2(
        {"inputs": [{"name": "window", "shape": [2, 7, 5], "datatype": "FP32",
                     "parameters": {"binary_data_size": 140}}]}, b"\0" * 140)),
]


def assert_error(status, headers, body, expected_status, expected_code, case):
    assert status == expected_status, f"{case}: got {status}: {body[:300]!r}"
    assert headers.get("Content-Type", "").startswith("application/json"), case
    error = json.loads(body)["error"]
    assert error["message"], case
    if expected_code:
        assert error["code"] == expected_code, f"{case}: {error}"


def still_serving(server):
    status, _, body = post(server, "/functions/stock", goog_csv(8).encode(), "text/csv")
    assert status == 200, body
    assert server.proc.poll() is None


@pytest.mark.parametrize("case,path,body,ctype,expected,code", BAD, ids=[c[0] for c in BAD])
def test_bad_native_input_gets_documented_4xx(server, case, path, body, ctype, expected, code):
    data = body() if callable(body) else body
    status, headers, reply = post(server, path, data, ctype)
    if case == "traversal-function":
        assert status == 404, reply
    else:
        assert_error(status, headers, reply, expected, code, case)
    still_serving(server)


@pytest.mark.parametrize("case,path,body,expected", BAD_V2, ids=[c[0] for c in BAD_V2])
def test_bad_v2_input_gets_4xx(server, case, path, body, expected):
    status, headers, reply = post(server, path, body(), "application/json")
    if expected is None:
        assert 400 <= status < 500, f"{case}: {status} {reply[:300]!r}"
    else:
        assert status == expected, f"{case}: {status} {reply[:300]!r}"
    assert "error" in json.loads(reply), case
    still_serving(server)


@pytest.mark.parametrize("case,make", BAD_V2_BINARY, ids=[c[0] for c in BAD_V2_BINARY])
def test_lying_binary_v2_requests_get_400(server, case, make):
    body, headers = make()
    status, _, reply = post(server, "/v2/models/stock/infer", body, "application/octet-stream", headers)
    assert status == 400, f"{case}: {status} {reply[:300]!r}"
    still_serving(server)


GOOD_VARIANTS = [
    ("jpeg-grayscale", lambda: encode(dog_image().convert("L"), "JPEG", quality=90), "image/jpeg"),
    ("jpeg-cmyk", lambda: encode(dog_image().convert("CMYK"), "JPEG", quality=90), "image/jpeg"),
    ("jpeg-progressive", lambda: encode(dog_image(), "JPEG", quality=90, progressive=True), "image/jpeg"),
    ("png-16-bit", lambda: png16(dog_image()), "image/png"),
    ("png-palette", lambda: encode(dog_image().convert("P", palette=Image.Palette.ADAPTIVE), "PNG"), "image/png"),
    ("png-rgba", lambda: encode(dog_image().convert("RGBA"), "PNG"), "image/png"),
    ("png-grayscale-alpha", lambda: encode(dog_image().convert("LA"), "PNG"), "image/png"),
    ("png-interlaced", lambda: encode(dog_image(), "PNG", interlace=1), "image/png"),
    ("jpeg-as-octets", lambda: DOG, "application/octet-stream"),
    ("jpeg-mislabelled-png", lambda: DOG, "image/png"),
]


def classes(reply: bytes) -> set:
    return {d["class"] for d in json.loads(reply)["detections"]}


@pytest.mark.parametrize("case,make,ctype", GOOD_VARIANTS, ids=[c[0] for c in GOOD_VARIANTS])
def test_unusual_but_valid_images_are_detected(server, case, make, ctype):
    """Grayscale, CMYK, progressive, 16-bit, palette and alpha images decode: the reply has the
    image's size and finds what the plain RGB JPEG shows (grayscale may lose a colour-only class,
    so it must find at least the dog)."""
    status, _, reference = post(server, "/functions/detect", DOG, "image/jpeg")
    assert status == 200
    status, _, reply = post(server, "/functions/detect", make(), ctype)
    assert status == 200, f"{case}: {status} {reply[:300]!r}"
    answer = json.loads(reply)
    assert (answer["image"]["width"], answer["image"]["height"]) == (768, 576)
    if case in ("jpeg-grayscale", "png-grayscale-alpha"):
        assert "dog" in classes(reply), f"{case}: {classes(reply)}"
    else:
        assert classes(reply) == classes(reference), f"{case}: {classes(reply)} vs {classes(reference)}"


def test_chunked_oversize_body_is_413_while_streaming(server):
    """No Content-Length: the limit is enforced by counting as the body streams, and the client
    (which, like urllib, sends its whole body before reading) gets the 413 JSON error; a reset
    connection fails the test."""
    def chunks():  # 4 MiB past the limit: more than the socket buffers hold
        yield b"\xff\xd8"
        for _ in range(MAX_BODY // 65536 + 64):
            yield b"\0" * 65536
    request = urllib.request.Request(server.url + "/functions/detect", data=chunks(), method="POST",
                                     headers={"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"})
    with pytest.raises(urllib.error.HTTPError) as reply:
        urllib.request.urlopen(request, timeout=60)
    assert reply.value.code == 413
    assert reply.value.headers["Content-Type"] == "application/json"
    error = json.loads(reply.value.read())["error"]
    assert error["code"] == "payload_too_large", error
    assert str(MAX_BODY) in error["message"], error
    still_serving(server)


def test_no_request_in_the_corpus_was_answered_5xx(server):
    """Runs last in this module (pytest keeps file order): the server's own request counter has
    no 5xx for any function."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        metrics = r.read().decode()
    lines = [line for line in metrics.splitlines() if line.startswith("mscr_requests_total{")]
    assert lines, metrics[:2000]
    fives = [line for line in lines if 'status="5' in line and not line.endswith(" 0")]
    assert not fives, fives
    assert server.proc.poll() is None
