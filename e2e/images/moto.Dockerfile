# moto's S3 API for the end-to-end run, reachable from the stacks' networks as s3:5000 and
# from the host on a loopback port. Installed offline from the build context's wheels.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/moto \
    && /opt/moto/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels "moto[server]" \
    && rm -rf /tmp/wheels
ENTRYPOINT ["/opt/moto/bin/moto_server", "-H", "0.0.0.0", "-p", "5000"]
