"""goloop's websocket monitors: ``/api/v3/<channel>/block`` and ``/api/v3/<channel>/event``.

Both read one JSON request, answer ``{"code":0}`` (or an error code and close), then stream
notifications from the requested height on (server/wsblock.go, server/wsevent.go):

- block: ``{"hash","height"}`` for every block; with ``eventFilters``, ``indexes`` and
  ``events`` (and ``logs`` with ``"logs":"0x1"``) for the blocks where a filter matched;
- event: one ``{"hash","height","index","events"[,"logs"]}`` per matching transaction; with
  ``progressInterval`` N, ``{"progress":"0x<h>"}`` after the first block processed, then
  whenever N blocks passed since the last one or the block had a match.

A filter needs an event signature (``event``); its ``indexed`` and ``data`` values are
compared as goloop compares them, after conversion to the event's parameter types.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from iconctl.http.websocket import WebSocket
from iconctl.sim.ledger import decompose_signature, event_value_bytes, log_values
from iconctl.sim.node import Node
from iconctl.sim.rpc import go_json

PARSE_ERROR = -32700
INVALID_PARAMS = -32602
SERVER_ERROR = -32000
LACK_OF_RESOURCE = -31005
_FILTER_FIELDS = frozenset({"addr", "event", "indexed", "data"})
_BLOCK_FIELDS = frozenset({"height", "eventFilters", "logs"})
_EVENT_FIELDS = _FILTER_FIELDS | {"height", "logs", "progressInterval", "eventFilters"}
MAX_FILTERS = 64


class BadRequest(Exception):
    pass


def _hex64(value: Any, *, default: int = 0) -> int:
    """goloop's HexInt64 in a websocket request: absent is 0, else "0x..." (or a number)."""
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith(("0x", "-0x")) and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise BadRequest


def _hex_bool(value: Any) -> bool:
    if value is None or value is False:
        return False
    if value is True:
        return True
    if value in ("0x1", "0x0"):
        return value == "0x1"
    raise BadRequest


@dataclass
class EventFilter:
    signature: str
    address: str | None
    indexed: list[bytes | None]
    data: list[bytes | None]

    @classmethod
    def compile(cls, spec: Any) -> EventFilter:
        """Raises ValueError (goloop's "bad event signature" / "bad event data")."""
        if not isinstance(spec, dict) or set(spec) - _FILTER_FIELDS:
            raise ValueError("invalid filter")
        signature = spec.get("event") or ""
        indexed = spec.get("indexed") or []
        data = spec.get("data") or []
        if not isinstance(signature, str) or not isinstance(indexed, list):
            raise ValueError("bad event signature")
        if not isinstance(data, list):
            raise ValueError("bad event data")
        parsed = decompose_signature(signature)
        if parsed is None or len(parsed[1]) < len(indexed) + len(data):
            raise ValueError("bad event signature")
        types = parsed[1]
        address = spec.get("addr")
        if address is not None and event_value_bytes("Address", address) is None:
            raise ValueError("bad event address")

        def convert(kind: str, value: Any) -> bytes | None:
            if value is None:
                return None
            converted = event_value_bytes(kind, value)
            if converted is None:
                raise ValueError("bad event data")
            return converted

        return cls(
            signature=signature,
            address=address,
            indexed=[convert(types[i], v) for i, v in enumerate(indexed)],
            data=[convert(types[len(indexed) + i], v) for i, v in enumerate(data)],
        )

    def matches(self, log: dict[str, Any]) -> bool:
        if log["indexed"][0] != self.signature:
            return False
        if self.address is not None and log["scoreAddress"] != self.address:
            return False
        if not self.indexed and not self.data:
            return True
        values = log_values(log)
        if values is None:
            return False
        indexed, data = values
        if len(indexed) < len(self.indexed) or len(data) < len(self.data):
            return False
        pairs = [*zip(self.indexed, indexed, strict=False), *zip(self.data, data, strict=False)]
        return all(want is None or want == got for want, got in pairs)


def _filters(specs: Any) -> list[EventFilter]:
    if not isinstance(specs, list) or len(specs) > MAX_FILTERS:
        raise ValueError("invalid eventFilters")
    return [EventFilter.compile(spec) for spec in specs]


def frame(value: Any) -> str:
    """One monitor message as goloop writes it (gorilla's WriteJSON: Go's JSON, then a newline)."""
    return go_json(value).decode() + "\n"


class Refused(Exception):
    """A monitor request goloop answers with ``{"code","message"}`` and then closes."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class MonitorRequest:
    """A monitor's first message, read the way goloop reads it."""

    fields: dict[str, Any]
    height: int
    logs: bool
    interval: int

    def filter_specs(self, *, events: bool) -> list[dict[str, Any]]:
        """The request's filters as a list of filter objects (the /event top-level form too)."""
        if events and not self.fields.get("eventFilters"):
            return [{k: self.fields[k] for k in sorted(_FILTER_FIELDS) if k in self.fields}]
        return list(self.fields.get("eventFilters") or [])


