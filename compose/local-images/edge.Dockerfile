# Stand-in for the official nginx image (ICON_EDGE_IMAGE) built from Debian's packages, for
# machines that reach no image registry: nginx with njs, laid out as compose.edge.yaml and the
# rendered edge/nginx.conf expect (user nginx, modules under /etc/nginx/modules).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       nginx libnginx-mod-http-js \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin nginx \
    && ln -s /usr/lib/nginx/modules /etc/nginx/modules \
    && rm -f /etc/nginx/sites-enabled/default
STOPSIGNAL SIGQUIT
ENTRYPOINT []
CMD ["nginx", "-g", "daemon off;"]
