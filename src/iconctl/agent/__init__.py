"""The health agent: background polling of the node and references, health and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from iconctl.agent.service import Agent, AgentConfig, serve

__all__ = ["Agent", "AgentConfig", "run"]


def run(config: AgentConfig, ready: Callable[[Agent], None]) -> None:
    """Serve until SIGTERM/SIGINT. Raises InputError for bad options or a busy port."""
    config.validate()
    asyncio.run(serve(config, ready))