def read_request(text: str, *, events: bool) -> MonitorRequest:
    """Parse the first message; raises Refused(-32700, "bad event request") as goloop does."""
    try:
        request = json.loads(text)
        if not isinstance(request, dict):
            raise BadRequest
        allowed = _EVENT_FIELDS if events else _BLOCK_FIELDS
        if set(request) - allowed:
            raise BadRequest
        height = _hex64(request.get("height"))
        logs = _hex_bool(request.get("logs"))
        interval = _hex64(request.get("progressInterval")) if events else 0
    except (ValueError, BadRequest, RecursionError):
        raise Refused(PARSE_ERROR, "bad event request") from None
    return MonitorRequest(fields=request, height=height, logs=logs, interval=interval)


def compile_filters(request: MonitorRequest, *, events: bool) -> list[EventFilter]:
    """The request's filters, compiled; raises Refused(-32602, ...) with goloop's message."""
    fields = request.fields
    try:
        if events:
            if fields.get("eventFilters"):
                if fields.get("event"):
                    raise ValueError("both eventFilters and event is used")
                return _filters(fields["eventFilters"])
            return [EventFilter.compile({k: fields.get(k) for k in _FILTER_FIELDS})]
        return _filters(fields.get("eventFilters") or [])
    except ValueError as exc:
        raise Refused(
            INVALID_PARAMS, "bad event request parameter" if events else str(exc)
        ) from None


def check_height(request: MonitorRequest) -> None:
    if request.height < 0:
        raise Refused(
            INVALID_PARAMS, f"given height({request.height}) is lower than genesis height(0)"
        )


class Monitor(WebSocket):
    """One monitor session; ``events`` selects the /event flavour over /block."""

    def __init__(self, sim: Node, *, events: bool = False) -> None:
        super().__init__()
        self.sim = sim
        self.events = events
        self.task: asyncio.Task[None] | None = None
        self.started = False

    def _refuse(self, code: int, message: str) -> None:
        self.send_text(frame({"code": code, "message": message}))
        self.close()

    def on_message(self, text: str) -> None:
        if self.started or self.closed:
            return  # goloop reads one request per session (later ones, e.g. keepalives, ignored)
        self.started = True
        try:
            request = read_request(text, events=self.events)
            if len(self.sim.block_streams) >= self.sim.scenario.ws_max_sessions:
                raise Refused(LACK_OF_RESOURCE, "too many monitor")
            filters = compile_filters(request, events=self.events)
            if self.sim.state != "started":
                raise Refused(SERVER_ERROR, "Stopped")
            check_height(request)
        except Refused as exc:
            self._refuse(exc.code, exc.message)
            return
        self.sim.block_streams.add(self)
        self.send_text(frame({"code": 0}))
        self.task = asyncio.ensure_future(
            self._run(request.height, filters, request.logs, request.interval)
        )

    async def _run(
        self, height: int, filters: list[EventFilter], logs: bool, interval: int
    ) -> None:
        last_progress = 0
        processed = 0
        while not self.closed:
            if height > self.sim.height or self.sim.state != "started":
                await self.sim.new_block.wait()
                continue
            receipts = [(r.index, r.receipt) for r in self.sim.ledger.blocks.get(height, ())]
            block_hash = "0x" + self.sim.chain.block_hash(height)
            if self.events:
                sent = self._event_notes(height, block_hash, receipts, filters, logs)
                due = last_progress == 0 or height - last_progress >= interval or sent
                if interval > 0 and due:
                    last_progress = height
                    self.send_text(frame({"progress": hex(height)}))
            else:
                self._block_note(height, block_hash, receipts, filters, logs)
            height += 1
            processed += 1
            if processed % 256 == 0:
                await asyncio.sleep(0)  # long catch-ups must not starve other clients

    def _block_note(self, height, block_hash, receipts, filters, logs) -> None:
        note: dict[str, Any] = {"hash": block_hash, "height": hex(height)}
        if filters:
            indexes: list[list[str]] = [[] for _ in filters]
            events: list[list[list[str]]] = [[] for _ in filters]
            found: list[list[list[dict]]] = [[] for _ in filters]
            for index, receipt in receipts:
                for fi, flt in enumerate(filters):
                    hits = [i for i, log in enumerate(receipt["eventLogs"]) if flt.matches(log)]
                    if hits:
                        indexes[fi].append(hex(index))
                        events[fi].append([hex(i) for i in hits])
                        found[fi].append([receipt["eventLogs"][i] for i in hits])
            if any(indexes):
                note["indexes"] = indexes
                note["events"] = events
                if logs:
                    note["logs"] = found
        self.send_text(frame(note))

    def _event_notes(self, height, block_hash, receipts, filters, logs) -> int:
        sent = 0
        for index, receipt in receipts:
            hits = [
                i
                for i, log in enumerate(receipt["eventLogs"])
                if any(flt.matches(log) for flt in filters)
            ]
            if not hits:
                continue
            note: dict[str, Any] = {
                "hash": block_hash,
                "height": hex(height),
                "index": hex(index),
                "events": [hex(i) for i in hits],
            }
            if logs:
                note["logs"] = [receipt["eventLogs"][i] for i in hits]
            self.send_text(frame(note))
            sent += 1
        return sent

    def on_close(self) -> None:
        self.sim.block_streams.discard(self)
        if self.task is not None:
            self.task.cancel()
