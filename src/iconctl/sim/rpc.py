"""JSON-RPC v3 as goloop answers it: methods, batches, error objects and HTTP status codes.

goloop answers a single request with 200 (result) or 400 (error object), a batch with 200 and
an array (notifications left out), an empty batch with 400 and a batch above rpcBatchLimit
with 503 (``data`` says "too many request"). A chain that is not started answers with -32000
"ServerError: Stopped". Requests and params are validated as goloop's server/jsonrpc and
server/v3 do (params.py); transactions as its service/transaction does (ledger.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast

from iconctl.sim import params as P
from iconctl.sim.chain import Chain, hexint, parse_hexint
from iconctl.sim.ledger import (
    CHAIN_SCORE,
    STEP_CONTRACT_CALL,
    STEP_DEFAULT,
    STEP_INPUT,
    STEP_PRICE,
    CallFailed,
    InvalidCall,
    TxError,
    TxRecord,
)
from iconctl.sim.node import Node

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000
SYSTEM_ERROR = -31000
POOL_OVERFLOW = -31001
PENDING = -31002
EXECUTING = -31003
NOT_FOUND = -31004
TIMEOUT = -31006
SYSTEM_TIMEOUT = -31007
SCORE_ERROR = -30000

_NAMES = {
    PARSE_ERROR: "ParseError",
    INVALID_REQUEST: "InvalidRequest",
    METHOD_NOT_FOUND: "MethodNotFound",
    INVALID_PARAMS: "InvalidParams",
    SERVER_ERROR: "ServerError",
    SYSTEM_ERROR: "SystemError",
    POOL_OVERFLOW: "PoolOverflow",
    PENDING: "Pending",
    EXECUTING: "Executing",
    NOT_FOUND: "NotFound",
    -31005: "LackOfResource",
    TIMEOUT: "Timeout",
    SYSTEM_TIMEOUT: "SystemTimeout",
}

# goloop counts these under goloop_jsonrpc_retrieve_cnt{method=...}; icx_call has its own counter
RETRIEVE_METHODS = frozenset(
    {
        "icx_getLastBlock",
        "icx_getBlockByHeight",
        "icx_getBlockByHash",
        "icx_getBalance",
        "icx_getScoreApi",
        "icx_getScoreStatus",
        "icx_getTotalSupply",
        "icx_getTransactionResult",
        "icx_getTransactionByHash",
        "icx_getNetworkInfo",
    }
)
# the only methods goloop runs without an id (and then answers nothing)
_NOTIFICATIONS = frozenset({"icx_sendTransaction", "icx_sendTransactionAndWait"})
_REQUEST_FIELDS = frozenset({"jsonrpc", "method", "params", "id"})
_PLAIN_IDS = (int, str, float, type(None))


def error_name(code: int) -> str:
    if code in _NAMES:
        return _NAMES[code]
    if SERVER_ERROR - 1000 < code < SERVER_ERROR:
        return f"ServerError({code})"
    if SYSTEM_ERROR - 1000 < code < SYSTEM_ERROR:
        return f"SystemError({code})"
    if SCORE_ERROR - 1000 < code <= SCORE_ERROR:
        return f"SCOREError({code})"
    return f"UnknownError({code})"


class RpcError(Exception):
    """goloop's jsonrpc.Error: ``<Name>: <detail>`` (or just the name), optional ``data``."""

    def __init__(self, code: int, detail: str = "", *, data: Any = None) -> None:
        name = error_name(code)
        super().__init__(f"{name}: {detail}" if detail else name)
        self.code = code
        self.message = str(self)
        self.data = data


def error_body(code: int, message: str, rid: Any, data: Any = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return go_json({"jsonrpc": "2.0", "error": error, "id": rid})


def go_duration(ms: int) -> str:
    """A millisecond count the way Go's time.Duration prints it (5s, 1.5s, 250ms, 1m0s)."""
    if ms % 1000 == 0 and ms < 60_000:
        return f"{ms // 1000}s"
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:g}s"
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}m{rest / 1000:g}s"


class Context:
    """What one HTTP request carries besides its body: goloop's Icon-Options header.

    ``headers`` is called only when a method needs an option, so the common request never
    pays for parsing its headers.
    """

    def __init__(self, icon_options: str | Callable[[], str] = "") -> None:
        self._source = icon_options

    @property
    def options(self) -> dict[str, str]:
        raw = self._source() if callable(self._source) else self._source
        options: dict[str, str] = {}
        for item in raw.split(","):
            if item:
                key, _, value = item.partition("=")
                options[key.strip()] = value.strip()
        return options

    def timeout_ms(self, default: int) -> int:
        try:
            return int(self.options["timeout"])
        except (KeyError, ValueError):
            return default


