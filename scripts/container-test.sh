#!/usr/bin/env bash
# The image, built and run on one machine with podman (no Docker engine, no registry).
#
# Builds ./Dockerfile's runtime image, runs it the way Cloud Run does (--network host, PORT, a
# read-only model repository mount), checks /healthz, the web page, one function request, the
# ECS health check (`mscr health`) inside the container and the image size, stops it with SIGTERM,
# and prints one JSON object on stdout:
#
#   {"mode", "image_size_mb", "build_ms", "spawn_to_first_200_ms", "spawn_to_first_detection_ms", "stop_ms",
#    "baked_spawn_to_first_detection_ms", ...}
#
# With the detect function it then measures the baked variant too: `mscr compile` (run from the
# image) adds the compiled artifact to the test repository, `--target runtime-baked` copies that
# version into the image (a few seconds: every other layer comes from the cache), and one spawn
# of it without a mount must answer from the mapped artifact.
#
# Progress goes to stderr. Exits non-zero when a check fails (SIGTERM must give exit 0 in < 2 s).
#
# Two modes (MSCR_CONTAINER_MODE):
#   full      the whole Dockerfile, build stage included (`podman build --target runtime .`):
#             the Swift base image is made from this machine's toolchain first
#             (scripts/swift-base-image.sh) and the Swift packages resolve from this machine's
#             mirror (bind mounts, see container-common.sh). Default when CI is set. A cold
#             build takes ~15 min on 2 cores; later runs reuse podman's cached layers.
#   prebuilt  only the runtime stage, from a host-built binary (BINARY_SOURCE=prebuilt). Default
#             otherwise.
#
# Environment:
#   MSCR_CONTAINER_MODE     full or prebuilt (see above)
#   MSCR_BINARY             prebuilt: the binary (release, --static-swift-stdlib, static
#                           OpenBLAS); default: the first of .build-ship/release/mscr,
#                           .build/release/mscr
#   MSCR_CONTAINER_BUILD=1  prebuilt: build that binary first (into .build-ship), as the
#                           Dockerfile does
#   MSCR_CONTAINER_FUNCTION detect (default: yolo-fastest-1.1 from ../shared, dog.jpg) or
#                           mscr-test (the test kind; for trees without the detect function)
#   MSCR_CONTAINER_RUNS     spawn->first response measurements (default 1; medians are reported)
#   MSCR_CONTAINER_MAX_MB   the image must stay under this many MB (default 150)
#   MSCR_CONTAINER_STATE    cache folder (containers.conf, logs); default /var/tmp/mscr-container
#   MSCR_IMAGE              tag of the built image (default localhost/mscr:test)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${MSCR_SHARED:-$(cd "$ROOT/.." && pwd)/shared}"
if [ -n "${CI:-}" ] && [ "${CI:-}" != false ]; then DEFAULT_MODE=full; else DEFAULT_MODE=prebuilt; fi
MODE="${MSCR_CONTAINER_MODE:-$DEFAULT_MODE}"
FUNCTION="${MSCR_CONTAINER_FUNCTION:-detect}"
RUNS="${MSCR_CONTAINER_RUNS:-1}"
MAX_MB="${MSCR_CONTAINER_MAX_MB:-150}"
STATE="${MSCR_CONTAINER_STATE:-/var/tmp/mscr-container}"
IMAGE="${MSCR_IMAGE:-localhost/mscr:test}"
NAME="mscr-container-test-$$"
# shellcheck source=scripts/container-common.sh
. "$ROOT/scripts/container-common.sh"

WORK="$(mktemp -d /tmp/mscr-container.XXXXXX)"
cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# podman build, its output in $STATE/build.log; on stderr the steps as they start and, every 30 s
# of a long step, its latest line (the Swift build's [n/m] progress). Sets BUILD_MS, CACHED_STEPS.
podman_build() {
  local start rc
  start=$(now_ms)
  log "podman build $*"
  set +e
  podman build --pull=never "$@" -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT" 2>&1 \
    | tee "$STATE/build.log" | {
      local last=$SECONDS line
      while IFS= read -r line; do
        if [[ "$line" == \[*STEP* ]]; then
          log "  ${line:0:150}"
          last=$SECONDS
        elif (( SECONDS - last >= 30 )); then
          log "    ${line:0:150}"
          last=$SECONDS
        fi
      done
    }
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" = 0 ] || { tail -30 "$STATE/build.log" >&2; die "podman build failed; see $STATE/build.log"; }
  BUILD_MS=$(( $(now_ms) - start ))
  CACHED_STEPS=$(grep -c '^--> Using cache' "$STATE/build.log" || true)
  log "image built in $(( BUILD_MS / 1000 )) s ($CACHED_STEPS steps from the layer cache)"
}

