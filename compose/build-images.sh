#!/usr/bin/env bash
# Builds the iconctl image and the node simulator image from this checkout, versioned with the
# package: <registry>/iconctl:<version> and <registry>/iconctl-sim:<version>. The wheel and its
# dependencies are built on this host (its pip and package index), so the image build itself
# needs no index; the base image is a build argument.
#
#   compose/build-images.sh [--base-image IMAGE] [--registry NAME] [--stand-ins] [--push]
#                           [--rootfs TARBALL]
#
#   --base-image  Debian 12 image with python3 + python3-venv (default python:3.11-slim-bookworm;
#                 e2e/base-image.sh makes one with debootstrap where no registry is reachable)
#   --registry    image name prefix (default ghcr.io/icon-community, the spec's default)
#   --stand-ins   also build Debian-package equivalents of the third-party images the stack
#                 uses (nginx with njs, certbot, node exporter) as iconctl-local/<name>:<version>,
#                 to set through ICON_EDGE_IMAGE, ICON_CERTBOT_IMAGE, ICON_NODE_EXPORTER_IMAGE
#   --push        push the iconctl and simulator images (release workflow)
#   --rootfs      the root filesystem tarball --base-image was imported from: build without the
#                 engine's builder (e2e/rootfs_build.py: the Dockerfiles' steps in a chroot, one
#                 `docker import` per image; root needed). The same images, made in minutes
#                 where the engine copies the whole image per instruction (vfs storage).
#
# Prints the built image names, one per line, on stdout.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
docker="${DOCKER:-docker}"
python="${PYTHON:-python3}"
base_image="python:3.11-slim-bookworm"
registry="ghcr.io/icon-community"
stand_ins=0
push=0
rootfs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base-image) base_image="$2"; shift 2 ;;
    --registry) registry="${2%/}"; shift 2 ;;
    --stand-ins) stand_ins=1; shift ;;
    --push) push=1; shift ;;
    --rootfs) rootfs="$2"; shift 2 ;;
    *) echo "build-images: unknown option $1" >&2; exit 2 ;;
  esac
done

# The wheels are built for this host's Python: it must be the image's (Debian 12: 3.11).
if [ "$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "3.11" ]; then
  echo "build-images: $python is not Python 3.11 (the Debian 12 image's); set PYTHON" >&2
  exit 2
fi

context="${ICONCTL_IMAGE_CONTEXT:-$root/.cache/images}"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/pyproject.toml")"

build() {  # build DOCKERFILE CONTEXT [STAGE=]TAG... -- [build args...]  (no STAGE: the last one)
  local file="$1" dir="$2" targets=() item
  shift 2
  while [ "$1" != "--" ]; do targets+=("$1"); shift; done
  shift
  if [ -n "$rootfs" ]; then
    local tags=()
    for item in "${targets[@]}"; do tags+=(-t "$item"); done
    "$python" "$root/e2e/rootfs_build.py" --rootfs "$rootfs" --base-image "$base_image" \
      -f "$file" "${tags[@]}" "$@" "$dir" >/dev/null
  else
    for item in "${targets[@]}"; do
      local target=()
      [[ "$item" == *=* ]] && target=(--target "${item%%=*}")
      "$docker" build --quiet --network host -f "$file" "${target[@]}" -t "${item#*=}" "$@" \
        "$dir" >&2
    done
  fi
  for item in "${targets[@]}"; do echo "${item#*=}"; done
}

# The stand-ins need nothing from the checkout: they build while the wheels are made.
pids=()
if [ "$stand_ins" = 1 ]; then
  mkdir -p "$context/empty"
  for name in edge certbot node-exporter; do
    build "$root/compose/local-images/$name.Dockerfile" "$context/empty" \
      "iconctl-local/$name:$version" -- --build-arg BASE_IMAGE="$base_image" &
    pids+=("$!")
  done
fi

rm -rf "$context/wheels"
mkdir -p "$context/wheels"
# The wheel is built from the files git sees (tracked, or new and not ignored), never from
# caches that tools leave in the tree (ansible-lint's .ansible/ holds broken links).
source="$root"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  source="$context/source"
  rm -rf "$source"
  mkdir -p "$source"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard \
    | tar --null -T - --ignore-failed-read -cf -) | tar -C "$source" -xf -
fi
# A fixed timestamp makes the wheel's bytes depend on its content only (rootfs_build.py skips
# an image whose inputs did not change).
SOURCE_DATE_EPOCH=315532800 "$python" -m pip wheel --quiet --wheel-dir "$context/wheels" "$source" >&2
if [ ! -f "$context/wheels/iconctl-$version-py3-none-any.whl" ]; then
  echo "build-images: no iconctl $version wheel (pyproject.toml's version) was built" >&2
  exit 5
fi

build "$root/compose/iconctl.Dockerfile" "$context" \
  "iconctl=$registry/iconctl:$version" "sim=$registry/iconctl-sim:$version" -- \
  --build-arg BASE_IMAGE="$base_image" --build-arg ICONCTL_VERSION="$version"
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ "$failed" = 1 ]; then
  echo "build-images: a stand-in image did not build (above)" >&2
  exit 5
fi
if [ "$push" = 1 ]; then
  "$docker" push "$registry/iconctl:$version" >&2
  "$docker" push "$registry/iconctl-sim:$version" >&2
fi
