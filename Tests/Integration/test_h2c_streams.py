"""gRPC calls and REST requests as streams of one h2c connection, driven by a real HTTP/2
implementation (the `h2` package): the server answers gRPC calls on the connection's frames and
hands every other stream to the router, so the two kinds share a connection, interleave, and are
each answered in full; a gRPC message larger than the stream's window (1 MiB, announced in the
server's SETTINGS) arrives because the server gives the window back as it reads; a call the
client resets is dropped and the connection keeps serving."""
import io
import json
import random
import socket

import h2.config
import h2.connection
import h2.events
from PIL import Image
from tritonclient.grpc import service_pb2

from conftest import SHARED, Server

DOG = SHARED / "data/images/dog.jpg"
INFER = "/inference.GRPCInferenceService/ModelInfer"


class H2C:
    """One HTTP/2 connection with prior knowledge; sends bodies as the flow-control windows allow."""

    def __init__(self, server):
        host, port = server.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.settings_received = False
        self.reset_codes = {}  # stream id -> error code of the server's RST_STREAM
        self.pending = {}  # stream id -> body bytes not yet sent
        self.responses = {}  # stream id -> {"headers", "data", "trailers", "ended", "reset"}

    def request(self, path: str, body: bytes | None, headers: list, whole: bool = True) -> int:
        """Opens a stream (GET without a body) and sends its body as the windows allow; with
        `whole=False`, only the body given, the stream left open."""
        stream = self.conn.get_next_available_stream_id()
        method = "POST" if body is not None else "GET"
        self.conn.send_headers(stream, [(":method", method), (":scheme", "http"), (":authority", "mscr"),
                                        (":path", path)] + headers, end_stream=body is None)
        self.responses[stream] = {"headers": None, "data": b"", "trailers": None, "ended": False, "reset": False}
        if body is not None and whole:
            self.pending[stream] = body
        elif body:
            self.conn.send_data(stream, body)
        self.pump()
        return stream

    def pump(self):
        """Sends what the windows allow of every pending body."""
        for stream, body in list(self.pending.items()):
            while body:
                window = min(self.conn.local_flow_control_window(stream), self.conn.max_outbound_frame_size)
                if window <= 0:
                    break
                self.conn.send_data(stream, body[:window])
                body = body[window:]
            if body:
                self.pending[stream] = body
            else:
                self.conn.end_stream(stream)
                del self.pending[stream]
        self.sock.sendall(self.conn.data_to_send())

    def reset(self, stream: int):
        self.pending.pop(stream, None)
        self.conn.reset_stream(stream)
        self.responses[stream]["reset"] = True
        self.sock.sendall(self.conn.data_to_send())

    def wait(self, streams: list):
        """Reads until every stream in `streams` has ended."""
        while not all(self.responses[s]["ended"] for s in streams):
            data = self.sock.recv(65536)
            assert data, "the server closed the connection"
            for event in self.conn.receive_data(data):
                r = self.responses.get(getattr(event, "stream_id", None))
                if isinstance(event, h2.events.ResponseReceived):
                    r["headers"] = dict(event.headers)
                elif isinstance(event, h2.events.DataReceived):
                    r["data"] += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.TrailersReceived):
                    r["trailers"] = dict(event.headers)
                elif isinstance(event, h2.events.StreamEnded):
                    r["ended"] = True
                    if event.stream_id in self.pending:  # answered early: the rest is not wanted
                        del self.pending[event.stream_id]
                elif isinstance(event, h2.events.StreamReset):
                    r["ended"] = r["reset"] = True
                    self.reset_codes[event.stream_id] = event.error_code
                elif isinstance(event, h2.events.RemoteSettingsChanged):
                    self.settings_received = True
            self.pump()

    def wait_reset(self, stream: int):
        """Reads until the server has reset `stream`."""
        while stream not in self.reset_codes:
            data = self.sock.recv(65536)
            assert data, "the server closed the connection"
            for event in self.conn.receive_data(data):
                if isinstance(event, h2.events.StreamReset):
                    self.reset_codes[event.stream_id] = event.error_code
            self.sock.sendall(self.conn.data_to_send())

    def close(self):
        self.conn.close_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.sock.close()


def grpc_body(request) -> bytes:
    message = request.SerializeToString()
    return b"\0" + len(message).to_bytes(4, "big") + message


