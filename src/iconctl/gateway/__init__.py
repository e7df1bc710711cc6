"""The websocket gateway: goloop's block and event monitors fanned out to many clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from iconctl.gateway.service import Gateway, GatewayConfig, serve

__all__ = ["Gateway", "GatewayConfig", "run"]


def run(config: GatewayConfig, ready: Callable[[Gateway, int], None]) -> None:
    """Serve until SIGTERM/SIGINT. Raises InputError for bad options or a busy port."""
    config.validate()
    asyncio.run(serve(config, ready))
