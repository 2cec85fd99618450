"""GCS tokens from a service-account key file, through the real `mscr` binary: a token endpoint
that verifies the JWT's RS256 signature with the key's public half (python `cryptography`), and
the GCS emulator (which ignores authorization) behind a proxy that records the Authorization
header every read carried."""
import json
import subprocess
import sys
import urllib.request

import pytest

from conftest import ROOT, mscr_binary

sys.path.insert(0, str(ROOT / "Tests/Integration/support"))
from credential_standins import GoogleTokenEndpoint, RecordingProxy  # noqa: E402
from identity_runs import EXPECTED_MODELS, manifest_and_file, run  # noqa: E402


def mscr(env, *args):
    return run(mscr_binary(), env, *args)


@pytest.fixture(scope="module")
def gcs():
    """The GCS emulator with the one-model repository uploaded, behind a recording proxy."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "Tests/Support/start_gcs.py"), "--bucket", "identity"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())
    for key, data in manifest_and_file().items():
        url = (f"{info['endpoint']}/upload/storage/v1/b/identity/o?uploadType=media&name="
               + urllib.request.quote("repo/" + key, safe=""))
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(request, timeout=10).read()
    proxy = RecordingProxy("127.0.0.1", info["port"])
    info["proxy"] = proxy
    yield info
    proxy.stop()
    proc.stdin.close()
    proc.wait(20)


def service_account_key(path, token_uri):
    """A fresh RSA key written as a service-account key file; returns its public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({"type": "service_account", "project_id": "p", "private_key_id": "k1",
                                "private_key": pem, "client_email": "mscr@p.iam.gserviceaccount.com",
                                "token_uri": token_uri}))
    return key.public_key()


def test_gcs_service_account_key_file(gcs, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    endpoint = GoogleTokenEndpoint(None, audience="", access_token="ya29.from-the-key-file")
    try:
        endpoint.audience = endpoint.token_uri
        key_file = tmp_path / "key.json"
        endpoint.public_key = service_account_key(key_file, endpoint.token_uri)
        env = {"STORAGE_EMULATOR_HOST": gcs["proxy"].url, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}
        before = len(gcs["proxy"].requests())
        done = mscr(env, "models", "list", "--repository", "gs://identity/repo")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["models"] == EXPECTED_MODELS
        # One JWT, verified with the public key (signature, audience, lifetime), for all reads.
        assert endpoint.refused == [] and len(endpoint.claims) == 1
        assert endpoint.claims[0]["iss"] == "mscr@p.iam.gserviceaccount.com"
        reads = gcs["proxy"].requests()[before:]
        assert len(reads) >= 3
        assert all(headers.get("Authorization") == "Bearer ya29.from-the-key-file" for _, _, headers, _ in reads)

        # The endpoint knows another public key: it refuses the signature, mscr says so.
        endpoint.public_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        refused = mscr(env, "models", "list", "--repository", "gs://identity/repo")
        assert refused.returncode != 0
        assert "refused the signed JWT" in refused.stderr and "invalid_grant" in refused.stderr
        assert "GOOGLE_APPLICATION_CREDENTIALS" in refused.stderr
        assert len(endpoint.refused) == 1 and "InvalidSignature" in endpoint.refused[0]
    finally:
        endpoint.stop()


def test_gcs_fixed_token_wins_over_the_key_file(gcs, tmp_path):
    key_file = tmp_path / "key.json"
    key_file.write_text("{}")  # never read: the fixed token comes first
    before = len(gcs["proxy"].requests())
    env = {"STORAGE_EMULATOR_HOST": gcs["proxy"].url, "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.fixed",
           "GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}
    done = mscr(env, "models", "list", "--repository", "gs://identity/repo")
    assert done.returncode == 0, done.stderr
    reads = gcs["proxy"].requests()[before:]
    assert reads and all(h.get("Authorization") == "Bearer ya29.fixed" for _, _, h, _ in reads)
    broken = mscr({**env, "GOOGLE_OAUTH_ACCESS_TOKEN": ""}, "models", "list", "--repository", "gs://identity/repo")
    assert broken.returncode != 0 and "GOOGLE_APPLICATION_CREDENTIALS" in broken.stderr
