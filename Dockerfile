# The tabship serving image: `docker build -t tabship .` then
#   docker run -p 8080:8080 -v "$PWD/models:/models:ro" -v "$PWD/keys.toml:/etc/tabship/keys.toml:ro" \
#     -e TABSHIP_KEYS=/etc/tabship/keys.toml tabship
# `docker run IMAGE serve` (how SageMaker starts a container) works too: every setting the image
# needs is in the environment (TABSHIP_HOST/PORT/MODEL_DIR/...), not in CMD. See docs/operations.md,
# "Containers".
#
# Base images are build arguments so that a mirror or an air-gapped build can substitute its own
# (scripts/container-e2e.sh builds this very file from Debian roots made by mmdebstrap):
#   RUST_IMAGE    a Debian bookworm image with cargo and rustc >= the workspace's rust-version (1.85)
#                 on PATH and a C linker (cc);
#   RUNTIME_IMAGE a Debian bookworm (glibc 2.36) image; the binary needs only libc, libm, libgcc_s.
ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY . .
# --locked: the image is built from Cargo.lock exactly. Only the CLI (it embeds the server). The
# cache mount keeps compiled dependencies between builds (BuildKit and podman/buildah both have
# it); the binary is copied out because a cache mount is not part of the layer.
RUN --mount=type=cache,id=tabship-target,target=/src/target \
    cargo build --release --locked -p tabship-cli \
    && install -D -m 0755 target/release/tabship /out/tabship

FROM ${RUNTIME_IMAGE}
# Numeric and not in /etc/passwd on purpose: Kubernetes' runAsNonRoot can only verify a numeric
# USER, and the runtime stage then needs no `useradd` (absent from minimal roots).
ARG UID=10001
COPY --from=builder /out/tabship /usr/local/bin/tabship
# /models: the artifacts (mount them read-only); /var/lib/tabship: writable state (prediction log,
# --state-dir) for whoever mounts a volume there.
RUN mkdir -p /models /var/lib/tabship && chown ${UID}:${UID} /models /var/lib/tabship
VOLUME ["/models"]
ENV TABSHIP_HOST=0.0.0.0 \
    TABSHIP_PORT=8080 \
    TABSHIP_MODEL_DIR=/models \
    TABSHIP_JSON_LOGS=true \
    TABSHIP_DRAIN_SECONDS=5
USER ${UID}:${UID}
WORKDIR /var/lib/tabship
EXPOSE 8080
# Exec form: tabship is PID 1 and receives SIGTERM itself (it drains, then exits 0).
ENTRYPOINT ["tabship"]
CMD ["serve"]