build_image_prebuilt() {
  local ctx="$WORK/prebuilt"
  mkdir -p "$ctx"
  # The same as the Dockerfile's build stage: debug info out, symbols kept.
  strip --strip-debug -o "$ctx/mscr" "$BINARY"
  BUILD_ARGS=(--build-arg BINARY_SOURCE=prebuilt --build-context "prebuilt-bin=$ctx")
  podman_build --target runtime "${BUILD_ARGS[@]}"
}

# The whole Dockerfile. BINARY_SOURCE=build is the Dockerfile's default, passed explicitly because
# podman 4.3 (Debian 12) skips the build stage when the ARG in `FROM ${BINARY_SOURCE}` comes only
# from its default ("build: image not known").
build_image_full() {
  swift_mirror_volumes
  BUILD_ARGS=(--build-arg BINARY_SOURCE=build "${MIRROR_ARGS[@]}")
  podman_build --target runtime "${BUILD_ARGS[@]}"
  BINARY="built in the image (Dockerfile build stage)"
}

check_image_size() {
  IMAGE_BYTES=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  IMAGE_COMPRESSED_BYTES=$(podman save --format oci-archive "$IMAGE" 2>/dev/null | gzip -1 | wc -c)
  log "image $IMAGE: $(( IMAGE_BYTES / 1000000 )) MB, $(( IMAGE_COMPRESSED_BYTES / 1000000 )) MB compressed"
  [ $(( IMAGE_BYTES / 1000000 )) -lt "$MAX_MB" ] \
    || die "the image is $(( IMAGE_BYTES / 1000000 )) MB, over MSCR_CONTAINER_MAX_MB=$MAX_MB"
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
  podman run -d --name "$NAME" --network host -e PORT="$port" -e MSCR_LOG_FORMAT=text \
    "${REPO_ARGS[@]}" "${EXTRA_ARGS[@]}" "$IMAGE" >/dev/null
  deadline=$(( t0 + 60000 ))
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/healthz" || true)
    [ "$code" = 200 ] && break
    if [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" != true ]; then
      podman logs "$NAME" >&2 || true
      die "the container exited before /healthz answered"
    fi
    [ "$(now_ms)" -lt "$deadline" ] || die "/healthz did not answer 200 within 60 s"
    sleep 0.01  # the poll interval: the loop waits for /healthz = 200, bounded by the deadline
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
log "mode $MODE"
ensure_tools
configure_podman
DEBIAN_BASE_SECONDS=0 SWIFT_BASE_SECONDS=0
ensure_debian_base_image
case "$MODE" in
  full)
    ensure_swift_base_image
    build_image_full
    ;;
  prebuilt)
    find_binary
    build_image_prebuilt
    ;;
  *) die "MSCR_CONTAINER_MODE must be full or prebuilt, not $MODE" ;;
