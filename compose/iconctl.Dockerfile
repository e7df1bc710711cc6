# The iconctl image for the stack's sidecars (agent, restore, snapshot).
# Build from the repository root:
#   docker build -f compose/iconctl.Dockerfile -t iconctl:0.1.0 .
# and set ICON_ICONCTL_IMAGE=iconctl:0.1.0 (or push it to your registry and use that name).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN pip install --no-cache-dir build==1.2.2
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
# the infrastructure code the wheel carries (pyproject.toml, force-include)
COPY terraform ./terraform
COPY monitoring ./monitoring
COPY ansible ./ansible
COPY packer ./packer
COPY compose ./compose
COPY edge ./edge
COPY logging ./logging
RUN python -m build --wheel --outdir /dist

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm -f /tmp/*.whl \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin iconctl
# Unprivileged by default; the restore and snapshot services switch to root without any
# capability (compose) because goloop's data directory is root's.
USER iconctl
ENTRYPOINT ["iconctl"]
CMD ["--help"]
