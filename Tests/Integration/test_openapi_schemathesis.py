"""schemathesis against the real binary's `GET /openapi.json` (serving the real models): the
examples and fuzzing phases, bounded, find no 5xx and no response that violates the document."""
import json
import pathlib
import subprocess
import sys
import urllib.request

import pytest

from conftest import ROOT

SCHEMATHESIS = pathlib.Path(sys.executable).parent / "schemathesis"


def test_served_document_is_the_one_in_the_repo(server):
    with urllib.request.urlopen(server.url + "/openapi.json", timeout=10) as r:
        served = r.read()
    assert served == (ROOT / "docs/openapi.json").read_bytes()
    assert json.loads(served)["openapi"].startswith("3.")


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(server, tmp_path):
    if not SCHEMATHESIS.exists():
        pytest.fail(f"{SCHEMATHESIS} is missing: run scripts/setup-venv.sh")
    command = [
        str(SCHEMATHESIS), "run", server.url + "/openapi.json",
        "--phases", "examples,fuzzing",
        "--max-examples", "30",
        "--seed", "20261127",
        "--workers", "2",
        # detect with threshold=0 on a generated 1x1 JPEG finds every box: seconds in a debug build
        "--request-timeout", "120",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                    "response_headers_conformance,response_schema_conformance,negative_data_rejection",
        "--suppress-health-check", "all",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    assert "Fuzzing" in output and "Examples" in output, output[-5000:]
