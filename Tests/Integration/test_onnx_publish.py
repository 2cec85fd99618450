"""`mscr publish DIR` with a model.onnx: format onnx, class names from classes.txt, the
exporter's metadata or the output shape; a graph the engine cannot run is refused at publish
(naming the node, op type and opset) and nothing is committed."""
import json
import shutil
import subprocess

import onnx
from onnx import TensorProto, helper

from conftest import SHARED, mscr_binary

YOLOV8N = SHARED / "data/models/onnx/yolov8n.onnx"


def publish(folder, repo, model):
    return subprocess.run([mscr_binary(), "publish", str(folder), "--repository", repo, "--model", model],
                          capture_output=True, text=True, timeout=300)


def graph_model(path, op="Sigmoid", shape=(1, 6, 10), name="the_node", opset=17, metadata=None):
    node = helper.make_node(op, ["x"], ["y"], name=name)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    for key, value in (metadata or {}).items():
        onnx.helper.set_model_props(model, {key: value})
    onnx.save(model, path)


def test_yolov8n_publishes_as_onnx_with_its_class_names_from_the_metadata(tmp_path):
    folder = tmp_path / "y8"
    folder.mkdir()
    shutil.copy(YOLOV8N, folder / "model.onnx")
    repo = "file://" + str(tmp_path / "repo")
    p = publish(folder, repo, "yolov8n")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["format"] == "onnx" and report["version"] == 1
    # model.compiled: the imported graph, mapped at load (test_onnx_artifact.py).
    assert set(report["files"]) == {"model.onnx", "classes.txt", "model.compiled"}
    # The export's metadata holds names {0: '0', 1: '1', …, 79: '79'}.
    expected = [str(i) for i in range(80)]
    assert report["classes"] == {"count": 80, "from": "metadata"}
    assert (tmp_path / "repo/yolov8n/1/classes.txt").read_text().split("\n")[:-1] == expected
    manifest = json.loads((tmp_path / "repo/yolov8n/1/manifest.json").read_text())
    assert manifest["format"] == "onnx"
    verify = subprocess.run([mscr_binary(), "models", "verify", "--repository", repo, "--model", "yolov8n"],
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr


def test_classes_txt_wins_and_a_detection_shaped_output_gets_generated_names(tmp_path):
    given = tmp_path / "given"
    given.mkdir()
    graph_model(given / "model.onnx", metadata={"names": "{0: 'cat', 1: 'dog'}"})
    (given / "classes.txt").write_text("apple\nbanana\n")
    repo = "file://" + str(tmp_path / "repo")
    p = publish(given, repo, "given")
    assert p.returncode == 0 and json.loads(p.stdout)["classes"] == {"count": 2, "from": "classes.txt"}, p.stderr
    assert (tmp_path / "repo/given/1/classes.txt").read_text() == "apple\nbanana\n"

    bare = tmp_path / "bare"
    bare.mkdir()
    graph_model(bare / "model.onnx")  # output [1, 4+2, 10], no names anywhere
    p = publish(bare, repo, "bare")
    assert p.returncode == 0 and json.loads(p.stdout)["classes"] == {"count": 2, "from": "generated"}, p.stderr
    assert (tmp_path / "repo/bare/1/classes.txt").read_text() == "class 0\nclass 1\n"

    quoted = tmp_path / "quoted"
    quoted.mkdir()
    graph_model(quoted / "model.onnx", metadata={"names": "{0: \"traffic light\", 1: 'it\\'s, odd'}"})
    assert publish(quoted, repo, "quoted").returncode == 0
    assert (tmp_path / "repo/quoted/1/classes.txt").read_text() == "traffic light\nit's, odd\n"


def refused(p, *mentions):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "USAGE" not in p.stderr.upper()
    for m in mentions:
        assert m in p.stderr, p.stderr


def test_a_graph_the_engine_cannot_run_is_refused_at_publish_and_nothing_is_committed(tmp_path):
    repo = tmp_path / "repo"
    unknown = tmp_path / "unknown"
    unknown.mkdir()
    graph_model(unknown / "model.onnx", op="NonMaxSuppressionV9", name="nms_1")
    refused(publish(unknown, "file://" + str(repo), "unknown"), "nms_1", "NonMaxSuppressionV9", "17")
    old = tmp_path / "old"
    old.mkdir()
    graph_model(old / "model.onnx", opset=9)
    refused(publish(old, "file://" + str(repo), "old"), "opset 9")
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "model.onnx").write_bytes(YOLOV8N.read_bytes()[:100_000])
    refused(publish(truncated, "file://" + str(repo), "truncated"), "not a readable ONNX model")
    assert not list(repo.glob("*/*/manifest.json")), "nothing was committed"
