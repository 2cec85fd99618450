#!/usr/bin/env bash
# The image, built and run on one machine with podman (no Docker engine, no registry).
#
# Builds ONLY the runtime stage of ./Dockerfile from a host-built binary, runs it the way Cloud
# Run does (--network host, PORT, a read-only model repository mount), checks /healthz, the web
# page and one function request, stops it with SIGTERM, and prints one JSON object on stdout:
#
#   {"image_size_mb", "spawn_to_first_200_ms", "spawn_to_first_detection_ms", "stop_ms", ...}
#
# Progress goes to stderr. Exits non-zero when a check fails (SIGTERM must give exit 0 in < 2 s).
#
# Environment:
#   MSCR_BINARY             the binary (release, --static-swift-stdlib, static OpenBLAS); default:
#                           the first of .build-ship/release/mscr, .build/release/mscr
#   MSCR_CONTAINER_BUILD=1  build that binary first (into .build-ship), as the Dockerfile does
#   MSCR_CONTAINER_FUNCTION detect (default: yolo-fastest-1.1 from ../shared, dog.jpg) or
#                           mscr-test (the test kind; for trees without the detect function)
#   MSCR_CONTAINER_RUNS     spawn->first response measurements (default 1; medians are reported)
#   MSCR_CONTAINER_STATE    cache folder (containers.conf, logs); default /var/tmp/mscr-container
#   MSCR_IMAGE              tag of the built image (default localhost/mscr:test)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${MSCR_SHARED:-$(cd "$ROOT/.." && pwd)/shared}"
FUNCTION="${MSCR_CONTAINER_FUNCTION:-detect}"
RUNS="${MSCR_CONTAINER_RUNS:-1}"
STATE="${MSCR_CONTAINER_STATE:-/var/tmp/mscr-container}"
IMAGE="${MSCR_IMAGE:-localhost/mscr:test}"
BASE_IMAGE="localhost/debian:bookworm"
# The Dockerfile's runtime stage says FROM debian:bookworm-slim; the local base answers to that
# name so podman never tries a registry.
BASE_ALIAS="docker.io/library/debian:bookworm-slim"
NAME="mscr-container-test-$$"

