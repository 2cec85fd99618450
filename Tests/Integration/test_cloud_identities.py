"""S3 and GCS credentials without keys, through the real `mscr` binary against real servers:
moto (signatures checked) with its STS for web identity, stand-ins for the ECS container
credentials endpoint and EC2 instance metadata handing out moto session credentials, and a
Google token endpoint that verifies the service-account JWT in front of the GCS emulator.
Each provider is shown to work, to send what its protocol requires, and to fail clearly."""
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT, mscr_binary

SUPPORT = ROOT / "Tests/Integration/support"
sys.path.insert(0, str(SUPPORT))
from credential_standins import (ContainerCredentials, GoogleTokenEndpoint, InstanceMetadata,  # noqa: E402
                                 RecordingProxy, aws_json, iso)

BUCKET = "identity"
REPOSITORY = f"s3://{BUCKET}/repo"
WEB_TOKEN = "eyJ-web-identity-token-of-the-pod"
MODEL_FILE = b"tiny model bytes"
EXPECTED_MODELS = [{"name": "tiny", "versions": [1], "latest": 1, "format": "test"}]


def manifest_and_file():
    manifest = {"format": "test", "version": 1, "created": "2026-01-01T00:00:00Z",
                "files": {"model.txt": {"size": len(MODEL_FILE), "sha256": hashlib.sha256(MODEL_FILE).hexdigest()}}}
    return {"tiny/1/model.txt": MODEL_FILE, "tiny/1/manifest.json": json.dumps(manifest).encode()}


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto with checked signatures, a role with s3:* and STS AssumeRoleWithWebIdentity that
    accepts WEB_TOKEN only; the repository holds one model, uploaded with the admin key."""
    import boto3
    from botocore.config import Config
    log = tmp_path_factory.mktemp("sts") / "web-identity.jsonl"
    proc = subprocess.Popen([sys.executable, str(SUPPORT / "moto_sts.py"), "--bucket", BUCKET, "--token", WEB_TOKEN,
                             "--log", str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    info = json.loads(proc.stdout.readline())
    cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    admin = dict(endpoint_url=info["endpoint"], region_name=info["region"], config=cfg,
                 aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"])
    s3 = boto3.client("s3", **admin)
    for key, data in manifest_and_file().items():
        s3.put_object(Bucket=BUCKET, Key="repo/" + key, Body=data, ContentType="application/octet-stream")
    sts = boto3.client("sts", **admin)
    info["log"] = log
    # Role session credentials the stand-in endpoints hand out, as ECS and EC2 would.
    info["session"] = lambda name: sts.assume_role(RoleArn=info["role_arn"], RoleSessionName=name)["Credentials"]
    yield info
    proc.stdin.close()
    proc.wait(20)


def mscr(env, *args, timeout=60):
    """Runs the binary with only `env` (no AWS_* or GOOGLE_* from the test's own environment)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
            "MSCR_STORE_RETRIES": "2", "MSCR_STORE_DEADLINE": "20"}
    started = time.monotonic()
    done = subprocess.run([mscr_binary(), *args], env={**base, **env}, capture_output=True, text=True, timeout=timeout)
    done.seconds = time.monotonic() - started
    return done


def list_models(env):
    return mscr(env, "models", "list", "--repository", REPOSITORY)


def s3_env(moto, **extra):
    return {"AWS_REGION": moto["region"], "AWS_ENDPOINT_URL_S3": moto["endpoint"], **extra}


def assert_listed(done):
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["models"] == EXPECTED_MODELS


@pytest.fixture
def imds_never_called(moto):
    """An instance-metadata stand-in that must not be asked: an earlier provider is configured."""
    imds = InstanceMetadata(aws_json(moto["session"]("unused")))
    yield imds
    imds.stop()
    assert imds.requests() == [], "instance metadata was probed although an earlier provider was configured"


def test_web_identity_through_sts(moto, tmp_path, imds_never_called):
    token_file = tmp_path / "token"
    token_file.write_text(WEB_TOKEN + "\n")
    env = s3_env(moto, AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_ARN=moto["role_arn"],
                 AWS_ROLE_SESSION_NAME="mscr-pod-1", AWS_ENDPOINT_URL_STS=moto["endpoint"],
                 AWS_EC2_METADATA_SERVICE_ENDPOINT=imds_never_called.url)
    done = list_models(env)
    assert_listed(done)
    calls = [json.loads(line) for line in moto["log"].read_text().splitlines()]
    # One STS exchange for the three S3 requests of the listing (cached), with the file's token.
    assert calls == [{"token": WEB_TOKEN, "session": "mscr-pod-1", "role": moto["role_arn"]}]

    # A token STS refuses: a clear error naming the provider and what to check, no usage text.
    token_file.write_text("expired-token")
    refused = list_models(env)
    assert refused.returncode != 0
    assert "InvalidIdentityToken" in refused.stderr
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in refused.stderr and "web identity" in refused.stderr
    assert "USAGE" not in refused.stderr


