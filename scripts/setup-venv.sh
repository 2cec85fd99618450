#!/usr/bin/env bash
# Creates .venv with the real servers and clients the tests start and drive: moto (S3),
# the GCS emulator, boto3, and the browser and protocol clients. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=scripts/test-requirements.txt
stamp=.venv/.installed-$(sha256sum "$requirements" | cut -c1-16)
if [ -f "$stamp" ]; then
  echo "python test tools: present (.venv)"
  exit 0
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
echo "python test tools: installing $(grep -cv '^#' "$requirements") packages into .venv"
.venv/bin/pip install -q -r "$requirements"
rm -f .venv/.installed-*
touch "$stamp"
