#!/usr/bin/env bash
# Installs the system packages mscr builds and tests with (Debian 12). Idempotent and quick
# when everything is there already. Needs root or sudo.
set -euo pipefail
packages=(libopenblas-dev libjpeg-dev libpng-dev libcurl4-openssl-dev libssl-dev pkg-config python3-venv ca-certificates)
if [ "${MSCR_TEST_DEPS:-0}" = 1 ]; then
  packages+=(nginx-light openssl chromium chromium-driver wrk hyperfine curl)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -qq -o DPkg::Lock::Timeout=600
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}"
