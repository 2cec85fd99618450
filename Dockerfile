# mscr: one image for Cloud Run, Knative, ECS/Fargate and Lambda (behind the Lambda Web Adapter).
#
#   docker build --platform linux/amd64 -t mscr .
#   docker run --rm -p 8080:8080 -e PORT=8080 -v "$PWD/models:/models:ro" \
#     -e MSCR_MODEL_REPOSITORY=file:///models mscr
#
# Stages: `build` (Swift toolchain, release binary with the static Swift standard library),
# `prebuilt` (the same binary built elsewhere, see below), `runtime-root` (bookworm-slim with the
# runtime libraries; it gathers the files the binary needs into /rootfs) and `runtime` (the image:
# those files on an empty base, no shell or package manager; `--target runtime-root` gives the
# same binary with a shell, for debugging).
# No registry (only Debian's package servers), podman: scripts/swift-base-image.sh makes the two
# base images this file names from the machine (debootstrap bookworm; + its Swift toolchain), then
# the whole file builds unchanged; the Swift packages come from the machine's git mirror
# (url.<folder>.insteadOf https://github.com/) through read-only bind mounts:
#
#   scripts/swift-base-image.sh
#   podman build --target runtime --build-arg BINARY_SOURCE=build \
#     -v /opt/swift-packages:/opt/swift-packages:ro \
#     -v /var/tmp/mscr-container/gitconfig:/etc/gitconfig:ro -t mscr .
#
# (podman 4.3 needs BINARY_SOURCE=build spelled out: it skips the build stage otherwise.)
# From a host-built binary instead (scripts/container-test.sh with MSCR_CONTAINER_MODE=prebuilt):
#
#   podman build --target runtime --build-arg BINARY_SOURCE=prebuilt \
#     --build-context prebuilt-bin=DIR -t mscr .     # DIR holds the mscr binary
#
# A model baked into the image (`--target runtime-baked`): one published version of a file
# repository (a folder `mscr publish` or `mscr compile` wrote, or a copy of an s3/gs version's
# keys) is copied in as /app/models/MODEL/VERSION, the image's default repository. With its
# compiled artifact (model.compiled) the first load is a memory map of the image's file:
#
#   podman build --target runtime-baked --build-context model-repo=REPO \
#     --build-arg BAKED_MODEL=yolov3-416 --build-arg BAKED_VERSION=1 -t mscr:yolov3 .
#
# REPO is outside the build context (.dockerignore keeps models out), hence the named context.
#
# The binary needs x86-64 with AVX2 and FMA (its kernels are compiled for Haswell); every machine
# Cloud Run, Fargate and Lambda run x86 containers on has them.

ARG SWIFT_VERSION=6.3.1
ARG DEBIAN_RELEASE=bookworm
# `build` compiles from source here; `prebuilt` takes the binary from the prebuilt-bin context.
ARG BINARY_SOURCE=build
# `runtime-baked`: the model and version copied from the `model-repo` build context.
ARG BAKED_MODEL=model
ARG BAKED_VERSION=1