Handler = Callable[["Dispatcher", Any, Context], "bytes | Awaitable[bytes]"]
Answer = tuple[int, "bytes | None"]


class Dispatcher:
    def __init__(self, sim: Node, *, debug: bool = False) -> None:
        self.sim = sim
        self.methods = _DEBUG_METHODS if debug else _METHODS
        self.retrieve: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.calls = 0

    # entry point ------------------------------------------------------------------------
    def handle(self, body: bytes, ctx: Context | None = None) -> Answer | Awaitable[Answer]:
        """HTTP status and body for one POST; a coroutine when an answer has to wait.

        Bodies end with a newline, as goloop's (echo's JSON encoder) do; a notification's
        answer is empty.
        """
        answer = self._handle(body, ctx or Context())
        if type(answer) is tuple:
            return _newline(answer)
        return self._newline_later(cast(Awaitable[Answer], answer))

    async def _newline_later(self, answer: Awaitable[Answer]) -> Answer:
        return _newline(await answer)

    def _handle(self, body: bytes, ctx: Context) -> Answer | Awaitable[Answer]:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            self.failures[""] += 1
            return 400, error_body(PARSE_ERROR, "ParseError", None)
        if isinstance(payload, list):
            if not payload:
                self.failures[""] += 1
                return 400, error_body(INVALID_REQUEST, "InvalidRequest", None)
            if len(payload) > self.sim.scenario.batch_limit:
                self.failures[""] += 1
                return 503, error_body(
                    INVALID_REQUEST, "InvalidRequest", None, data="too many request"
                )
            parts = [self._one(item, ctx) for item in payload]
            if any(p is not None and type(p) is not bytes for p in parts):
                return self._batch_later(parts)
            return 200, _join(cast(list[bytes | None], parts))
        part = self._one(payload, ctx)
        if part is not None and type(part) is not bytes:
            return self._single_later(cast(Awaitable[bytes | None], part))
        return _single(cast(bytes | None, part))

    async def _batch_later(self, parts: list[Any]) -> Answer:
        done = await asyncio.gather(*(_resolve(p) for p in parts))
        return 200, _join(done)

    async def _single_later(self, part: Awaitable[bytes | None]) -> Answer:
        return _single(await part)

    def _one(self, req: Any, ctx: Context) -> bytes | None | Awaitable[bytes | None]:
        """One call's answer (None for a notification); an awaitable when it waits."""
        rid = req.get("id") if type(req) is dict else None
        method: Any = req.get("method") if type(req) is dict else None
        try:
            if not (
                type(req) is dict
                and req.keys() <= _REQUEST_FIELDS
                and req.get("jsonrpc") == "2.0"
                and type(method) is str
                and type(rid) in _PLAIN_IDS
            ):
                _check_request(req)  # the slow path, with goloop's message for what is wrong
            handler = self.methods.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND)
            if rid is None and method not in _NOTIFICATIONS:
                return None  # goloop ignores a notification it does not allow
            if method == "icx_call":
                self.calls += 1
            else:
                self.retrieve[method] += 1
            result = handler(self, req.get("params"), ctx)
        except RpcError as exc:
            self._failed(method)
            return error_body(exc.code, exc.message, rid, exc.data)
        if type(result) is not bytes:
            return self._later(cast(Awaitable[bytes], result), method, rid)
        return None if rid is None else _result(cast(bytes, result), rid)

    async def _later(self, result: Awaitable[bytes], method: str, rid: Any) -> bytes | None:
        try:
            value = await result
        except RpcError as exc:
            self._failed(method)
            return error_body(exc.code, exc.message, rid, exc.data)
        return None if rid is None else _result(value, rid)

    def _failed(self, method: Any) -> None:
        known = isinstance(method, str) and method in self.methods
        self.failures[method if known else ""] += 1

    # helpers ------------------------------------------------------------------------------
    @property
    def chain(self) -> Chain:
        return self.sim.chain

    def started(self) -> int:
        if self.sim.state != "started":
            raise RpcError(SERVER_ERROR, "Stopped")
        return self.sim.height

    def block_height(self, value: str | None) -> int:
        """goloop's GetBlockByHeight: the last block, or one at or below it."""
        latest = self.sim.height
        if value is None:
            return latest
        height = int(value, 16)
        if height > latest:
            raise RpcError(NOT_FOUND, f"E1004:NoBlock(height={height})")
        return height


