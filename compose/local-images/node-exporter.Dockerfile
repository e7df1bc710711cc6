# Stand-in for prom/node-exporter (ICON_NODE_EXPORTER_IMAGE) built from Debian's packages.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       prometheus-node-exporter \
    && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["/usr/bin/prometheus-node-exporter"]
