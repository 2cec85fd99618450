#!/usr/bin/env bash
# Makes the base images the Dockerfile names, from this machine, when no registry is reachable:
# docker.io/library/swift:<SWIFT_VERSION>-bookworm (a debootstrap bookworm + the packages the
# official swift image has + the Swift toolchain installed here, e.g. /opt/swift) and
# docker.io/library/debian:bookworm-slim. Cached in podman's storage: a second run with the same
# toolchain does nothing. After it, `podman build .` runs the Dockerfile unchanged.
#
#   scripts/swift-base-image.sh                    # prints the image name on stdout
#   MSCR_SWIFT_TOOLCHAIN=/opt/swift scripts/swift-base-image.sh
#
# Then, to resolve Swift packages from this machine's mirror (git url.*.insteadOf), build with
# the bind mounts it prints on stderr (see runtime/README.md), e.g.:
#
#   podman build --target runtime -v /opt/swift-packages:/opt/swift-packages:ro \
#     -v /var/tmp/mscr-container/gitconfig:/etc/gitconfig:ro -t mscr .
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${MSCR_CONTAINER_STATE:-/var/tmp/mscr-container}"
WORK="$(mktemp -d /tmp/mscr-swift-base.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=scripts/container-common.sh
. "$ROOT/scripts/container-common.sh"

ensure_tools
configure_podman
ensure_debian_base_image
ensure_swift_base_image
swift_mirror_volumes
log "base images ready: $SWIFT_BASE_IMAGE, $DEBIAN_BASE_ALIAS (Debian base ${DEBIAN_BASE_SECONDS} s, Swift base ${SWIFT_BASE_SECONDS} s)"
[ ${#MIRROR_ARGS[@]} -eq 0 ] || log "package mirror: CONTAINERS_CONF=$CONTAINERS_CONF podman build --target runtime --build-arg BINARY_SOURCE=build ${MIRROR_ARGS[*]} -t mscr ."
echo "$SWIFT_BASE_IMAGE"
