#!/usr/bin/env bash
# Runs a command with TMPDIR set to a fresh folder, and removes the folder afterwards whatever
# the command's outcome, so test runs leave nothing behind in /tmp. Exits with the command's status.
set -uo pipefail
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mscr-tests.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
TMPDIR="$scratch" "$@"
