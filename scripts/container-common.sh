# Sourced by scripts/container-test.sh and scripts/swift-base-image.sh: podman set up for a
# machine with no Docker engine and no registry (only Debian's package servers), and the two
# base images the Dockerfile names, made locally and cached in podman's storage:
#
#   docker.io/library/debian:bookworm-slim   debootstrap --variant=minbase bookworm, slimmed
#   docker.io/library/swift:6.3.1-bookworm   that + the packages a Swift toolchain needs + the
#                                            toolchain installed on this machine (/opt/swift)
#
# With those present, `podman build .` runs the Dockerfile unchanged (podman never pulls an
# image it has). The Swift packages resolve the way they do on this machine: git's
# `url.<mirror>.insteadOf https://github.com/` (see `swift_mirror_volumes`).
#
# Callers set STATE (a cache folder) and WORK (a scratch folder) before calling these.

log() { echo "$(basename "$0" .sh): [$(date +%H:%M:%S)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

DEBIAN_BASE_IMAGE="localhost/debian:bookworm"
# The Dockerfile's runtime stage says FROM debian:bookworm-slim; the local base answers to that
# name so podman never tries a registry.
DEBIAN_BASE_ALIAS="docker.io/library/debian:bookworm-slim"

ensure_tools() {
  local missing=()
  for tool in podman buildah debootstrap runc curl python3 readelf strip; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    podman buildah debootstrap runc curl python3 binutils >&2
}

# crun fails on these hybrid cgroups; runc + cgroupfs work. Higher ulimits than these are refused.
configure_podman() {
  mkdir -p "$STATE"
  cat > "$STATE/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  export CONTAINERS_CONF="$STATE/containers.conf"
}

# The Debian mirror this machine uses (sources.list or deb822 .sources).
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list ]; then
    m="$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)"
  fi
  if [ -z "$m" ]; then
    m="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }')"
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# debootstrap --variant=minbase bookworm, imported once and cached in podman's storage (~2 min).
# Sets DEBIAN_BASE_SECONDS (0 when it was there already).
ensure_debian_base_image() {
  DEBIAN_BASE_SECONDS="${DEBIAN_BASE_SECONDS:-0}"
  if podman image exists "$DEBIAN_BASE_IMAGE"; then
    podman tag "$DEBIAN_BASE_IMAGE" "$DEBIAN_BASE_ALIAS"
    return 0
  fi
  local start rootfs mirror
  start=$(date +%s)
  rootfs="$WORK/rootfs"
  mirror="$(debian_mirror)"
  log "building the Debian base image: debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $STATE/debootstrap.log"
  # Slim it the way Debian's official -slim images are made (debuerreotype-slimify): no docs,
  # man pages or translations now or in later installs, so sizes here match the real base.
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/linda/*' 'path-exclude /usr/share/lintian/overrides/*' \
    'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/man/*' \
    > "$rootfs/etc/dpkg/dpkg.cfg.d/docker"
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{groff,info,linda,locale,man}/* "$rootfs"/usr/share/lintian/overrides/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  tar -C "$rootfs" -cf "$WORK/base.tar" .
  podman import "$WORK/base.tar" "$DEBIAN_BASE_IMAGE" >"$STATE/import.log" 2>&1 \
    || { cat "$STATE/import.log" >&2; die "podman import failed"; }
  podman tag "$DEBIAN_BASE_IMAGE" "$DEBIAN_BASE_ALIAS"
  rm -rf "$rootfs" "$WORK/base.tar"
  DEBIAN_BASE_SECONDS=$(( $(date +%s) - start ))
}

# The value of `ARG NAME=value` in the Dockerfile.
dockerfile_arg() {
  sed -n "s/^ARG $1=//p" "$ROOT/Dockerfile" | head -1
}

# The Swift toolchain on this machine: the folder holding usr/bin/swift (default: the `swift`
# on PATH, e.g. /opt/swift), and a fingerprint that changes when it is replaced.
swift_toolchain() {
  local swift
  swift="$(readlink -f "$(command -v swift)")" || die "no swift on PATH (set MSCR_SWIFT_TOOLCHAIN)"
  SWIFT_TOOLCHAIN="${MSCR_SWIFT_TOOLCHAIN:-$(dirname "$(dirname "$(dirname "$swift")")")}"
  [ -x "$SWIFT_TOOLCHAIN/usr/bin/swift-frontend" ] || die "no toolchain at $SWIFT_TOOLCHAIN/usr"
  local version frontend
  version="$("$SWIFT_TOOLCHAIN/usr/bin/swift" --version 2>/dev/null | head -1)"
  frontend="$SWIFT_TOOLCHAIN/usr/bin/swift-frontend"
  SWIFT_TOOLCHAIN_ID="$version; $(stat -c '%s bytes, modified %Y' "$frontend")"
  SWIFT_TOOLCHAIN_VERSION="$(echo "$version" | sed -n 's/.*(swift-\([0-9.]*\)-RELEASE).*/\1/p')"
}

