#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz target (scripts/fuzz.sh): small valid inputs, each
prefixed by the flag byte FuzzTarget.run reads first where the target has one."""
import pathlib
import struct
import sys
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def png(width, height, depth=8, color=2):
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    row = bytes([0]) + bytes((i * 37) & 0xFF for i in range(width * channels * depth // 8))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def seeds(target):
    if target == "image":
        out = [png(7, 5), png(3, 3, 16, 2), png(4, 2, 8, 0), png(5, 5, 8, 6)]
        try:
            import io
            from PIL import Image
            image = Image.new("RGB", (24, 16), (200, 30, 90))
            for mode, options in (("RGB", {}), ("L", {}), ("CMYK", {}), ("RGB", {"progressive": True})):
                b = io.BytesIO()
                image.convert(mode).save(b, "JPEG", **options)
                out.append(b.getvalue())
        except ImportError:
            pass
        return out
    if target == "csv":
        rows = [line for line in (SHARED / "data/stock/goog-daily.csv").read_text().splitlines()
                if line and not line.startswith("#")][:12]
        csv = "\n".join(rows).encode()
        json_rows = ("{\"rows\": [" + ",".join("[" + r + "]" for r in rows) + "]}").encode()
        yahoo = ("Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(
            f"2024-01-{d:02d},{r.split(',')[0]},{r.split(',')[1]},{r.split(',')[2]},{r.split(',')[4]},1,{r.split(',')[3]}"
            for d, r in enumerate(rows, 1))).encode()
        return [b"\x00" + csv, b"\x02" + csv, b"\x01" + json_rows, b"\x00" + yahoo]
    if target == "cfg":
        folder = SHARED / "data/models"
        return [p.read_bytes() for p in sorted(folder.rglob("*.cfg"))]
    if target == "weights":
        floats = 206  # FuzzTarget.weightsConfig(): 124 + 52 + 30
        body = struct.pack("<iii", 0, 2, 0) + struct.pack("<Q", 0) + struct.pack(f"<{floats}f", *[
            0.5 + (i % 17) * 0.1 for i in range(floats)])
        return [b"\x3f" + body, b"\x00" + body, b"\xff" + body]
    if target == "v2":
        json_body = (b'{"id":"1","inputs":[{"name":"window","shape":[1,2,5],"datatype":"FP32",'
                     b'"data":[1,2,3,4,5,6,7,8,9,10]}],"outputs":[{"name":"close"}]}')
        header = b'{"inputs":[{"name":"window","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}'
        return [b"\x00" + json_body, bytes([len(header)]) + header + struct.pack("<2f", 1, 2)]
    if target == "grpc":
        return grpc_seeds()
    if target == "onnx":
        # First byte: import batch (odd = 3, for a symbolic batch); then the model file.
        lstm = (ROOT / "Tests/Integration/fixtures/keras-lstm/model.onnx").read_bytes()
        out = [b"\x00" + lstm, b"\x01" + lstm]
        try:
            import numpy as np
            from onnx import TensorProto, helper, numpy_helper
        except ImportError:
            return out
        rng = np.random.default_rng(1)
        t = lambda name, shape: numpy_helper.from_array(rng.normal(0, 0.5, shape).astype(np.float32), name)  # noqa
        info = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)  # noqa
        def model(nodes, inputs, outputs, inits, opset=17):
            graph = helper.make_graph(nodes, "seed", inputs, outputs, inits)
            return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()
        conv = model([
            helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Sigmoid", ["c"], ["s"]), helper.make_node("Mul", ["c", "s"], ["m"]),
            helper.make_node("Split", ["m", "halves"], ["p", "q"], axis=1),
            helper.make_node("Resize", ["p", "", "scales"], ["r"], mode="nearest"),
            helper.make_node("MaxPool", ["q"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
        ], [info("x", [1, 2, 6, 6])], [info("y", [1, 2, 3, 3]), info("r", [1, 2, 12, 12])],
            [t("w", (4, 2, 3, 3)), t("b", (4,)), numpy_helper.from_array(np.array([2, 2], np.int64), "halves"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
        bidirectional = model([
            helper.make_node("LSTM", ["x", "W", "R", "B", "lens", "h0", ""], ["Y", "Y_h"], hidden_size=3,
                             direction="bidirectional", layout=1),
            helper.make_node("Gemm", ["Y_h2", "k"], ["z"], transB=1),
            helper.make_node("Reshape", ["Y_h", "flat"], ["Y_h2"]),
        ], [info("x", [2, 4, 5]), info("h0", [2, 2, 3])], [info("Y", [2, 4, 2, 3]), info("z", [2, 1])],
            [t("W", (2, 12, 5)), t("R", (2, 12, 3)), t("B", (2, 24)), t("k", (1, 6)),
             numpy_helper.from_array(np.array([4, 2], np.int32), "lens"),
             numpy_helper.from_array(np.array([2, 6], np.int64), "flat")], opset=14)
        return out + [b"\x00" + conv, b"\x00" + bidirectional]
    raise SystemExit(f"unknown target {target}")


def grpc_seeds():
    """ModelInferRequest messages (FuzzTarget+GRPC.swift): flag 0 and the bare message, or flag 1
    and the message in its 5-byte gRPC frame. Encoded by hand (field numbers of
    grpc_predict_v2.proto) so the corpus needs no protobuf package."""
    def varint(n):
        out = b""
        while True:
            out += bytes([n & 0x7F | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                return out

    def field(number, payload):
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    def tensor(name, datatype, shape, contents=b""):
        shape_bytes = b"".join(varint(d) for d in shape)
        return field(1, name) + field(2, datatype) + field(3, shape_bytes) + (field(5, contents) if contents else b"")

    window = struct.pack("<10f", *[i + 0.5 for i in range(10)])
    typed = field(1, b"stock") + field(3, b"1") + field(5, tensor(b"window", b"FP32", [1, 2, 5], field(6, window)))
    raw = field(1, b"stock") + field(5, tensor(b"window", b"FP32", [1, 2, 5])) + field(6, field(1, b"close")) + \
        field(7, window)
    image = b"\xff\xd8\xff\xd9"
    detect = field(1, b"detect") + field(5, tensor(b"image", b"BYTES", [1])) + \
        field(7, struct.pack("<I", len(image)) + image)
    out = []
    for message in (typed, raw, detect):
        out += [b"\x00" + message, b"\x01" + b"\x00" + struct.pack(">I", len(message)) + message]
    return out


if __name__ == "__main__":
    target, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(seeds(target)):
        (folder / f"seed-{i}").write_bytes(data)
