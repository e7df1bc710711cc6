"""The gateway's Prometheus series (prometheus_client, one registry per gateway)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from iconctl.gateway.service import Gateway

disable_created_metrics()  # the _created series only double the scrape

DELIVERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.clients = Gauge(
            "icon_gateway_clients", "Client monitors being served.", ["monitor"], registry=r
        )
        for monitor in ("block", "event"):
            self.clients.labels(monitor=monitor)
        self.upstream_sessions = Gauge(
            "icon_gateway_upstream_sessions", "Open monitor sessions to the node.", registry=r
        )
        self.upstream_height = Gauge(
            "icon_gateway_upstream_height", "Newest block the node reported.", registry=r
        )
        self.upstream_reconnects = Counter(
            "icon_gateway_upstream_reconnects",
            "Upstream monitor sessions lost or refused, then retried.",
            registry=r,
        )
        self.delivery = Histogram(
            "icon_gateway_delivery_seconds",
            "Lag node to client: from the node's message to the client's socket.",
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.dropped = Counter(
            "icon_gateway_dropped_clients",
            "Clients closed by the gateway after they were served (reason: slow, no_pong).",
            ["reason"],
            registry=r,
        )
        self.refused = Counter(
            "icon_gateway_refused_clients",
            "Client monitors refused (reason: capacity, per_client, filters, too_far_behind, "
            "bad_request).",
            ["reason"],
            registry=r,
        )
        self.replayed = Counter(
            "icon_gateway_replayed_blocks",
            "Blocks sent to resuming clients, by source (window, jsonrpc).",
            ["source"],
            registry=r,
        )
        self._gateway: Gateway | None = None

    def bind(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self.upstream_sessions.set_function(gateway.upstream_sessions)

    async def handle(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