def _check_request(req: Any) -> None:
    """goloop's Request decoding: an object, known fields, jsonrpc "2.0", a method, a sane id."""
    if not isinstance(req, dict):
        raise RpcError(INVALID_REQUEST, "fail to unmarshal, request must be object type")
    for key in req:
        if key not in _REQUEST_FIELDS:
            raise RpcError(INVALID_REQUEST, f"fail to unmarshal, unknown field '{key}'")
    for key in ("jsonrpc", "method"):
        if key in req and req[key] is not None and not isinstance(req[key], str):
            raise RpcError(INVALID_REQUEST, f"fail to unmarshal, '{key}' must be string type")
    if not req.get("jsonrpc"):
        raise RpcError(INVALID_REQUEST, "fail to validate, required('jsonrpc')")
    if req["jsonrpc"] != "2.0":
        raise RpcError(INVALID_REQUEST, "fail to validate, version('jsonrpc')")
    if isinstance(req.get("id"), bool | list | dict):
        raise RpcError(INVALID_REQUEST, "fail to validate, id('id')")
    if req.get("method") is None:
        raise RpcError(INVALID_REQUEST, "fail to validate, required('method')")


async def _resolve(part: Any) -> bytes | None:
    return part if part is None or type(part) is bytes else await part


def _newline(answer: Answer) -> Answer:
    status, body = answer
    return (status, body + b"\n") if body else answer


def _join(parts: list[bytes | None]) -> bytes:
    return b"[" + b",".join(p for p in parts if p is not None) + b"]"


def _single(part: bytes | None) -> Answer:
    if part is None:
        return 200, b""
    return (400 if part.startswith(b'{"jsonrpc":"2.0","error"') else 200), part


def _result(result: bytes, rid: Any) -> bytes:
    rid_json = str(rid).encode() if type(rid) is int else go_json(rid)
    return b'{"jsonrpc":"2.0","result":' + result + b',"id":' + rid_json + b"}"


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# Go's encoding/json (goloop answers through it) writes non-ASCII as UTF-8 but escapes these
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def go_json(value: Any) -> bytes:
    """JSON as goloop writes it (Go's encoding/json: compact, HTML characters escaped)."""
    if type(value) is float and value.is_integer() and abs(value) < 1e21:
        return str(int(value)).encode()  # Go prints float64 1.0 as 1
    return _ENCODER.encode(value).translate(_GO_ESCAPES).encode()


def _convert(params: Any, fields: tuple[P.Field, ...], *, nullable: bool = False) -> dict:
    try:
        return P.convert(params, fields, nullable=nullable)
    except P.ParamError as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from None


