#!/usr/bin/env python3
"""Start moto_server on 127.0.0.1 with signature checking ON and make one IAM key.

moto checks nothing until told: INITIAL_NO_AUTH_ACTION_COUNT=N lets the first N requests in
unauthenticated and enforces SigV4 signatures and IAM policies from then on. This script
spends exactly those N requests creating an IAM user, an inline policy allowing s3:*, and an
access key; then creates the bucket(s) with that key and checks that a wrong secret is refused.

Prints one JSON line on stdout when ready:
  {"endpoint": "http://127.0.0.1:PORT", "port": PORT, "access_key": "...", "secret_key": "...",
   "region": "us-east-1", "buckets": [...], "pid": PID}
and then waits: moto is stopped when this script's stdin reaches EOF (the parent exited or
closed it) or on SIGTERM/SIGINT. Usage:
  .venv/bin/python Tests/Support/start_moto.py [--port 0] [--bucket NAME ...]
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

# create_user, put_user_policy, create_access_key: one request each.
NO_AUTH_ACTIONS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=30.0):
    import urllib.request
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"moto_server exited early with status {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"moto_server did not answer on port {port} within {timeout} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", action="append", default=[])
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    port = args.port or free_port()
    moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(NO_AUTH_ACTIONS))
    # The readiness probe (/moto-api/) is not an AWS action: it does not spend the budget.
    proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(*_):
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wait_ready(port, proc)
        endpoint = f"http://127.0.0.1:{port}"
        cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
        boot = dict(endpoint_url=endpoint, region_name=args.region, config=cfg,
                    aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam = boto3.client("iam", **boot)
        iam.create_user(UserName="mscr-test")
        iam.put_user_policy(UserName="mscr-test", PolicyName="s3-all", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="mscr-test")["AccessKey"]
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=args.region, config=cfg,
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        for bucket in args.bucket:
            s3.create_bucket(Bucket=bucket)
        # Signature checking must be on now: a wrong secret is refused.
        bad = boto3.client("s3", endpoint_url=endpoint, region_name=args.region, config=cfg,
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="wrong-secret")
        try:
            bad.list_buckets()
            raise SystemExit("moto accepted a wrong secret: signature checking is not on")
        except ClientError:
            pass
    except BaseException as error:
        proc.kill()
        print(json.dumps({"error": str(error)}), flush=True)
        raise
    print(json.dumps({"endpoint": endpoint, "port": port, "access_key": key["AccessKeyId"],
                      "secret_key": key["SecretAccessKey"], "region": args.region,
                      "buckets": args.bucket, "pid": proc.pid}), flush=True)
    # If moto dies, say so and go; otherwise live until stdin closes.
    def watch():
        while proc.poll() is None:
            time.sleep(0.5)
        print("moto_server exited", file=sys.stderr, flush=True)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    sys.stdin.read()
    stop()


if __name__ == "__main__":
    main()