log() { echo "container-test: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

WORK="$(mktemp -d /tmp/mscr-container.XXXXXX)"
cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------------------------
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
ensure_base_image() {
  if podman image exists "$BASE_IMAGE"; then
    podman tag "$BASE_IMAGE" "$BASE_ALIAS"
    BASE_SECONDS=0
    return 0
  fi
  local start rootfs mirror
  start=$(date +%s)
  rootfs="$WORK/rootfs"
  mirror="$(debian_mirror)"
  log "building the base image: debootstrap --variant=minbase bookworm from $mirror"
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
  podman import "$WORK/base.tar" "$BASE_IMAGE" >/dev/null
  podman tag "$BASE_IMAGE" "$BASE_ALIAS"
  rm -rf "$rootfs" "$WORK/base.tar"
  BASE_SECONDS=$(( $(date +%s) - start ))
}

# --- binary and image ------------------------------------------------------------------------
# The release binary, built on this host exactly as the Dockerfile's build stage builds it:
# static Swift standard library, OpenBLAS linked statically (an openblas.pc pointing at a folder
# that holds only libopenblas.a). ~10-15 min from clean on 2 cores.
build_binary() {
  local blas="$STATE/openblas-static"
  mkdir -p "$blas/pkgconfig"
  ln -sf /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a "$blas/libopenblas.a"
  printf '%s\n' 'Name: openblas' 'Description: OpenBLAS (static)' 'Version: 0' \
    "Cflags: $(pkg-config --cflags openblas)" "Libs: -L$blas -lopenblas -lpthread -lm" \
    > "$blas/pkgconfig/openblas.pc"
  log "swift build -c release --product mscr --static-swift-stdlib --scratch-path .build-ship"
  (cd "$ROOT" && PKG_CONFIG_PATH="$blas/pkgconfig" swift build -c release --product mscr \
    --static-swift-stdlib --scratch-path .build-ship) >&2
}

find_binary() {
  if [ "${MSCR_CONTAINER_BUILD:-0}" = 1 ] && [ -z "${MSCR_BINARY:-}" ]; then
    build_binary
    MSCR_BINARY="$ROOT/.build-ship/release/mscr"
  fi
  if [ -n "${MSCR_BINARY:-}" ]; then
    BINARY="$MSCR_BINARY"
  else
    BINARY=""
    for c in "$ROOT/.build-ship/release/mscr" "$ROOT/.build/release/mscr"; do
      if [ -x "$c" ]; then BINARY="$c"; break; fi
    done
  fi
  [ -n "$BINARY" ] && [ -x "$BINARY" ] || die "no binary: set MSCR_BINARY or run
  swift build -c release --product mscr --static-swift-stdlib --scratch-path .build-ship"
  if readelf -d "$BINARY" | grep -q -E 'libswiftCore\.so|libopenblas\.so'; then
    die "$BINARY links the Swift runtime or OpenBLAS dynamically; the image has neither.
  Build it as the Dockerfile does: MSCR_CONTAINER_BUILD=1 $0"
  fi
}

build_image() {
  local ctx="$WORK/prebuilt" start
  mkdir -p "$ctx"
  # The same as the Dockerfile's build stage: debug info out, symbols kept.
  strip --strip-debug -o "$ctx/mscr" "$BINARY"
  start=$(now_ms)
  log "podman build --target runtime (binary: $BINARY)"
  podman build --pull=never --target runtime \
    --build-arg BINARY_SOURCE=prebuilt --build-context "prebuilt-bin=$ctx" \
    -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT" >"$STATE/build.log" 2>&1 \
    || { tail -30 "$STATE/build.log" >&2; die "podman build failed; see $STATE/build.log"; }
  BUILD_MS=$(( $(now_ms) - start ))
  IMAGE_BYTES=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  IMAGE_COMPRESSED_BYTES=$(podman save --format oci-archive "$IMAGE" 2>/dev/null | gzip -1 | wc -c)
}

# --- the model repository the container mounts read-only -------------------------------------
# publish DIR MODEL FORMAT SRC:DEST... : files, then manifest.json last, as the repository does.
publish() {
  local repo="$1" model="$2" format="$3"
  shift 3
  local dir="$repo/$model/1" files="" sep=""
  mkdir -p "$dir"
  for pair in "$@"; do
    local src="${pair%%:*}" dest="${pair#*:}"
    cp "$src" "$dir/$dest"
    files+="$sep\"$dest\": {\"size\": $(stat -c %s "$dir/$dest"), \"sha256\": \"$(sha256sum "$dir/$dest" | cut -d' ' -f1)\"}"
    sep=", "
  done
  printf '{"format": "%s", "version": 1, "created": "%s", "files": {%s}}\n' \
    "$format" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$files" > "$dir/manifest.json"
}

prepare_function() {
  REPO="$WORK/repo"
  EXTRA_ARGS=()
  case "$FUNCTION" in
    detect)
      local m="$SHARED/data/models/yolo-fastest-1.1"
      [ -f "$m/yolo-fastest-1.1.weights" ] || die "no model at $m"
      publish "$REPO" yolo-fastest-1.1 darknet-yolo \
        "$m/yolo-fastest-1.1.cfg:model.cfg" "$m/yolo-fastest-1.1.weights:model.weights" \
        "$m/coco.names:classes.txt"
      INPUT="$SHARED/data/images/dog.jpg"
      CONTENT_TYPE="image/jpeg"
      FUNCTION_PATH="/functions/detect"
      READY_NAME="detect"
      ;;
    mscr-test)
      mkdir -p "$WORK/functions/t"
      echo '{"name": "t", "kind": "mscr-test", "model": "t-model", "limits": {"maxBodyBytes": 4096}}' \
        > "$WORK/functions/t/function.json"
      echo "hello from the container" > "$WORK/model.txt"
      publish "$REPO" t-model test "$WORK/model.txt:model.txt"
      echo "ping" > "$WORK/input.txt"
      INPUT="$WORK/input.txt"
      CONTENT_TYPE="text/plain"
      FUNCTION_PATH="/functions/t"
      READY_NAME="t"
      EXTRA_ARGS=(-v "$WORK/functions:/functions:ro" -e MSCR_FUNCTIONS=/functions
        -e MSCR_ENABLE_TEST_FUNCTIONS=1)
      ;;
    *) die "MSCR_CONTAINER_FUNCTION must be detect or mscr-test, not $FUNCTION" ;;
  esac
  chmod -R a+rX "$WORK"
}

