"""What a simulated node is: its options, its scenario, and the view of the running node that
the JSON-RPC dispatcher and the websocket monitors read (``Node``; the Simulator in
``server.py`` is the one implementation, so neither module imports the server)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from iconctl.errors import InputError
from iconctl.sim.chain import Chain
from iconctl.sim.ledger import Ledger

STATES = (
    "created",
    "initializing",
    "starting",
    "started",
    "stopping",
    "stopped",
    "failed",
    "finished",
)


@dataclass
class Scenario:
    """What the simulated node does; every field can be changed at run time (POST /scenario)."""

    block_interval: float = 2.0
    stalled: bool = False
    lag: int = 0
    error_rate: float = 0.0
    latency_ms: float = 0.0
    admin_state: str = "started"
    peers: int = 8
    batch_limit: int = 10
    ws_max_sessions: int = 10

    def validate(self) -> None:
        if not 0.001 <= self.block_interval <= 3600:
            raise InputError("block_interval must be between 0.001 and 3600 seconds")
        if self.lag < 0:
            raise InputError("lag must be >= 0 blocks")
        if not 0.0 <= self.error_rate <= 1.0:
            raise InputError("error_rate must be between 0 and 1")
        if not 0.0 <= self.latency_ms <= 60_000:
            raise InputError("latency_ms must be between 0 and 60000")
        if self.admin_state not in STATES:
            raise InputError(f"admin_state must be one of {', '.join(STATES)}")
        if not 0 <= self.peers <= 1000:
            raise InputError("peers must be between 0 and 1000")
        if self.batch_limit < 1 or self.ws_max_sessions < 0:
            raise InputError("batch_limit must be >= 1 and ws_max_sessions >= 0")

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update, all or nothing."""
        known = {f.name: f for f in fields(self)}
        candidate = Scenario(**asdict(self))
        for key, value in changes.items():
            if key not in known:
                raise InputError(f"unknown scenario field {key!r} (known: {', '.join(known)})")
            kind = type(getattr(self, key))
            if kind is bool and not isinstance(value, bool):
                raise InputError(f"{key} must be true or false")
            if kind in (int, float) and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise InputError(f"{key} must be a number")
            if kind is int and value != int(value):
                raise InputError(f"{key} must be an integer")
            if kind is str and not isinstance(value, str):
                raise InputError(f"{key} must be a string")
            setattr(candidate, key, kind(value))
        candidate.validate()
        for key in changes:
            setattr(self, key, getattr(candidate, key))


@dataclass
class SimOptions:
    host: str = "127.0.0.1"
    port: int = 9000
    control_host: str | None = None
    control_port: int = 0
    start_height: int = 1000
    cid: int = 1
    nid: int = 1
    channel: str = "icon_dex"
    data_dir: Path | None = None
    seed: int | None = None
    # genesis balances in loop (1 ICX = 10**18 loop); every other account starts empty
    funds: dict[str, int] = field(default_factory=dict)
    # goloop's chain config defaultWaitTimeout / maxWaitTimeout (ms); 0 turns the
    # *AndWait and icx_waitTransactionResult methods off, which is goloop's own default
    wait_timeout_ms: int = 5000
    max_wait_timeout_ms: int = 60_000
    debug_api: bool = False  # rpcIncludeDebug: /api/v3d answers only when on

    @classmethod
    def resolve(
        cls,
        *,
        listen: str,
        control_listen: str | None = None,
        cid: str = "0x1",
        nid: str = "0x1",
        channel: str = "icon_dex",
        fund: list[str] | None = None,
        wait_timeout_ms: int = 5000,
        **options: Any,
    ) -> SimOptions:
        """The options as `iconctl sim` takes them: ``HOST:PORT`` addresses (the control
        endpoint on loopback only), chain and network ids as numbers such as ``0x1``, and
        ``ADDRESS=ICX`` genesis balances."""
        from iconctl.http.server import is_loopback, parse_hostport
        from iconctl.sim import parse_funds

        host, port = parse_hostport(listen, option="--listen")
        control_host, control_port = None, 0
        if control_listen is not None:
            control_host, control_port = parse_hostport(control_listen, option="--control-listen")
            if not is_loopback(control_host):
                raise InputError("--control-listen: the control endpoint binds to loopback only")
        if not channel or "/" in channel:
            raise InputError(f"--channel: invalid channel name {channel!r}")
        return cls(
            host=host,
            port=port,
            control_host=control_host,
            control_port=control_port,
            cid=_chain_id(cid, "--cid"),
            nid=_chain_id(nid, "--nid"),
            channel=channel,
            funds=parse_funds(fund or []),
            wait_timeout_ms=wait_timeout_ms,
            max_wait_timeout_ms=max(60_000, wait_timeout_ms),
            **options,
        )


def _chain_id(value: str, option: str) -> int:
    try:
        number = int(value, 0)
    except ValueError:
        raise InputError(f"{option}: expected a number such as 0x1, got {value!r}") from None
    if not 0 <= number < 1 << 32:
        raise InputError(f"{option}: out of range: {value!r}")
    return number


class Node(Protocol):
    """The running node as the dispatcher and the monitors see it."""

    options: SimOptions
    scenario: Scenario
    chain: Chain
    ledger: Ledger
    height: int
    last_block_json: bytes
    new_block: asyncio.Event

    @property
    def state(self) -> str: ...

    block_streams: set[Any]  # the open block and event monitors
