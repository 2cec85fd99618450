"""S3 credentials without keys, through the real `mscr` binary against real servers: moto
(signatures checked) with its STS for web identity, and stand-ins for the ECS container
credentials endpoint and EC2 instance metadata handing out moto session credentials. Each
provider is shown to work, to send what its protocol requires, and to fail clearly. (GCS:
test_gcs_identity.py.)"""
import hashlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, mscr_binary, wait_until

SUPPORT = ROOT / "Tests/Integration/support"
sys.path.insert(0, str(SUPPORT))
from credential_standins import ContainerCredentials, InstanceMetadata, RecordingProxy, aws_json  # noqa: E402
from identity_runs import assert_listed, function_folder, manifest_and_file, run  # noqa: E402

BUCKET = "identity"
REPOSITORY = f"s3://{BUCKET}/repo"
WEB_TOKEN = "eyJ-web-identity-token-of-the-pod"
@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto with checked signatures, a role with s3:* and STS AssumeRoleWithWebIdentity that
    accepts WEB_TOKEN only; the repository holds one model, uploaded with the admin key."""
    import boto3
    from botocore.config import Config
    log = tmp_path_factory.mktemp("sts") / "web-identity.jsonl"
    proc = subprocess.Popen([sys.executable, str(SUPPORT / "moto_sts.py"), "--bucket", BUCKET, "--bucket", "public",
                             "--token", WEB_TOKEN,
                             "--log", str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    info = json.loads(proc.stdout.readline())
    cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    admin = dict(endpoint_url=info["endpoint"], region_name=info["region"], config=cfg,
                 aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"])
    s3 = boto3.client("s3", **admin)
    for key, data in manifest_and_file().items():
        s3.put_object(Bucket=BUCKET, Key="repo/" + key, Body=data, ContentType="application/octet-stream")
        s3.put_object(Bucket="public", Key="repo/" + key, Body=data, ContentType="application/octet-stream",
                      ACL="public-read")
    sts = boto3.client("sts", **admin)
    info["log"] = log
    # Role session credentials the stand-in endpoints hand out, as ECS and EC2 would.
    info["session"] = lambda name: sts.assume_role(RoleArn=info["role_arn"], RoleSessionName=name)["Credentials"]
    yield info
    proc.stdin.close()
    proc.wait(20)


def mscr(env, *args, timeout=60):
    return run(mscr_binary(), env, *args, timeout=timeout)


def list_models(env):
    return mscr(env, "models", "list", "--repository", REPOSITORY)


def s3_env(moto, **extra):
    return {"AWS_REGION": moto["region"], "AWS_ENDPOINT_URL_S3": moto["endpoint"], **extra}


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


def test_a_running_server_refreshes_role_credentials_before_they_expire(moto, tmp_path, start_server):
    """`mscr serve` polling for new model versions every second with container credentials that
    live 6 s: it fetches new ones before each expires (halfway, for so short a life), and every
    poll keeps being accepted by moto."""
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=moto["endpoint"], region_name=moto["region"],
                      config=Config(s3={"addressing_style": "path"}),
                      aws_access_key_id=moto["access_key"], aws_secret_access_key=moto["secret_key"])
    manifest = {"format": "test", "version": 1, "created": "2026-01-01T00:00:00Z",
                "files": {"model.txt": {"size": 5, "sha256": hashlib.sha256(b"hello").hexdigest()}}}
    s3.put_object(Bucket=BUCKET, Key="poll/t-model/1/model.txt", Body=b"hello")
    s3.put_object(Bucket=BUCKET, Key="poll/t-model/1/manifest.json", Body=json.dumps(manifest).encode())
    functions = function_folder(tmp_path)
    auth = tmp_path / "auth"
    auth.write_text("container-auth-secret")
    ecs = ContainerCredentials("container-auth-secret", aws_json(moto["session"]("ecs-poll")), lifetime=6)
    try:
        server = start_server({
            "MSCR_FUNCTIONS": str(functions), "MSCR_ENABLE_TEST_FUNCTIONS": "1", "MSCR_WARM": "t",
            "MSCR_MODEL_REPOSITORY": f"s3://{BUCKET}/poll", "MSCR_VERSION_POLL": "1",
            "AWS_REGION": moto["region"], "AWS_ENDPOINT_URL_S3": moto["endpoint"],
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": ecs.url + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(auth), "AWS_EC2_METADATA_DISABLED": "true"})
        started = time.monotonic()
        wait_until(lambda: len(ecs.requests()) >= 4, timeout=30, interval=0.2)
        fetched = ecs.requests()
        assert len(fetched) >= 4, f"only {len(fetched)} credential fetches in 30 s"
        # Not a fetch per request: with polls every second, fetches are ~3 s apart, not 1.
        assert len(fetched) <= 1 + (time.monotonic() - started) / 2
        with urllib.request.urlopen(server.url + "/readyz?function=t", timeout=5) as ready:
            assert ready.status == 200
        request = urllib.request.Request(server.url + "/functions/t", data=b"ok", method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        server.stop()
        log = server.proc.stdout.read().decode()
        print(log[-3000:])
        assert "expired" not in log and "InvalidToken" not in log and "HTTP 403" not in log, log[-2000:]
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


def test_missing_instance_metadata_is_probed_once_and_public_buckets_still_read(moto):
    """No provider configured and no instance metadata (the stand-in refuses the token): one
    probe, then every request goes unsigned without asking again; a public bucket reads fine."""
    imds = InstanceMetadata({}, available=False)
    s3 = RecordingProxy("127.0.0.1", moto["port"])  # unsigned requests: the changed Host does not matter
    try:
        done = mscr({"AWS_REGION": moto["region"], "AWS_ENDPOINT_URL_S3": s3.url,
                     "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url},
                    "models", "list", "--repository", "s3://public/repo")
        assert_listed(done)
        assert [(m, p) for m, p, _, _ in imds.requests()] == [("PUT", "/latest/api/token")]
        unsigned = s3.requests()
        assert len(unsigned) >= 3 and not any("Authorization" in h for _, _, h, _ in unsigned)
    finally:
        imds.stop()
        s3.stop()


def test_without_credentials_a_failed_load_says_what_to_set(moto, tmp_path, start_server):
    imds = InstanceMetadata({}, available=False)
    functions = function_folder(tmp_path)
    try:
        server = start_server({
            "MSCR_FUNCTIONS": str(functions), "MSCR_ENABLE_TEST_FUNCTIONS": "1",
            "MSCR_MODEL_REPOSITORY": f"s3://{BUCKET}/poll", "AWS_REGION": moto["region"],
            "AWS_ENDPOINT_URL_S3": moto["endpoint"], "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
        assert imds.requests() == [], "nothing is probed before the first repository read"
        request = urllib.request.Request(server.url + "/functions/t", data=b"ok", method="POST",
                                         headers={"Content-Type": "text/plain"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 503
        message = refused.value.read().decode()
        assert "AccessDenied" in message and "AWS_WEB_IDENTITY_TOKEN_FILE" in message
    finally:
        imds.stop()


def test_a_half_configured_provider_stops_the_start_with_its_name(moto, tmp_path):
    done = list_models(s3_env(moto, AWS_ROLE_ARN=moto["role_arn"]))
    assert done.returncode != 0
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in done.stderr
    bad = list_models(s3_env(moto, AWS_EC2_METADATA_DISABLED="maybe"))
    assert bad.returncode != 0 and "AWS_EC2_METADATA_DISABLED" in bad.stderr


@pytest.mark.parametrize("repository,variables", [
    (REPOSITORY, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.169.254/creds"}),
    ("gs://identity/repo", {"GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"}),
])
def test_the_server_does_not_start_with_a_bad_identity_setting(tmp_path, repository, variables):
    from conftest import free_port
    env = {"PORT": str(free_port()), "MSCR_MODEL_REPOSITORY": repository,
           "MSCR_FUNCTIONS": str(ROOT / "functions"), **variables}
    done = mscr(env, "serve", timeout=30)
    assert done.returncode == 1
    assert next(iter(variables)) in done.stdout + done.stderr
