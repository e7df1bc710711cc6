"""The simulated chain: deterministic blocks and base transactions in goloop's formats.

An empty block is derived from (cid, height) so two simulators with the same cid agree on
every empty block, and nothing but one timestamp per produced block has to be kept in memory.
Blocks that hold transactions (``txs``, filled by the ledger) hash their transactions too.
Block and base-transaction hashes carry their height in the first 8 bytes, which lets the
by-hash methods find a block without an index; the rest of the hash is a SHA3-256 digest, so
a made-up hash is still rejected.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from typing import Any

STEP_PRICE = 12_500_000_000  # 0x2e90edd00, mainnet's step price
INITIAL_SUPPLY = 800_460_000 * 10**18
ISSUE_PER_BLOCK = 3 * 10**18
EMPTY_BLOOM = "0x" + "00" * 256
_GOVERNANCE = "cx0000000000000000000000000000000000000000"


def _digest(*parts: object) -> str:
    return hashlib.sha3_256(":".join(str(p) for p in parts).encode()).hexdigest()


def hexint(value: int) -> str:
    """goloop's T_INT: 0x-prefixed lowercase hex without zero padding."""
    return hex(value)


def is_address(value: object, prefixes: tuple[str, ...] = ("hx", "cx")) -> bool:
    if not isinstance(value, str) or len(value) != 42 or value[:2] not in prefixes:
        return False
    try:
        int(value[2:], 16)
    except ValueError:
        return False
    return True


def parse_hexint(value: object) -> int | None:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
        return None
    try:
        return int(value[2:], 16)
    except ValueError:
        return None


class Chain:
    """Heights up to ``head`` exist; blocks made after ``base`` record their own timestamps."""

    def __init__(
        self,
        *,
        cid: int,
        nid: int,
        channel: str,
        start_height: int,
        block_interval: float,
        now_us: int,
    ) -> None:
        self.cid = cid
        self.nid = nid
        self.channel = channel
        self.base = start_height
        self.interval_us = max(1, int(block_interval * 1_000_000))
        self._times = array("q", [now_us])
        self.txs: dict[int, list[dict[str, Any]]] = {}  # user transactions by height

    @property
    def head(self) -> int:
        return self.base + len(self._times) - 1

    def produce(self, now_us: int) -> int:
        self._times.append(max(now_us, self._times[-1] + 1))
        return self.head

    def timestamp(self, height: int) -> int:
        if height >= self.base:
            return self._times[height - self.base]
        return self._times[0] - (self.base - height) * self.interval_us

    # hashes -----------------------------------------------------------------------------
    def digest(self, *parts: object) -> str:
        return _digest(self.cid, *parts)

    def block_hash(self, height: int) -> str:
        hashes = [tx["txHash"] for tx in self.txs.get(height, ())]
        return f"{height:016x}" + _digest(self.cid, "block", height, *hashes)[16:]

    def tx_hash(self, height: int) -> str:
        return "0x" + f"{height:016x}" + _digest(self.cid, "tx", height)[16:]

    def height_of_block_hash(self, value: str) -> int | None:
        raw = value[2:] if value.startswith("0x") else value
        if len(raw) != 64:
            return None
        try:
            height = int(raw[:16], 16)
        except ValueError:
            return None
        return height if raw.lower() == self.block_hash(height) else None

    def height_of_tx_hash(self, value: str) -> int | None:
        if not value.startswith("0x") or len(value) != 66:
            return None
        try:
            height = int(value[2:18], 16)
        except ValueError:
            return None
        return height if value.lower() == self.tx_hash(height) else None

    def validator(self, height: int) -> str:
        return "hx" + _digest(self.cid, "validator", height % 4)[:40]

    # formats ----------------------------------------------------------------------------
    def base_tx(self, height: int) -> dict[str, Any]:
        return {
            "version": "0x3",
            "timestamp": hexint(self.timestamp(height)),
            "dataType": "base",
            "data": {
                "prep": {"irep": "0x0", "rrep": "0x0"},
                "result": {
                    "coveredByFee": "0x0",
                    "coveredByOverIssuedICX": "0x0",
                    "issue": hexint(ISSUE_PER_BLOCK),
                },
            },
            "txHash": self.tx_hash(height),
        }

    def block(self, height: int) -> dict[str, Any]:
        """A block in the v2.0 format icx_getLastBlock and icx_getBlockByHeight return.

        goloop's blockV2.ToJSON always writes an empty ``signature`` (the votes are elsewhere).
        """
        user = self.txs.get(height, [])
        return {
            "block_hash": self.block_hash(height),
            "confirmed_transaction_list": [self.base_tx(height), *user],
            "height": height,
            "merkle_tree_root_hash": _digest(
                self.cid, "txroot", height, *(tx["txHash"] for tx in user)
            ),
            "peer_id": self.validator(height),
            "prev_block_hash": self.block_hash(height - 1) if height > 0 else "",
            "signature": "",
            "time_stamp": self.timestamp(height),
            "version": "2.0",
        }

    def block_json(self, height: int) -> bytes:
        return json.dumps(self.block(height), separators=(",", ":")).encode()

    @staticmethod
    def base_receipt() -> dict[str, Any]:
        """The receipt of a block's base transaction (without its block and hash fields)."""
        return {
            "cumulativeStepUsed": "0x0",
            "eventLogs": [],
            "logsBloom": EMPTY_BLOOM,
            "status": "0x1",
            "stepPrice": "0x0",
            "stepUsed": "0x0",
            "to": _GOVERNANCE,
        }

    def total_supply(self, height: int) -> int:
        return INITIAL_SUPPLY + max(0, height) * ISSUE_PER_BLOCK