def test_container_credentials_full_uri_with_token_file(moto, tmp_path, imds_never_called):
    auth = tmp_path / "auth-token"
    auth.write_text("container-auth-secret\n")
    ecs = ContainerCredentials("container-auth-secret", aws_json(moto["session"]("ecs-task")))
    try:
        env = s3_env(moto, AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.url + "/creds",
                     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(auth),
                     AWS_CONTAINER_AUTHORIZATION_TOKEN="ignored-when-the-file-is-set",
                     AWS_EC2_METADATA_SERVICE_ENDPOINT=imds_never_called.url)
        assert_listed(list_models(env))
        asked = ecs.requests()
        assert len(asked) == 1, "the credentials are fetched once and cached"
        assert asked[0][0] == "GET" and asked[0][1] == "/creds"
        assert asked[0][2].get("Authorization") == "container-auth-secret"

        # Credentials moto does not know the secret of: S3 refuses, and mscr says whose they were.
        ecs.answer = {**ecs.answer, "SecretAccessKey": "not-the-secret"}
        refused = list_models(env)
        assert refused.returncode != 0
        assert "SignatureDoesNotMatch" in refused.stderr
        assert "container credentials endpoint " + ecs.url + "/creds" in refused.stderr

        # Credentials that expired before they were handed out are refused by mscr itself.
        ecs.answer = aws_json(moto["session"]("ecs-task-2"), expires_in=-120)
        expired = list_models(env)
        assert expired.returncode != 0
        assert "expired" in expired.stderr and ecs.url in expired.stderr

        # A wrong authorization token: the endpoint's 401 is reported with what to set.
        auth.write_text("wrong")
        ecs.answer = aws_json(moto["session"]("ecs-task-3"))
        unauthorized = list_models(env)
        assert unauthorized.returncode != 0
        assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" in unauthorized.stderr and "401" in unauthorized.stderr
    finally:
        ecs.stop()


def test_instance_metadata_v2(moto):
    imds = InstanceMetadata(aws_json(moto["session"]("ec2-instance")))
    try:
        env = s3_env(moto, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
        assert_listed(list_models(env))
        asked = [(method, path, headers) for method, path, headers, _ in imds.requests()]
        role = "/latest/meta-data/iam/security-credentials/"
        assert [(m, p) for m, p, _ in asked] == [
            ("PUT", "/latest/api/token"), ("GET", role), ("GET", role + InstanceMetadata.ROLE)]
        assert asked[0][2].get("X-aws-ec2-metadata-token-ttl-seconds")
        assert all(h.get("X-aws-ec2-metadata-token") == InstanceMetadata.SESSION for _, _, h in asked[1:])

        # A session token that does not belong to the keys: moto refuses, mscr names IMDS.
        imds.answer = {**imds.answer, "Token": "not-the-session-token"}
        refused = list_models(env)
        assert refused.returncode != 0
        assert "EC2 instance metadata" in refused.stderr and "InvalidToken" in refused.stderr
    finally:
        imds.stop()


def test_nothing_configured_is_fast_unsigned_and_says_what_to_set(moto):
    # Instance metadata that does not answer (a closed port): one quick probe, then unsigned
    # requests, which moto refuses; the message lists the ways to give credentials.
    from conftest import free_port
    done = list_models(s3_env(moto, AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{free_port()}"))
    assert done.returncode != 0
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in done.stderr and "AWS_CONTAINER_CREDENTIALS" in done.stderr
    disabled = list_models(s3_env(moto, AWS_EC2_METADATA_DISABLED="true"))
    assert disabled.returncode != 0 and "no AWS credentials" in disabled.stderr


def test_a_half_configured_provider_stops_the_start_with_its_name(moto, tmp_path):
    done = list_models(s3_env(moto, AWS_ROLE_ARN=moto["role_arn"]))
    assert done.returncode != 0
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in done.stderr
    bad = list_models(s3_env(moto, AWS_EC2_METADATA_DISABLED="maybe"))
    assert bad.returncode != 0 and "AWS_EC2_METADATA_DISABLED" in bad.stderr


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