# --- blocks and chain -----------------------------------------------------------------------
def _get_last_block(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    _convert(params, ())
    return d.sim.last_block_json


def _get_block_by_height(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    p = _convert(params, P.BLOCK_HEIGHT)
    return d.chain.block_json(d.block_height(p["height"]))


def _get_block_by_hash(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    latest = d.started()
    p = _convert(params, P.BLOCK_HASH)
    height = d.chain.height_of_block_hash(p["hash"])
    if height is None or height > latest:
        raise RpcError(NOT_FOUND, f"E1004:NoBlock(id={p['hash'][2:]})")
    return d.chain.block_json(height)


def _get_total_supply(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    p = _convert(params, P.HEIGHT, nullable=True)
    return go_json(hexint(d.chain.total_supply(d.block_height(p.get("height")))))


def _get_network_info(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    latest = d.started()  # goloop reads no params here
    return go_json(
        {
            "platform": "icon",
            "nid": hexint(d.chain.nid),
            "channel": d.chain.channel,
            "earliest": "0x0",
            "latest": hexint(latest),
            "stepPrice": hexint(STEP_PRICE),
        }
    )


# --- accounts and SCOREs --------------------------------------------------------------------
def _get_balance(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    p = _convert(params, P.ADDRESS)
    height = d.block_height(p.get("height"))
    return go_json(hexint(d.sim.ledger.balance(p["address"], height)))


def _call(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    p = _convert(params, P.CALL)
    try:
        P.validate_call_data(p.get("data"))
    except P.ParamError as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from None
    height = d.block_height(p.get("height"))
    try:
        return go_json(d.sim.ledger.query(p["to"], p["data"], height))
    except CallFailed as exc:
        raise RpcError(SCORE_ERROR - exc.status, f"E{exc.status:04d}:{exc}") from None
    except InvalidCall as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from None


def _chain_score_api() -> list[dict[str, Any]]:
    def ro(name: str) -> dict[str, Any]:
        return {
            "type": "function",
            "name": name,
            "inputs": [],
            "outputs": [{"type": "int"}],
            "readonly": "0x1",
        }

    return [ro("getMaxStepLimit"), ro("getRevision"), ro("getStepPrice")]


def _get_score_api(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    p = _convert(params, P.SCORE_ADDRESS)
    d.block_height(p.get("height"))
    address = p["address"]
    if address == d.sim.ledger.token.address:
        return go_json(d.sim.ledger.token.api())
    if address == CHAIN_SCORE:
        return go_json(_chain_score_api())
    raise RpcError(NOT_FOUND, f"E2008:Account({address}) doesn't have active contract")


def _get_score_status(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    p = _convert(params, P.SCORE_ADDRESS)
    d.block_height(p.get("height"))
    address = p["address"]
    token = d.sim.ledger.token
    if address == token.address:
        status = {
            "owner": token.owner,
            "current": {
                "status": "active",
                "deployTxHash": token.deploy_tx,
                "type": "python",
                "codeHash": "0x" + d.chain.digest("token-code"),
            },
        }
        return go_json(status)
    if address == CHAIN_SCORE:
        return go_json({"current": {"status": "active", "type": "system", "codeHash": "0x"}})
    raise RpcError(NOT_FOUND, f"E1004:NoValidContract(addr={address})")


# --- transactions ---------------------------------------------------------------------------
def _find(d: Dispatcher, tx_hash: str) -> tuple[dict[str, Any], int, int, dict | None] | None:
    """(tx, height, index, receipt or None for a base tx) of a transaction the node shows."""
    latest = d.sim.height
    record = d.sim.ledger.find(tx_hash)
    if record is not None:
        if record.height is None or record.height > latest:
            return None
        return record.tx, record.height, record.index, record.receipt
    height = d.chain.height_of_tx_hash(tx_hash)
    if height is None or height > latest:
        return None
    return d.chain.base_tx(height), height, 0, None


def _result_json(d: Dispatcher, tx_hash: str, height: int, index: int, receipt: dict | None):
    result = dict(receipt) if receipt is not None else d.chain.base_receipt()
    result["blockHash"] = "0x" + d.chain.block_hash(height)
    result["blockHeight"] = hexint(height)
    result["txIndex"] = hexint(index)
    result["txHash"] = tx_hash
    return go_json(dict(sorted(result.items())))


def _get_transaction_result(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    latest = d.started()
    p = _convert(params, P.TX_HASH)
    found = _find(d, p["txHash"])
    if found is None:
        if d.sim.ledger.find(p["txHash"]) is not None:
            raise RpcError(PENDING, "Pending")
        raise RpcError(NOT_FOUND, "E1004:NotFound")
    _, height, index, receipt = found
    if height >= latest:  # a block's results are final once the next block is
        raise RpcError(EXECUTING, "Executing")
    return _result_json(d, p["txHash"], height, index, receipt)


def _get_transaction_by_hash(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    p = _convert(params, P.TX_HASH)
    found = _find(d, p["txHash"])
    if found is None:
        raise RpcError(NOT_FOUND, "E1004:NotFound")
    tx, height, index, _ = found
    result = {
        **tx,
        "blockHash": "0x" + d.chain.block_hash(height),
        "blockHeight": hexint(height),
        "txIndex": hexint(index),
    }
    return go_json(dict(sorted(result.items())))


def _transaction(params: Any) -> dict[str, Any]:
    p = _convert(params, P.TRANSACTION)
    try:
        P.validate_transaction_data(p.get("dataType"), p.get("data"))
    except P.ParamError as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from None
    return params  # the hash covers every field as sent


def _submit(d: Dispatcher, params: dict[str, Any]) -> TxRecord:
    try:
        return d.sim.ledger.submit(params, latest=d.sim.height, now_us=time.time_ns() // 1000)
    except TxError as exc:
        code = POOL_OVERFLOW if exc.pool_overflow else SYSTEM_ERROR
        raise RpcError(code, str(exc)) from None


def _send_transaction(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    d.started()
    record = _submit(d, _transaction(params))
    return go_json(record.tx_hash)


def _wait_timeouts(d: Dispatcher, ctx: Context, *, sending: bool) -> tuple[int, bool]:
    default = d.sim.options.wait_timeout_ms
    if default <= 0:
        raise RpcError(METHOD_NOT_FOUND, f"NotEnabled(waitTimeout={go_duration(default)})")
    wanted = ctx.timeout_ms(default)
    if wanted <= 0:
        code = INVALID_REQUEST if sending else INVALID_PARAMS
        raise RpcError(code, f"InvalidTimeout({go_duration(wanted)})")
    limit = d.sim.options.max_wait_timeout_ms
    return (limit, True) if wanted > limit else (wanted, False)


def _send_and_wait(d: Dispatcher, params: Any, ctx: Context) -> Awaitable[bytes]:
    d.started()
    timeout, capped = _wait_timeouts(d, ctx, sending=True)
    record = _submit(d, _transaction(params))
    return _wait(d, record, timeout, capped)


def _wait_transaction_result(d: Dispatcher, params: Any, ctx: Context) -> bytes | Awaitable[bytes]:
    d.started()
    timeout, capped = _wait_timeouts(d, ctx, sending=False)
    p = _convert(params, P.TX_HASH)
    record = d.sim.ledger.find(p["txHash"])
    if record is None:
        found = _find(d, p["txHash"])
        if found is None:
            raise RpcError(SYSTEM_ERROR, "E1004:NotFound")
        _, height, index, receipt = found
        if height < d.sim.height:
            return _result_json(d, p["txHash"], height, index, receipt)
        # a base transaction of the last block: its result is final with the next block
    return _wait(d, record, timeout, capped, tx_hash=p["txHash"])


async def _wait(
    d: Dispatcher, record: TxRecord | None, timeout_ms: int, capped: bool, *, tx_hash: str = ""
) -> bytes:
    tx_hash = record.tx_hash if record is not None else tx_hash
    deadline = asyncio.get_running_loop().time() + timeout_ms / 1000
    while True:
        found = _find(d, tx_hash)
        if found is not None and found[1] < d.sim.height:
            _, height, index, receipt = found
            return _result_json(d, tx_hash, height, index, receipt)
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            duration = go_duration(timeout_ms)
            if capped:
                raise RpcError(SYSTEM_TIMEOUT, f"SystemTimeoutExpire(dur={duration})", data=tx_hash)
            raise RpcError(TIMEOUT, f"UserTimeoutExpire(dur={duration})", data=tx_hash)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(d.sim.new_block.wait(), remaining)


def _estimate_step(d: Dispatcher, params: Any, ctx: Context) -> bytes:
    """debug_estimateStep (only with the debug API on): the steps the simulator would charge."""
    d.started()
    p = _convert(params, P.ESTIMATE)
    try:
        P.validate_transaction_data(p.get("dataType"), p.get("data"))
    except P.ParamError as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from None
    steps = STEP_DEFAULT
    if "data" in p:
        steps += STEP_INPUT * len(go_json(p["data"]))
    if d.sim.ledger.is_contract(p["to"]):
        steps += STEP_CONTRACT_CALL
    return go_json(hexint(steps))


_METHODS: dict[str, Handler] = {
    "icx_getLastBlock": _get_last_block,
    "icx_getBlockByHeight": _get_block_by_height,
    "icx_getBlockByHash": _get_block_by_hash,
    "icx_call": _call,
    "icx_getBalance": _get_balance,
    "icx_getScoreApi": _get_score_api,
    "icx_getScoreStatus": _get_score_status,
    "icx_getTotalSupply": _get_total_supply,
    "icx_getTransactionResult": _get_transaction_result,
    "icx_getTransactionByHash": _get_transaction_by_hash,
    "icx_sendTransaction": _send_transaction,
    "icx_sendTransactionAndWait": _send_and_wait,
    "icx_waitTransactionResult": _wait_transaction_result,
    "icx_getNetworkInfo": _get_network_info,
}
_DEBUG_METHODS: dict[str, Handler] = {"debug_estimateStep": _estimate_step}


def injected_failure(body: bytes) -> bytes:
    """The body of an error the error-rate scenario injects (HTTP 500, a node in trouble)."""
    rid: Any = None
    try:
        payload = json.loads(body)
        if isinstance(payload, dict):
            rid = payload.get("id")
    except ValueError:
        pass
    return error_body(SYSTEM_ERROR, "SystemError: injected failure", rid)


__all__ = ["Context", "Dispatcher", "RpcError", "error_body", "injected_failure", "parse_hexint"]
