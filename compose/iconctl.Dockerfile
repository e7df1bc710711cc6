# The iconctl image for the stack's sidecars (agent, restore, snapshot), and (target `sim`)
# the node simulator image that stands in for goloop in tests and demos.
#
# The build context holds a wheelhouse (wheels/: iconctl's wheel and its dependencies), so the
# image installs offline and needs no index inside the build. compose/build-images.sh makes
# the wheelhouse on the host and builds both targets:
#   compose/build-images.sh                  # ghcr.io/icon-community/iconctl:<version>
# BASE_IMAGE is any Debian 12 image with python3 and python3-venv: the official python image
# where a registry is reachable, a debootstrap-made one where none is (e2e/base-image.sh).

ARG BASE_IMAGE=python:3.11-slim-bookworm
# Few instructions on purpose: engines on a copying storage driver (vfs) copy the whole image
# for every one of them.
FROM ${BASE_IMAGE} AS iconctl
ARG ICONCTL_VERSION
COPY wheels /tmp/wheels
# A venv keeps iconctl's dependencies apart from the base image's Python packages.
RUN test -n "$ICONCTL_VERSION" \
    && python3 -m venv /opt/iconctl \
    && /opt/iconctl/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels \
       "iconctl==${ICONCTL_VERSION}" \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin iconctl \
    && /opt/iconctl/bin/iconctl --help >/dev/null
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/iconctl/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Unprivileged by default; the restore and snapshot services switch to root without any
# capability (compose) because goloop's data directory is root's.
USER iconctl
ENTRYPOINT ["iconctl"]

# goloop stand-in: the JSON-RPC, admin and websocket API on 9000 with a growing data directory
# in /goloop/data, where icon2-node keeps its chain (compose.yaml mounts the node's data there).
FROM iconctl AS sim
USER root
ENTRYPOINT ["iconctl", "sim", "--listen", "0.0.0.0:9000", "--data-dir", "/goloop", "--block-interval", "1"]
