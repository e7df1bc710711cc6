# Stand-in for certbot/certbot (ICON_CERTBOT_IMAGE) built from Debian's packages, with openssl
# for the self-signed fallback of compose.single.yaml.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       certbot openssl \
    && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["certbot"]
