"""What the gateway knows of one block, and the monitor messages it writes from that.

The gateway keeps one upstream *block* monitor per node open with the union of every
client's event filters and ``"logs":"0x1"``. For each block that session reports the hash and,
per filter, which transactions and which of their events matched (with the logs). Every
client's messages are derived from that: a plain block monitor's ``{"hash","height"}``, a
filtered block monitor's ``indexes``/``events``/``logs`` for its own filters in its own order,
and an event monitor's one message per matching transaction plus its ``progress``. Messages
are written as goloop writes them (Go's JSON, then a newline), so a client cannot tell the
gateway from the node.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from iconctl.sim.monitor import frame

# transaction index -> event index -> the event log (None when the session had no logs)
Matches = dict[int, dict[int, Any]]


def filter_key(spec: dict[str, Any]) -> str:
    """One name for one filter, whatever the key order it was written in."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@dataclass
class BlockRecord:
    height: int
    hash: str  # "0x..." as the monitor writes it
    received: float = field(default_factory=time.monotonic)
    matches: dict[str, Matches] = field(default_factory=dict)
    size: int = 0  # bytes of the upstream messages it was built from (the window's budget)
    _plain: str | None = None
    _plain_wire: bytes | None = None

    def covers(self, keys: tuple[str, ...]) -> bool:
        return all(key in self.matches for key in keys)

    def merge(self, keys: list[str], note: dict[str, Any], size: int) -> None:
        """Add what an upstream block message with filters ``keys`` says about this block."""
        self.size += size
        indexes = note.get("indexes") or []
        events = note.get("events") or []
        logs = note.get("logs") or []
        for position, key in enumerate(keys):
            if key in self.matches:
                continue
            found: Matches = {}
            tx_list = indexes[position] if position < len(indexes) else []
            for tx_position, tx_hex in enumerate(tx_list):
                event_list = events[position][tx_position]
                log_list = logs[position][tx_position] if position < len(logs) else []
                found[int(tx_hex, 16)] = {
                    int(ev_hex, 16): (log_list[i] if i < len(log_list) else None)
                    for i, ev_hex in enumerate(event_list)
                }
            self.matches[key] = found

    def plain(self) -> str:
        if self._plain is None:
            self._plain = frame({"hash": self.hash, "height": hex(self.height)})
        return self._plain

    def plain_wire(self) -> bytes:
        if self._plain_wire is None:
            self._plain_wire = ws_text(self.plain())
        return self._plain_wire

    def block_note(self, keys: tuple[str, ...], logs: bool) -> str:
        """A block monitor's message for a client with filters ``keys`` (in its order)."""
        if not keys:
            return self.plain()
        per_filter = [self.matches[key] for key in keys]
        if not any(per_filter):
            return self.plain()
        note: dict[str, Any] = {"hash": self.hash, "height": hex(self.height)}
        note["indexes"] = [[hex(tx) for tx in sorted(found)] for found in per_filter]
        note["events"] = [
            [[hex(ev) for ev in sorted(found[tx])] for tx in sorted(found)] for found in per_filter
        ]
        if logs:
            note["logs"] = [
                [[found[tx][ev] for ev in sorted(found[tx])] for tx in sorted(found)]
                for found in per_filter
            ]
        return frame(note)

    def event_notes(self, keys: tuple[str, ...], logs: bool) -> list[str]:
        """An event monitor's messages: one per transaction where any of its filters matched."""
        merged: dict[int, dict[int, Any]] = {}
        for key in keys:
            for tx, found in self.matches[key].items():
                merged.setdefault(tx, {}).update(found)
        notes = []
        for tx in sorted(merged):
            note: dict[str, Any] = {
                "hash": self.hash,
                "height": hex(self.height),
                "index": hex(tx),
                "events": [hex(ev) for ev in sorted(merged[tx])],
            }
            if logs:
                note["logs"] = [merged[tx][ev] for ev in sorted(merged[tx])]
            notes.append(frame(note))
        return notes


def progress_note(height: int) -> str:
    return frame({"progress": hex(height)})


def ws_text(text: str) -> bytes:
    """One unfragmented, unmasked websocket text frame (RFC 6455 5.2), as a server sends it.

    The gateway writes frames to the client's transport itself instead of through aiohttp's
    per-connection writer: one block's message is then encoded once for all its clients and
    written without a task switch per client, which is what lets one process feed 10,000
    clients a block in milliseconds (BENCHMARKS.md). aiohttp's own frames (pings, close) are
    written synchronously too, so frames never interleave.
    """
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload
