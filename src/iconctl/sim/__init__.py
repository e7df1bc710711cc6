"""A local ICON node simulator: goloop's JSON-RPC, admin and metrics formats, with scenarios.

Used by the tests, ``iconctl demo`` and the load test in place of a real node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from iconctl.sim.server import STATES, Scenario, SimOptions, Simulator, serve

__all__ = ["STATES", "Scenario", "SimOptions", "Simulator", "run"]


def run(options: SimOptions, scenario: Scenario, ready: Callable[[Simulator], None]) -> None:
    """Serve until SIGTERM/SIGINT. Raises InputError for bad options or a busy port."""
    scenario.validate()
    asyncio.run(serve(options, scenario, ready))
