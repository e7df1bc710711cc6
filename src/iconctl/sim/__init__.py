"""A local ICON node simulator: goloop's JSON-RPC, admin and metrics formats, with scenarios.

Used by the tests, ``iconctl demo`` and the load test in place of a real node.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from iconctl.errors import InputError
from iconctl.sim.node import STATES, Scenario, SimOptions
from iconctl.sim.server import Simulator, serve

__all__ = ["STATES", "Scenario", "SimOptions", "Simulator", "parse_funds", "run"]

_ADDRESS = re.compile(r"^[hc]x[0-9a-f]{40}$")
_MAX_ICX = Decimal(10) ** 12


def parse_funds(items: list[str]) -> dict[str, int]:
    """``--fund hx...=ICX`` values as loop balances (1 ICX = 10**18 loop), in the given order."""
    funds: dict[str, int] = {}
    for item in items:
        address, sep, amount = item.partition("=")
        if not sep or not _ADDRESS.match(address):
            raise InputError(
                f"--fund: expected ADDRESS=ICX with a lowercase hx/cx address, got {item!r}"
            )
        try:
            icx = Decimal(amount)
        except InvalidOperation:
            raise InputError(f"--fund: not a number of ICX: {amount!r}") from None
        if not icx.is_finite() or not 0 <= icx <= _MAX_ICX:
            raise InputError(f"--fund: ICX amount must be between 0 and 10^12, got {amount!r}")
        loop = icx * 10**18
        if loop != loop.to_integral_value():
            raise InputError(f"--fund: at most 18 decimals (1 loop = 10^-18 ICX): {amount!r}")
        funds[address] = funds.get(address, 0) + int(loop)
    return funds


def run(options: SimOptions, scenario: Scenario, ready: Callable[[Simulator], None]) -> None:
    """Serve until SIGTERM/SIGINT. Raises InputError for bad options or a busy port."""
    scenario.validate()
    asyncio.run(serve(options, scenario, ready))