def noisy_png(side: int) -> bytes:
    """A PNG of random pixels (it does not compress): about 3 × side² bytes."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(3 * side * side)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def detect_request(image: bytes | None = None) -> service_pb2.ModelInferRequest:
    image = image or DOG.read_bytes()
    request = service_pb2.ModelInferRequest(model_name="detect")
    request.inputs.add(name="image", datatype="BYTES", shape=[1])
    request.raw_input_contents.append(len(image).to_bytes(4, "little") + image)
    request.outputs.add(name="labels")
    return request


GRPC_HEADERS = [(b"content-type", b"application/grpc"), (b"te", b"trailers")]


def grpc_reply(response: dict, message=service_pb2.ModelInferResponse):
    status = (response["trailers"] or response["headers"])[b"grpc-status"]
    assert status == b"0", response
    data = response["data"]
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") == len(data) - 5
    return message.FromString(data[5:])


def test_grpc_calls_and_rest_requests_share_one_connection(server):
    """A detect call of a 164 KB image, one whose message (a noisy PNG of ≈2.2 MB) is twice the
    1 MiB stream window, a REST GET and a gRPC readiness call, opened together on one connection,
    then the same REST request again after them: every one is answered, each on its own stream."""
    big = grpc_body(detect_request(noisy_png(860)))
    assert len(big) > 2 * 2**20
    c = H2C(server)
    try:
        detect = c.request(INFER, grpc_body(detect_request()), GRPC_HEADERS)
        large = c.request(INFER, big, GRPC_HEADERS)
        metadata = c.request("/v2/models/stock", None, [])
        ready = c.request("/inference.GRPCInferenceService/ServerReady",
                          grpc_body(service_pb2.ServerReadyRequest()), GRPC_HEADERS)
        c.wait([detect, large, metadata, ready])
        assert c.settings_received and c.conn.remote_settings.initial_window_size == 2**20
        labels = grpc_reply(c.responses[detect]).raw_output_contents[0]
        assert b"dog" in labels
        assert [o.name for o in grpc_reply(c.responses[large]).outputs] == ["labels"]
        assert grpc_reply(c.responses[ready], service_pb2.ServerReadyResponse).ready
        assert c.responses[metadata]["headers"][b":status"] == b"200"
        assert json.loads(c.responses[metadata]["data"])["name"] == "stock"
        again = c.request("/v2/models/stock", None, [])
        c.wait([again])
        assert c.responses[again]["data"] == c.responses[metadata]["data"]
    finally:
        c.close()


def test_a_call_reset_by_the_client_is_dropped_and_the_connection_keeps_serving(server):
    """The client resets a detect call half-way through its message: the server drops it (no
    answer on that stream, no error on the connection) and answers the next calls."""
    c = H2C(server)
    try:
        stream = c.request(INFER, grpc_body(detect_request())[:16384], GRPC_HEADERS, whole=False)
        c.reset(stream)
        calls = [c.request(INFER, grpc_body(detect_request()), GRPC_HEADERS) for _ in range(3)]
        c.wait(calls)
        for call in calls:
            assert b"dog" in grpc_reply(c.responses[call]).raw_output_contents[0]
        assert c.responses[stream]["headers"] is None
    finally:
        c.close()


def test_a_call_whose_body_stalls_is_answered_at_the_body_timeout_then_reset(demo_repository):
    """The client sends a call's headers and half its message, then nothing: at
    MSCR_BODY_TIMEOUT the server answers DEADLINE_EXCEEDED and resets the stream with NO_ERROR
    (so the stalled stream does not stay open), and the connection keeps serving."""
    s = Server({**demo_repository.env, "MSCR_BODY_TIMEOUT": "2"})
    c = H2C(s)
    try:
        stream = c.request(INFER, grpc_body(detect_request())[:16384], GRPC_HEADERS, whole=False)
        c.wait([stream])
        stalled = c.responses[stream]
        c.wait_reset(stream)
        assert stalled["headers"][b"grpc-status"] == b"4", stalled  # DEADLINE_EXCEEDED, trailers-only
        assert b"MSCR_BODY_TIMEOUT" in stalled["headers"][b"grpc-message"]
        assert c.reset_codes[stream] == 0, "the stalled stream is reset with NO_ERROR"
        call = c.request(INFER, grpc_body(detect_request()), GRPC_HEADERS)
        c.wait([call])
        assert b"dog" in grpc_reply(c.responses[call]).raw_output_contents[0]
    finally:
        c.close()
        s.stop()