# docker.io/library/swift:<SWIFT_VERSION>-<DEBIAN_RELEASE> (the Dockerfile's build stage FROM),
# made from the Debian base, the run-time packages of the official swift:*-bookworm image and this
# machine's toolchain copied to /usr (as the official image unpacks it). Rebuilt only when the
# toolchain changes (label org.mscr.swift-toolchain). Sets SWIFT_BASE_IMAGE, SWIFT_BASE_SECONDS.
ensure_swift_base_image() {
  local want_version release
  want_version="$(dockerfile_arg SWIFT_VERSION)"
  release="$(dockerfile_arg DEBIAN_RELEASE)"
  SWIFT_BASE_IMAGE="docker.io/library/swift:${want_version}-${release}"
  SWIFT_BASE_SECONDS=0
  swift_toolchain
  [ "$SWIFT_TOOLCHAIN_VERSION" = "$want_version" ] || die "the Dockerfile builds with Swift \
$want_version; the toolchain at $SWIFT_TOOLCHAIN is ${SWIFT_TOOLCHAIN_VERSION:-unknown}"
  if podman image exists "$SWIFT_BASE_IMAGE"; then
    local have
    have="$(podman image inspect --format '{{index .Labels "org.mscr.swift-toolchain"}}' "$SWIFT_BASE_IMAGE")"
    if [ "$have" = "$SWIFT_TOOLCHAIN_ID" ]; then
      log "Swift base image $SWIFT_BASE_IMAGE is cached ($have)"
      return 0
    fi
    log "Swift base image $SWIFT_BASE_IMAGE was made from another toolchain (${have:-unknown}): rebuilding"
  fi
  ensure_debian_base_image
  local start
  start=$(date +%s)
  # The packages of the official swift:*-bookworm image (github.com/swiftlang/swift-docker).
  cat > "$WORK/Containerfile.swift" <<EOF
FROM $DEBIAN_BASE_IMAGE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get -q update \\
 && apt-get -q install -y --no-install-recommends \\
      binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libpython3-dev \\
      libsqlite3-0 libstdc++-12-dev libxml2-dev libncurses-dev libz3-dev pkg-config tzdata zip \\
      zlib1g-dev ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
COPY usr/ /usr/
RUN swift --version
EOF
  log "building the Swift base image $SWIFT_BASE_IMAGE from $SWIFT_TOOLCHAIN ($SWIFT_TOOLCHAIN_ID)"
  podman build --pull=never --label "org.mscr.swift-toolchain=$SWIFT_TOOLCHAIN_ID" \
    -t "$SWIFT_BASE_IMAGE" -f "$WORK/Containerfile.swift" "$SWIFT_TOOLCHAIN" \
    >"$STATE/swift-base.log" 2>&1 \
    || { tail -30 "$STATE/swift-base.log" >&2; die "the Swift base image failed; see $STATE/swift-base.log"; }
  SWIFT_BASE_SECONDS=$(( $(date +%s) - start ))
  log "Swift base image ready in ${SWIFT_BASE_SECONDS} s ($(podman image inspect --format '{{.Size}}' "$SWIFT_BASE_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# `podman build` arguments that give RUN steps this machine's Swift package mirror: every git
# `url.<folder>.insteadOf <url>` rule whose <folder> exists here becomes a read-only bind mount
# of <folder> at the same path plus an /etc/gitconfig carrying the same rules (SwiftPM clones
# with git). None when the machine has no such rule (packages then come from GitHub, as with
# `docker build .`). Sets MIRROR_ARGS (an array).
swift_mirror_volumes() {
  MIRROR_ARGS=()
  local rules folder url seen=" "
  rules="$(git config --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true)"
  [ -n "$rules" ] || return 0
  : > "$STATE/gitconfig"
  while read -r key url; do
    folder="${key#url.}"
    folder="${folder%.insteadof}"
    [ -d "$folder" ] || continue
    printf '[url "%s"]\n\tinsteadOf = %s\n' "$folder" "$url" >> "$STATE/gitconfig"
    case "$seen" in *" $folder "*) continue ;; esac
    seen+="$folder "
    MIRROR_ARGS+=(--volume "$folder:$folder:ro")
  done <<< "$rules"
  [ ${#MIRROR_ARGS[@]} -gt 0 ] || return 0
  MIRROR_ARGS+=(--volume "$STATE/gitconfig:/etc/gitconfig:ro")
}