esac
check_image_size
prepare_function
FIRST_200=() FIRST_ANSWER=() STOP_MS=()
REPO_ARGS=(-e MSCR_MODEL_REPOSITORY=file:///models -v "$REPO:/models:ro")
for i in $(seq 1 "$RUNS"); do
  log "run $i of $RUNS"
  run_once "$([ "$i" = "$RUNS" ] && echo 1 || echo 0)"
done
BAKED_FIRST_ANSWER=0 BAKED_IMAGE_BYTES=0
if [ "$FUNCTION" = detect ]; then
  log "baked variant: mscr compile (from the image), then --target runtime-baked"
  chmod -R a+rwX "$REPO"
  podman run --rm --network none -v "$REPO:/models" "$IMAGE" \
    compile --repository /models --model yolo-fastest-1.1 >&2 || die "mscr compile failed in the image"
  BASE_IMAGE="$IMAGE" BASE_BUILD_MS="$BUILD_MS" BASE_CACHED_STEPS="$CACHED_STEPS"
  IMAGE="$BASE_IMAGE-baked"
  podman_build --target runtime-baked "${BUILD_ARGS[@]}" --build-context "model-repo=$REPO" \
    --build-arg BAKED_MODEL=yolo-fastest-1.1 --build-arg BAKED_VERSION=1
  BAKED_BUILD_MS="$BUILD_MS" BUILD_MS="$BASE_BUILD_MS" CACHED_STEPS="$BASE_CACHED_STEPS"
  BAKED_IMAGE_BYTES=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  REPO_ARGS=()
  FIRST_200_BASE=("${FIRST_200[@]}") FIRST_ANSWER_BASE=("${FIRST_ANSWER[@]}")
  run_once 0
  BAKED_FIRST_ANSWER="${FIRST_ANSWER[-1]}"
  FIRST_200=("${FIRST_200_BASE[@]}") FIRST_ANSWER=("${FIRST_ANSWER_BASE[@]}")
  grep -q "loaded from its compiled artifact" "$STATE/last-run.log" \
    || { tail -20 "$STATE/last-run.log" >&2; die "the baked image did not load its compiled artifact"; }
  log "baked: spawn -> first detection ${BAKED_FIRST_ANSWER} ms (image built in $(( BAKED_BUILD_MS / 1000 )) s)"
  IMAGE="$BASE_IMAGE"
fi
stop_max=$(printf '%s\n' "${STOP_MS[@]}" | sort -n | tail -1)
[ "$stop_max" -lt 2000 ] || die "SIGTERM took ${stop_max} ms to stop the container (limit 2000)"

log "all checks passed"
export BAKED_FIRST_ANSWER BAKED_IMAGE_BYTES
export MODE IMAGE IMAGE_BYTES IMAGE_COMPRESSED_BYTES FUNCTION RUNS EXIT_CODE DETECTIONS SERVER_TIMING \
  BUILD_MS CACHED_STEPS DEBIAN_BASE_SECONDS SWIFT_BASE_SECONDS BINARY
export FIRST_200_ALL="${FIRST_200[*]}" FIRST_ANSWER_ALL="${FIRST_ANSWER[*]}" STOP_ALL="${STOP_MS[*]}"
python3 - <<'EOF' | tee "$STATE/result.json"
import json, os, statistics
e = os.environ
ints = lambda name: [int(v) for v in e[name].split()]
print(json.dumps({
    "mode": e["MODE"],
    "image": e["IMAGE"],
    "image_size_mb": round(int(e["IMAGE_BYTES"]) / 1e6, 1),
    "image_compressed_mb": round(int(e["IMAGE_COMPRESSED_BYTES"]) / 1e6, 1),
    "function": e["FUNCTION"],
    "runs": int(e["RUNS"]),
    "spawn_to_first_200_ms": statistics.median_low(ints("FIRST_200_ALL")),
    "spawn_to_first_detection_ms": statistics.median_low(ints("FIRST_ANSWER_ALL")),
    "stop_ms": statistics.median_low(ints("STOP_ALL")),
    "baked_spawn_to_first_detection_ms": int(e["BAKED_FIRST_ANSWER"]),
    "baked_image_size_mb": round(int(e["BAKED_IMAGE_BYTES"]) / 1e6, 1),
    "spawn_to_first_200_ms_all": ints("FIRST_200_ALL"),
    "spawn_to_first_detection_ms_all": ints("FIRST_ANSWER_ALL"),
    "stop_ms_all": ints("STOP_ALL"),
    "exit_code": int(e["EXIT_CODE"]),
    "detections": int(e["DETECTIONS"]),
    "server_timing": e["SERVER_TIMING"],
    "build_ms": int(e["BUILD_MS"]),
    "build_cached_steps": int(e["CACHED_STEPS"]),
    "debian_base_image_s": int(e["DEBIAN_BASE_SECONDS"]),
    "swift_base_image_s": int(e["SWIFT_BASE_SECONDS"]),
    "binary": e["BINARY"],
}))
EOF
