#!/usr/bin/env bash
# Builds a Debian 12 (bookworm) base image from Debian's packages with debootstrap and
# `docker import`, for machines that reach Debian's package archive but no image registry.
# The root filesystem tarball is cached (E2E_CACHE, git-ignored) so later runs only import it;
# an image already present under the tag is left as it is, unless the tarball was just made.
# Prints the tarball's path: e2e/rootfs_build.py builds the stack's images on top of it.
#
#   e2e/base-image.sh [TAG]        TAG defaults to $ICON_BASE_IMAGE or iconctl-local/debian:12
#
# The archive comes from DEBIAN_MIRROR, or else the first Debian source this host's apt uses.
set -euo pipefail

tag="${1:-${ICON_BASE_IMAGE:-iconctl-local/debian:12}}"
cache="${E2E_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache/e2e}"
docker="${DOCKER:-docker}"
# python3-venv: the iconctl image installs into a venv; python3 also serves Ansible targets.
packages="ca-certificates,python3,python3-venv,python3-apt,sudo,iproute2,procps"
key="$(printf '%s' "bookworm:$packages:policy-rc.d:root-0755" | sha256sum | cut -c1-12)"
tarball="$cache/debian-bookworm-$key.tar"

mirror_from_apt() {
  local uri
  uri="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  if [ -z "$uri" ]; then
    uri="$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  fi
  printf '%s' "$uri"
}

made=0
if [ ! -s "$tarball" ]; then
  made=1
  mirror="${DEBIAN_MIRROR:-$(mirror_from_apt)}"
  if [ -z "$mirror" ]; then
    echo "base-image: set DEBIAN_MIRROR to a Debian archive URL" >&2
    exit 2
  fi
  command -v debootstrap >/dev/null || { echo "base-image: install debootstrap (apt-get install debootstrap)" >&2; exit 4; }
  mkdir -p "$cache"
  root="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$root" "$tarball.tmp"' EXIT
  debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 5; }
  # mktemp made the directory 0700: as the image's / that would lock out every other user.
  chmod 0755 "$root"
  # What a container image leaves out: package lists and caches, which apt fetches again.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  # Packages installed in an image build must not start their services (nginx would bind
  # the build host's port 80): the policy Debian's own container images ship.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi

if [ "$made" = 0 ] && "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag present" >&2
  echo "$tarball"
  exit 0
fi
"$docker" import \
  --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  "$tarball" "$tag" >/dev/null
echo "base image $tag imported from $(basename "$tarball")" >&2
echo "$tarball"
