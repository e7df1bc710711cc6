"""goloop's validation of JSON-RPC requests and method parameters (server/jsonrpc, server/v3).

goloop decodes ``params`` into a Go struct with unknown fields disallowed, then checks each
field with a validator tag (``t_int``, ``t_addr``, ``t_hash``, ...). The messages below follow
the shape of goloop's: ``fail to unmarshal, unknown field 'x'`` or ``fail to validate,
t_int('height')``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_EOA = re.compile(r"^hx[0-9a-f]{40}$")
_SCORE = re.compile(r"^cx[0-9a-f]{40}$")
_HEXINT = re.compile(r"^0x(0|[1-9a-f][0-9a-f]*)$")
_HASH = re.compile(r"^0x[0-9a-f]{64}$")


def _base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_CHECKS: dict[str, Callable[[str], bool]] = {
    "t_int": lambda v: bool(_HEXINT.match(v)),
    "t_addr_eoa": lambda v: bool(_EOA.match(v)),
    "t_addr_score": lambda v: bool(_SCORE.match(v)),
    "t_addr": lambda v: bool(_EOA.match(v) or _SCORE.match(v)),
    "t_hash": lambda v: bool(_HASH.match(v)),
    "t_sig": _base64,
    "call": lambda v: v == "call",
    "call|deploy|message|deposit": lambda v: v in ("call", "deploy", "message", "deposit"),
}
# the Go types goloop names in "'x' must be T type"
_GO_TYPES = {
    "t_int": "jsonrpc.HexInt",
    "t_addr_eoa": "jsonrpc.Address",
    "t_addr_score": "jsonrpc.Address",
    "t_addr": "jsonrpc.Address",
    "t_hash": "jsonrpc.HexBytes",
}


class ParamError(Exception):
    """Invalid params (-32602) or an invalid request (-32600), with goloop's message."""


@dataclass(frozen=True)
class Field:
    name: str
    tag: str | None  # None: any JSON value (goloop's interface{} data fields)
    required: bool = False


def convert(params: Any, fields: tuple[Field, ...], *, nullable: bool = False) -> dict[str, Any]:
    """The params as goloop's Params.Convert accepts them; empty optional strings dropped."""
    if params is None:
        if fields and not nullable:
            raise ParamError("fail to unmarshal, 'params' of request is required ")
        return {}
    if not isinstance(params, dict):
        raise ParamError("fail to unmarshal, 'params' of request must be object type")
    known = {f.name: f for f in fields}
    for key, value in params.items():
        spec = known.get(key)
        if spec is None:
            raise ParamError(f"fail to unmarshal, unknown field '{key}'")
        if spec.tag is not None and value is not None and not isinstance(value, str):
            go_type = _GO_TYPES.get(spec.tag, "string")
            raise ParamError(f"fail to unmarshal, '{key}' must be {go_type} type")
    out: dict[str, Any] = {}
    for spec in fields:
        value = params.get(spec.name)
        if spec.tag is None:
            if spec.name in params:
                out[spec.name] = value
            continue
        if value is None or value == "":
            if spec.required:
                raise ParamError(f"fail to validate, required('{spec.name}')")
            continue
        if not _CHECKS[spec.tag](value):
            tag = spec.tag if "|" not in spec.tag else spec.tag
            raise ParamError(f"fail to validate, {tag}('{spec.name}')")
        out[spec.name] = value
    return out


def validate_call_data(data: Any, *, label: str = "data") -> None:
    """goloop's struct-level check of a call's ``data``: an object with ``method``."""
    if not isinstance(data, dict):
        raise ParamError(f"fail to validate, {label}('Data')")
    if "method" not in data:
        raise ParamError("fail to validate, data.method('Data')")
    if "params" in data:
        if not isinstance(data["params"], dict):
            raise ParamError("fail to validate, data.params('Data')")
        for key, value in data["params"].items():
            _string_leaves(value, f"Data.params.{key}")


def _string_leaves(value: Any, name: str, depth: int = 0) -> None:
    if depth > 32:
        raise ParamError(f"fail to validate, data.params('{name}')")
    if isinstance(value, str):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _string_leaves(item, f"{name}.{key}", depth + 1)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _string_leaves(item, f"{name}[{i}]", depth + 1)
        return
    raise ParamError(f"fail to validate, data.params('{name}')")


_HEX_STRING = re.compile(r"^0x[0-9a-f]+$")


def validate_transaction_data(data_type: str | None, data: Any) -> None:
    """goloop's DataParamValidation for icx_sendTransaction's ``data`` by ``dataType``."""
    if data_type is None:
        return
    if data_type == "call":
        validate_call_data(data)
    elif data_type == "message":
        if not isinstance(data, str) or not _HEX_STRING.match(data):
            raise ParamError("fail to validate, data('Data')")
    elif data_type == "deploy":
        if not isinstance(data, dict):
            raise ParamError("fail to validate, data('Data')")
        if data.get("contentType") not in ("application/zip", "application/java"):
            raise ParamError("fail to validate, data.contentType('Data')")
        content = data.get("content")
        if "content" in data and not (isinstance(content, str) and _HEX_STRING.match(content)):
            raise ParamError("fail to validate, data.content('Data')")
    elif data_type == "deposit" and (not isinstance(data, dict) or "action" not in data):
        raise ParamError("fail to validate, data.action('Data')")


# goloop's parameter structs (server/v3/schema_v3.go)
HEIGHT = (Field("height", "t_int"),)
BLOCK_HEIGHT = (Field("height", "t_int", required=True),)
BLOCK_HASH = (Field("hash", "t_hash", required=True),)
ADDRESS = (Field("address", "t_addr", required=True), Field("height", "t_int"))
SCORE_ADDRESS = (Field("address", "t_addr_score", required=True), Field("height", "t_int"))
TX_HASH = (Field("txHash", "t_hash", required=True),)
CALL = (
    Field("from", "t_addr_eoa"),
    Field("to", "t_addr_score", required=True),
    Field("dataType", "call", required=True),
    Field("data", None),
    Field("height", "t_int"),
)
TRANSACTION = (
    Field("version", "t_int", required=True),
    Field("from", "t_addr_eoa", required=True),
    Field("to", "t_addr", required=True),
    Field("value", "t_int"),
    Field("stepLimit", "t_int", required=True),
    Field("timestamp", "t_int", required=True),
    Field("nid", "t_int", required=True),
    Field("nonce", "t_int"),
    Field("signature", "t_sig", required=True),
    Field("dataType", "call|deploy|message|deposit"),
    Field("data", None),
)
ESTIMATE = tuple(f for f in TRANSACTION if f.name not in ("stepLimit", "signature"))
