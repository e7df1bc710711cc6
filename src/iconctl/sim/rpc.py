"""JSON-RPC v3 as goloop answers it: methods, batches, error objects and HTTP status codes.

goloop answers a single request with 200 (result) or 400 (error object), a batch with 200 and
an array (notifications left out), an empty batch with 400 and a batch above rpcBatchLimit
with 503. A chain that is not started answers block methods with -32000 "ServerError: Stopped".
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from iconctl.sim.chain import STEP_PRICE, Chain, hexint, is_address, parse_hexint

if TYPE_CHECKING:
    from iconctl.sim.server import Simulator

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000
SYSTEM_ERROR = -31000
NOT_FOUND = -31004
SCORE_METHOD_NOT_FOUND = -30003

_NAMES = {
    PARSE_ERROR: "ParseError",
    INVALID_REQUEST: "InvalidRequest",
    METHOD_NOT_FOUND: "MethodNotFound",
    INVALID_PARAMS: "InvalidParams",
    SERVER_ERROR: "ServerError",
    SYSTEM_ERROR: "SystemError",
    NOT_FOUND: "NotFound",
    SCORE_METHOD_NOT_FOUND: "SCOREError(-30003)",
}

# goloop counts these under goloop_jsonrpc_retrieve_cnt{method=...}; icx_call has its own counter
RETRIEVE_METHODS = frozenset(
    {
        "icx_getLastBlock",
        "icx_getBlockByHeight",
        "icx_getBlockByHash",
        "icx_getBalance",
        "icx_getTotalSupply",
        "icx_getTransactionResult",
        "icx_getNetworkInfo",
    }
)

_TOKEN = {"name": "Simulated Token", "symbol": "SIM", "decimals": "0x12"}
_CHAIN_SCORE = {
    "getStepPrice": hexint(STEP_PRICE),
    "getMaxStepLimit": "0x9502f900",
    "getRevision": "0x18",
}


class RpcError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        name = _NAMES.get(code, f"ServerError({code})")
        super().__init__(f"{name}: {detail}" if detail else name)
        self.code = code
        self.message = str(self)


def _error_body(code: int, message: str, rid: Any) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": rid},
        separators=(",", ":"),
    ).encode()


class Dispatcher:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.retrieve: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.calls = 0

    # entry point ------------------------------------------------------------------------
    def handle(self, body: bytes) -> tuple[int, bytes]:
        """HTTP status and body for one POST to /api/v3."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self.failures[""] += 1
            return 400, _error_body(PARSE_ERROR, "ParseError", None)
        if isinstance(payload, list):
            if not payload:
                self.failures[""] += 1
                return 400, _error_body(INVALID_REQUEST, "InvalidRequest", None)
            if len(payload) > self.sim.scenario.batch_limit:
                self.failures[""] += 1
                return 503, _error_body(INVALID_REQUEST, "InvalidRequest: too many request", None)
            parts = [p for p in (self._one(item)[1] for item in payload) if p is not None]
            return 200, b"[" + b",".join(parts) + b"]"
        status, part = self._one(payload)
        return status, (part if part is not None else b"")

    def _one(self, req: Any) -> tuple[int, bytes | None]:
        rid = req.get("id") if isinstance(req, dict) else None
        method = req.get("method") if isinstance(req, dict) else None
        try:
            if not isinstance(req, dict) or req.get("jsonrpc") != "2.0":
                raise RpcError(INVALID_REQUEST, "jsonrpc must be '2.0'")
            if not isinstance(method, str):
                raise RpcError(INVALID_REQUEST, "required('method')")
            handler = _METHODS.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND)
            if "id" not in req:  # notifications are not answered
                return 200, None
            params = req.get("params", {})
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise RpcError(INVALID_PARAMS, "params must be an object")
            if method == "icx_call":
                self.calls += 1
            else:
                self.retrieve[method] += 1
            result = handler(self, params)
        except RpcError as exc:
            self.failures[method if isinstance(method, str) and method in _METHODS else ""] += 1
            return 400, _error_body(exc.code, exc.message, rid)
        rid_json = json.dumps(rid).encode()
        return 200, b'{"jsonrpc":"2.0","result":' + result + b',"id":' + rid_json + b"}"

    # helpers ------------------------------------------------------------------------------
    @property
    def chain(self) -> Chain:
        return self.sim.chain

    def _started(self) -> int:
        if self.sim.state != "started":
            raise RpcError(SERVER_ERROR, "Stopped")
        return self.sim.height

    def _height_param(self, params: dict[str, Any], *, required: bool) -> int:
        latest = self._started()
        if "height" not in params:
            if required:
                raise RpcError(INVALID_PARAMS, "required('height')")
            return latest
        height = parse_hexint(params["height"])
        if height is None:
            raise RpcError(INVALID_PARAMS, f"invalid height {params['height']!r}")
        if height > latest:
            raise RpcError(NOT_FOUND, f"block at height {height} not found")
        return height


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _get_last_block(d: Dispatcher, params: dict[str, Any]) -> bytes:
    d._started()
    return d.sim.last_block_json