check_response() {
  python3 - "$1" "$FUNCTION" <<'EOF'
import json, sys
body = json.load(open(sys.argv[1]))
if sys.argv[2] == "detect":
    dets = body.get("detections") or []
    classes = sorted({d.get("class") for d in dets})
    assert "dog" in classes, f"no dog in {classes}"
    print(len(dets))
else:
    assert body.get("text") == "hello from the container", body
    print(0)
EOF
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One spawn: start, first 200 on /healthz, first function answer, then (last run) checks + SIGTERM.
run_once() {
  local last="$1" port t0 code deadline
  port=$(free_port)
  local url="http://127.0.0.1:$port"
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  t0=$(now_ms)
  podman run -d --name "$NAME" --network host -e PORT="$port" \
    -e MSCR_MODEL_REPOSITORY=file:///models -e MSCR_LOG_FORMAT=text \
    -v "$REPO:/models:ro" "${EXTRA_ARGS[@]}" "$IMAGE" >/dev/null
  deadline=$(( t0 + 60000 ))
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/healthz" || true)
    [ "$code" = 200 ] && break
    if [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" != true ]; then
      podman logs "$NAME" >&2 || true
      die "the container exited before /healthz answered"
    fi
    [ "$(now_ms)" -lt "$deadline" ] || die "/healthz did not answer 200 within 60 s"
    sleep 0.01
  done
  FIRST_200+=($(( $(now_ms) - t0 )))
  code=$(curl -s -o "$WORK/response.json" -D "$WORK/headers.txt" -w '%{http_code}' --max-time 60 \
    -H "Content-Type: $CONTENT_TYPE" --data-binary "@$INPUT" "$url$FUNCTION_PATH" || true)
  FIRST_ANSWER+=($(( $(now_ms) - t0 )))
  [ "$code" = 200 ] || { cat "$WORK/response.json" >&2; podman logs "$NAME" >&2; die "POST $FUNCTION_PATH gave $code"; }
  DETECTIONS=$(check_response "$WORK/response.json") || die "unexpected answer: $(cat "$WORK/response.json")"
  SERVER_TIMING=$(grep -i '^server-timing:' "$WORK/headers.txt" | cut -d' ' -f2- | tr -d '\r' || true)
  if [ "$last" = 1 ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz?function=$READY_NAME")
    [ "$code" = 200 ] || die "GET /readyz?function=$READY_NAME gave $code after a request"
    code=$(curl -s -o "$WORK/index.html" -w '%{http_code}' "$url/")
    [ "$code" = 200 ] && grep -qi '<html' "$WORK/index.html" || die "GET / (the web client) gave $code"
    [ "$(podman inspect --format '{{.Config.User}}' "$NAME")" = "10001:10001" ] \
      || die "the container does not run as the mscr user"
    # The ECS task definition's health check, run inside the container as ECS would (the image
    # has no shell: the command is the binary).
    local -a health
    mapfile -t health < <(python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["containerDefinitions"][0]["healthCheck"]["command"][1:]))' \
      "$ROOT/runtime/ecs/task-definition.json")
    podman exec "$NAME" "${health[@]}" || die "the ECS health check command fails in the image"
  fi
  local t_sig
  t_sig=$(now_ms)
  podman kill --signal TERM "$NAME" >/dev/null
  EXIT_CODE=$(podman wait --interval 10ms "$NAME" 2>/dev/null || podman wait "$NAME")
  STOP_MS+=($(( $(now_ms) - t_sig )))
  podman logs "$NAME" > "$STATE/last-run.log" 2>&1 || true
  [ "$EXIT_CODE" = 0 ] || { tail -20 "$STATE/last-run.log" >&2; die "exit code $EXIT_CODE after SIGTERM"; }
  podman rm "$NAME" >/dev/null
}


# --- main ------------------------------------------------------------------------------------
ensure_tools
configure_podman
ensure_base_image
find_binary
build_image
prepare_function
FIRST_200=() FIRST_ANSWER=() STOP_MS=()
for i in $(seq 1 "$RUNS"); do
  run_once "$([ "$i" = "$RUNS" ] && echo 1 || echo 0)"
done
stop_max=$(printf '%s\n' "${STOP_MS[@]}" | sort -n | tail -1)
[ "$stop_max" -lt 2000 ] || die "SIGTERM took ${stop_max} ms to stop the container (limit 2000)"

export IMAGE IMAGE_BYTES IMAGE_COMPRESSED_BYTES FUNCTION RUNS EXIT_CODE DETECTIONS SERVER_TIMING \
  BUILD_MS BASE_SECONDS BINARY
export FIRST_200_ALL="${FIRST_200[*]}" FIRST_ANSWER_ALL="${FIRST_ANSWER[*]}" STOP_ALL="${STOP_MS[*]}"
python3 - <<'EOF'
import json, os, statistics
e = os.environ
ints = lambda name: [int(v) for v in e[name].split()]
print(json.dumps({
    "image": e["IMAGE"],
    "image_size_mb": round(int(e["IMAGE_BYTES"]) / 1e6, 1),
    "image_compressed_mb": round(int(e["IMAGE_COMPRESSED_BYTES"]) / 1e6, 1),
    "function": e["FUNCTION"],
    "runs": int(e["RUNS"]),
    "spawn_to_first_200_ms": statistics.median_low(ints("FIRST_200_ALL")),
    "spawn_to_first_detection_ms": statistics.median_low(ints("FIRST_ANSWER_ALL")),
    "stop_ms": statistics.median_low(ints("STOP_ALL")),
    "spawn_to_first_200_ms_all": ints("FIRST_200_ALL"),
    "spawn_to_first_detection_ms_all": ints("FIRST_ANSWER_ALL"),
    "stop_ms_all": ints("STOP_ALL"),
    "exit_code": int(e["EXIT_CODE"]),
    "detections": int(e["DETECTIONS"]),
    "server_timing": e["SERVER_TIMING"],
    "build_ms": int(e["BUILD_MS"]),
    "base_image_s": int(e["BASE_SECONDS"]),
    "binary": e["BINARY"],
}))
EOF