# ---------------------------------------------------------------------------------------------
FROM --platform=linux/amd64 swift:${SWIFT_VERSION}-${DEBIAN_RELEASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libopenblas-dev libjpeg-dev libpng-dev libcurl4-openssl-dev libssl-dev pkg-config binutils jq \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in their own layer: it stays cached until Package.swift changes.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve
# The tests are not in the build context (editing one must not rebuild the image), but SwiftPM
# refuses a manifest whose test targets have no folder: empty ones, named by the manifest.
RUN swift package dump-package \
      | jq -r '.targets[] | select(.type == "test") | .path // "Tests/\(.name)"' | xargs -r mkdir -p
# Everything the package builds from. A new top-level folder the manifest uses goes here and in
# .dockerignore's allow-list.
COPY Plugins ./Plugins
COPY Sources ./Sources
COPY functions ./functions
# OpenBLAS is linked statically: only the kernels mscr calls end up in the binary (~26 MB),
# instead of the 40 MB shared library, its LAPACK and libgfortran in the image. An openblas.pc
# that points at a folder holding only libopenblas.a makes `-lopenblas` pick the archive.
RUN mkdir -p /opt/openblas-static/pkgconfig \
 && ln -s /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a /opt/openblas-static/ \
 && printf '%s\n' 'Name: openblas' 'Description: OpenBLAS (static)' 'Version: 0' \
      "Cflags: $(pkg-config --cflags openblas)" \
      'Libs: -L/opt/openblas-static -lopenblas -lpthread -lm' \
      > /opt/openblas-static/pkgconfig/openblas.pc
ENV PKG_CONFIG_PATH=/opt/openblas-static/pkgconfig
# The static Swift standard library: the runtime image needs no Swift toolchain. Only
# FoundationEssentials is linked (no ICU). Debug info is stripped (symbols stay, so crash
# backtraces keep function names). The web client is compiled into the binary.
RUN swift build -c release --product mscr --static-swift-stdlib \
 && bin="$(swift build -c release --show-bin-path)" \
 && mkdir -p /staging \
 && strip --strip-debug -o /staging/mscr "$bin/mscr"

# ---------------------------------------------------------------------------------------------
# A binary built outside the same way (Debian bookworm, `--static-swift-stdlib`, static OpenBLAS:
# scripts/container-test.sh shows how), passed as a named build context:
# --build-context prebuilt-bin=DIR.
FROM scratch AS prebuilt
COPY --from=prebuilt-bin mscr /staging/mscr

FROM ${BINARY_SOURCE} AS binary

# ---------------------------------------------------------------------------------------------
FROM --platform=linux/amd64 debian:${DEBIAN_RELEASE}-slim AS runtime-root
ARG DEBIAN_FRONTEND=noninteractive
# Only what the binary links dynamically: libjpeg-turbo, libpng, libcurl and its OpenSSL
# (+ CA certificates for s3:// gs:// https:// repositories); OpenBLAS and the Swift runtime are
# inside the binary.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libjpeg62-turbo libpng16-16 libcurl4 ca-certificates libstdc++6 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin mscr
COPY --from=binary /staging/mscr /app/mscr
COPY functions/ /app/functions/
# /rootfs: the binary's shared-library closure (as the dynamic loader resolves it here), the CA
# bundle, the user and name-service files, an empty /tmp. Nothing else of Debian: no shell, no
# apt, no perl, no coreutils. A library missing from the closure shows at once: the container
# test starts the image.
RUN set -eu; \
    mkdir -p /rootfs/tmp /rootfs/etc/ssl/certs; chmod 1777 /rootfs/tmp; \
    for lib in $(ldd /app/mscr | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do \
      cp -L --parents "$lib" /rootfs/; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    cp /etc/passwd /etc/group /etc/nsswitch.conf /etc/ld.so.cache /rootfs/etc/; \
    cp -R /app /rootfs/app; \
    chroot /rootfs /app/mscr --version

# ---------------------------------------------------------------------------------------------
# `runtime` with one model version baked in (see the top of this file): the same files, the
# version copied to /app/models (the image's default repository), the same settings as `runtime`
# below (Tests/Integration/test_runtime_manifests.py holds them equal). `runtime` stays the last
# stage, so a build without --target needs no model.
FROM scratch AS runtime-baked
COPY --from=runtime-root /rootfs/ /
ARG BAKED_MODEL
ARG BAKED_VERSION
COPY --from=model-repo ${BAKED_MODEL}/${BAKED_VERSION}/ /app/models/${BAKED_MODEL}/${BAKED_VERSION}/
WORKDIR /app
ENV PORT=8080 \
    MSCR_FUNCTIONS=/app/functions \
    MSCR_MODEL_REPOSITORY=/app/models \
    MSCR_LOG_FORMAT=json
EXPOSE 8080
USER 10001:10001
ENTRYPOINT ["/app/mscr"]
CMD ["serve"]

# ---------------------------------------------------------------------------------------------
FROM scratch AS runtime
COPY --from=runtime-root /rootfs/ /
WORKDIR /app

# Cloud Run sets PORT; 8080 is its default and ours. Models: mount a folder at /app/models or set
# MSCR_MODEL_REPOSITORY to an s3:// gs:// or https:// URI.
ENV PORT=8080 \
    MSCR_FUNCTIONS=/app/functions \
    MSCR_MODEL_REPOSITORY=/app/models \
    MSCR_LOG_FORMAT=json
EXPOSE 8080
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# `mscr serve` handles SIGTERM itself (drains, exits 0): no init process needed. Other
# subcommands run the same image as a job: `args: ["retrain", "stock", ...]`.
ENTRYPOINT ["/app/mscr"]
CMD ["serve"]
