#!/usr/bin/env bash
# Builds the root Dockerfile (the one users build) with podman and tests the running image:
# the classic bearer-token client, /metrics, and a SIGTERM drain that must exit 0
# (crates/tabship-serve/tests/e2e/test_container.py). Prints the image size and the cold start.
#
# No image registry is reachable here, so the Dockerfile's base images are substituted through its
# build arguments by images made from Debian's own packages:
#   RUNTIME_IMAGE  `mmdebstrap --variant=minbase bookworm` + `podman import` (what
#                  debian:bookworm-slim is: a minimal bookworm root);
#   RUST_IMAGE     the same minimal bookworm root + gcc/libc6-dev/ca-certificates from Debian + the
#                  host's rustup toolchain (`rustc --print sysroot`, the official stable build that
#                  rust:1-bookworm also ships) copied to /usr/local/rust. Debian bookworm's own rustc
#                  (1.63) is older than the workspace's rust-version (1.85), so it cannot stand in.
# Crates are not vendored: the build runs with --network=host and cargo fetches Cargo.lock's crates
# from crates.io, exactly as `docker build` does for a user (trusting, like the host, the local CAs
# of /usr/local/share/ca-certificates: a layer on the builder base adds them when there are any).
# Both base images are tagged with a stamp of what went into them and rebuilt only when it changes.
#
# Usage: scripts/container-e2e.sh              build (cached) and run the container test
#        scripts/container-e2e.sh --build-only build, print the image reference on stdout's last line
#        scripts/container-e2e.sh --bases-only make the two base images only (no compilation)
# Environment: TABSHIP_CONTAINER_CACHE (default /var/tmp/tabship-container-e2e) holds the podman
# configuration and the report; installs podman, runc and mmdebstrap via scripts/install-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

build_only=false
bases_only=false
if [[ "${1:-}" == "--build-only" ]]; then build_only=true; shift; fi
if [[ "${1:-}" == "--bases-only" ]]; then bases_only=true; shift; fi

cache="${TABSHIP_CONTAINER_CACHE:-/var/tmp/tabship-container-e2e}"
mkdir -p "$cache"
# podman's default ulimits cannot be applied in this sandbox; an empty list makes it leave them.
export CONTAINERS_CONF="$cache/containers.conf"
printf '[containers]\ndefault_ulimits = []\n' > "$CONTAINERS_CONF"

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null \
  || ! command -v runc >/dev/null; then
  bash scripts/install-tools.sh containers >&2
fi
pm() { podman --runtime runc "$@"; }

suite=bookworm
sysroot="$(rustc --print sysroot)"
rust_version="$(rustc --version | cut -d' ' -f2)"
builder_packages="gcc,libc6-dev,ca-certificates"

# make_base NAME TAG CHANGE [mmdebstrap options...]: imports a fresh minbase root unless NAME:TAG
# exists, with the Dockerfile instruction CHANGE (an ENV) applied to the image.
make_base() {
  local name="$1" tag="$2" change="$3"; shift 3
  if pm image exists "$name:$tag"; then
    echo "base image $name:$tag is cached" >&2
    return
  fi
  local tar="$cache/$(basename "$name")-$tag.tar"
  echo "making $name:$tag with mmdebstrap (a few minutes)" >&2
  mmdebstrap --quiet --variant=minbase "$@" "$suite" "$tar" >&2
  pm import --quiet --change "$change" "$tar" "$name:$tag" >&2
  rm -f "$tar"
}

# What debian:bookworm-slim leaves out of every package (its dpkg path excludes): the runtime
# base then weighs about what the real one does, and the reported image size means something.
slim=(--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*')
runtime_tag="$(echo "minbase $suite ${slim[*]} v2" | sha256sum | cut -c1-12)"
builder_tag="$(echo "minbase $suite $builder_packages rust $rust_version v1" | sha256sum | cut -c1-12)"
runtime_image="localhost/tabship-e2e/runtime-base"
builder_image="localhost/tabship-e2e/rust-builder"
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
make_base "$runtime_image" "$runtime_tag" "ENV PATH=$path" "${slim[@]}"
# share/ (docs, man pages) is the toolchain's largest part and unused by a build.
make_base "$builder_image" "$builder_tag" "ENV PATH=/usr/local/rust/bin:$path" --include="$builder_packages" \
  --customize-hook="mkdir -p \"\$1/usr/local/rust\" && tar -C '$sysroot' --exclude=./share -cf - . | tar -C \"\$1/usr/local/rust\" -xf -"
rust_image="$builder_image:$builder_tag"
# A host whose egress goes through a TLS-inspecting proxy trusts its CA locally
# (/usr/local/share/ca-certificates); cargo in the builder must trust it too to reach crates.io.
# A layer on the builder base adds those certificates, as a user behind such a proxy would.
shopt -s nullglob
local_cas=(/usr/local/share/ca-certificates/*.crt)
shopt -u nullglob
if (( ${#local_cas[@]} )); then
  trust_tag="$(cat "${local_cas[@]}" | sha256sum | cut -c1-12)-$builder_tag"
  rust_image="$builder_image-trust:$trust_tag"
  if ! pm image exists "$rust_image"; then
    trust="$cache/trust"
    rm -rf "$trust" && mkdir -p "$trust"
    cp "${local_cas[@]}" "$trust/"
    printf 'FROM %s\nCOPY *.crt /usr/local/share/ca-certificates/\nRUN update-ca-certificates\n' \
      "$builder_image:$builder_tag" > "$trust/Containerfile"
    pm build --network=host -t "$rust_image" "$trust" >&2
    rm -rf "$trust"
  fi
fi
if $bases_only; then exit 0; fi

image="localhost/tabship:e2e"
echo "building $image from Dockerfile" >&2
start=$(date +%s)
pm build --network=host \
  --build-arg RUST_IMAGE="$rust_image" \
  --build-arg RUNTIME_IMAGE="$runtime_image:$runtime_tag" \
  -t "$image" -f Dockerfile . >&2
echo "image built in $(( $(date +%s) - start )) s" >&2
# Dangling layers of earlier builds: drop them so repeated runs do not fill the disk.
pm image prune -f >/dev/null 2>&1 || true

if $build_only; then
  echo "$image"
  exit 0
fi

venv="$(bash scripts/python-env.sh)"
report="$cache/report.json"
rm -f "$report"
TABSHIP_IMAGE="$image" TABSHIP_CONTAINER_REPORT="$report" \
  "$venv/bin/python" -m pytest crates/tabship-serve/tests/e2e/test_container.py "$@"
size=$(pm image inspect --format '{{.Size}}' "$image")
echo "image $image: $(( size / 1000000 )) MB ($size bytes)"
if [[ -f "$report" ]]; then cat "$report"; echo; fi
