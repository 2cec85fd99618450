#!/usr/bin/env python3
"""moto (S3, IAM, STS) on 127.0.0.1 with signature checking ON and a web-identity STS.

Real STS does not sign AssumeRoleWithWebIdentity (the caller has no keys yet: the token is its
proof); moto checks every action once checking is on and fails that call. This script runs
moto's own server in-process with two changes: AssumeRoleWithWebIdentity is exempt from the
signature check and instead checks the WebIdentityToken against --token (InvalidIdentityToken
otherwise), logging each token and session name it receives to --log (one JSON line each); and an
unsigned S3 request gets S3's 403 AccessDenied (moto answers it with a 500), except reads of the
bucket `public`, which anyone may read (pass --bucket public to create it).

Sets up, before checking is switched on: a role with an s3:* policy (the role web identity and
the stand-in credential endpoints hand out), an IAM user with an access key allowed everything,
and the buckets. Prints one JSON line when ready:
  {"endpoint", "port", "access_key", "secret_key", "role_arn", "region", "buckets"}
and lives until stdin closes.
"""
# Readable without credentials (path-style requests), like a bucket with a public-read policy.
PUBLIC_BUCKET = "public"

import argparse
import json
import socket
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bucket", action="append", default=[])
    parser.add_argument("--token", required=True, help="the web identity token STS accepts")
    parser.add_argument("--log", required=True, help="file that receives one JSON line per web identity call")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()

    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.server import ThreadedMotoServer
    from moto.iam.access_control import S3IAMRequest
    from moto.s3.exceptions import S3AccessDeniedError
    from moto.sts.exceptions import STSClientError
    from moto.sts.responses import TokenResponse
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    checked = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self, iam_request_cls, resource="*"):
        if self._get_action() == "AssumeRoleWithWebIdentity":
            return  # authenticated by its token, below
        if (iam_request_cls is S3IAMRequest and "Authorization" not in self.headers
                and ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT):
            if self.method in ("GET", "HEAD") and self.raw_path.split("/")[1:2] == [PUBLIC_BUCKET]:
                return  # a bucket whose policy lets anyone read
            raise S3AccessDeniedError()  # what S3 answers an anonymous request to a private bucket
        return checked(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate

    assume = TokenResponse.assume_role_with_web_identity

    def assume_with_token(self):
        token = self._get_param("WebIdentityToken")
        with open(args.log, "a") as log:
            log.write(json.dumps({"token": token, "session": self._get_param("RoleSessionName"),
                                  "role": self._get_param("RoleArn")}) + "\n")
        if token != args.token:
            raise STSClientError("InvalidIdentityToken", "the web identity token is not valid")
        return assume(self)

    TokenResponse.assume_role_with_web_identity = assume_with_token

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    boot = dict(endpoint_url=endpoint, region_name=args.region, config=cfg,
                aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    allow_all = json.dumps({"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    allow_s3 = json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    iam = boto3.client("iam", **boot)
    role = iam.create_role(RoleName="mscr-reader", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Federated": "oidc"},
                       "Action": "sts:AssumeRoleWithWebIdentity"},
                      {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))["Role"]
    iam.put_role_policy(RoleName="mscr-reader", PolicyName="s3", PolicyDocument=allow_s3)
    iam.create_user(UserName="mscr-admin")
    iam.put_user_policy(UserName="mscr-admin", PolicyName="all", PolicyDocument=allow_all)
    key = iam.create_access_key(UserName="mscr-admin")["AccessKey"]
    # From here on every request is checked.
    ActionAuthenticatorMixin.request_count = 0
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=args.region, config=cfg,
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    for bucket in args.bucket:
        s3.create_bucket(Bucket=bucket)
    bad = boto3.client("s3", endpoint_url=endpoint, region_name=args.region, config=cfg,
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="wrong-secret")
    try:
        bad.list_buckets()
        raise SystemExit("moto accepted a wrong secret: signature checking is not on")
    except ClientError:
        pass
    print(json.dumps({"endpoint": endpoint, "port": port, "access_key": key["AccessKeyId"],
                      "secret_key": key["SecretAccessKey"], "role_arn": role["Arn"], "region": args.region,
                      "buckets": args.bucket}), flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