def _get_block_by_height(d: Dispatcher, params: dict[str, Any]) -> bytes:
    return d.chain.block_json(d._height_param(params, required=True))


def _get_block_by_hash(d: Dispatcher, params: dict[str, Any]) -> bytes:
    latest = d._started()
    value = params.get("hash")
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise RpcError(INVALID_PARAMS, "hash must be 0x and 64 hex digits")
    height = d.chain.height_of_block_hash(value)
    if height is None or height > latest:
        raise RpcError(NOT_FOUND, f"block {value} not found")
    return d.chain.block_json(height)


def _get_balance(d: Dispatcher, params: dict[str, Any]) -> bytes:
    d._started()
    address = params.get("address")
    if not is_address(address):
        raise RpcError(INVALID_PARAMS, f"invalid address {address!r}")
    return _dumps(hexint(d.chain.balance(address)))


def _get_total_supply(d: Dispatcher, params: dict[str, Any]) -> bytes:
    height = d._height_param(params, required=False)
    return _dumps(hexint(d.chain.total_supply(height)))


def _get_transaction_result(d: Dispatcher, params: dict[str, Any]) -> bytes:
    latest = d._started()
    value = params.get("txHash")
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise RpcError(INVALID_PARAMS, "txHash must be 0x and 64 hex digits")
    height = d.chain.height_of_tx_hash(value)
    if height is None or height > latest:
        raise RpcError(NOT_FOUND, f"transaction {value} not found")
    return _dumps(d.chain.tx_result(height))


def _get_network_info(d: Dispatcher, params: dict[str, Any]) -> bytes:
    latest = d._started()
    return _dumps(
        {
            "platform": "icon",
            "nid": hexint(d.chain.nid),
            "channel": d.chain.channel,
            "earliest": "0x0",
            "latest": hexint(latest),
            "stepPrice": hexint(STEP_PRICE),
        }
    )


def _call(d: Dispatcher, params: dict[str, Any]) -> bytes:
    d._started()
    to = params.get("to")
    data = params.get("data")
    if not is_address(to, ("cx",)):
        raise RpcError(INVALID_PARAMS, f"invalid score address {to!r}")
    if params.get("dataType") != "call" or not isinstance(data, dict):
        raise RpcError(INVALID_PARAMS, "dataType must be 'call' with a data object")
    method = data.get("method")
    args = data.get("params") or {}
    if not isinstance(args, dict):
        raise RpcError(INVALID_PARAMS, "data.params must be an object")
    if to == "cx0000000000000000000000000000000000000000" and method in _CHAIN_SCORE:
        return _dumps(_CHAIN_SCORE[method])
    if method in _TOKEN:
        return _dumps(_TOKEN[method])
    if method == "totalSupply":
        return _dumps(hexint(d.chain.total_supply(d.sim.height)))
    if method == "balanceOf":
        owner = args.get("_owner")
        if not is_address(owner):
            raise RpcError(INVALID_PARAMS, f"invalid _owner {owner!r}")
        return _dumps(hexint(d.chain.balance(f"{to}:{owner}")))
    raise RpcError(SCORE_METHOD_NOT_FOUND, f"method {method!r} not found")


_METHODS = {
    "icx_getLastBlock": _get_last_block,
    "icx_getBlockByHeight": _get_block_by_height,
    "icx_getBlockByHash": _get_block_by_hash,
    "icx_getBalance": _get_balance,
    "icx_getTotalSupply": _get_total_supply,
    "icx_getTransactionResult": _get_transaction_result,
    "icx_getNetworkInfo": _get_network_info,
    "icx_call": _call,
}


def injected_failure(body: bytes) -> bytes:
    """The body of an error the error-rate scenario injects (HTTP 500, a node in trouble)."""
    rid: Any = None
    try:
        payload = json.loads(body)
        if isinstance(payload, dict):
            rid = payload.get("id")
    except ValueError:
        pass
    return _error_body(SYSTEM_ERROR, "SystemError: injected failure", rid)
