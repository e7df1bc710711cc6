"""Where the agent answers: the port and paths that its own server, the renderers (load
balancer checks, scrape configs, compose, Kubernetes) and the probes all agree on."""

from __future__ import annotations

AGENT_PORT = 9900
LIVE_PATH = "/healthz"
READY_PATH = "/readyz"
REGION_READY_PATH = "/region/readyz"
METRICS_PATH = "/metrics"
