"""Accounts, SCOREs and transactions of the simulated chain, checked and executed like goloop.

A transaction is hashed and its signature checked exactly as goloop does (see
docs/simulator.md): the SHA3-256 of ``icx_sendTransaction.`` followed by goloop's
serialization of every field but ``signature`` and ``txHash``, signed with a recoverable
secp256k1 signature (65 bytes ``r|s|v``, base64) whose public key must hash to ``from``.

State is kept per height (each change records the height it was made at), so reads at an
explicit height and a node that serves behind its chain (the lag scenario) answer what goloop
would. Accounts hold nothing unless the genesis funded them. The only SCOREs are the chain
SCORE (cx000...000) and one IRC2 token deployed at genesis (owned by the first funded
account, its supply shared by all of them); any other ``cx`` address is a plain account.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from iconctl.sim.chain import STEP_PRICE

MAX_STEP_LIMIT = 2_500_000_000  # 0x9502f900
STEP_DEFAULT = 100_000  # a plain transfer (ICON's `default` step cost)
STEP_INPUT = 200  # per byte of `data`
STEP_CONTRACT_CALL = 25_000
STEP_EVENT_LOG = 100  # per byte of an event log's values
TIMESTAMP_THRESHOLD_US = 5 * 60 * 1_000_000  # goloop's default transaction timestamp window
MAX_DATA_BYTES = 512 * 1024  # goloop's txMaxDataSize
POOL_LIMIT = 5_000
CHAIN_SCORE = "cx0000000000000000000000000000000000000000"
ICX_TRANSFER = "ICXTransfer(Address,Address,int)"
TOKEN_TRANSFER = "Transfer(Address,Address,int,bytes)"  # noqa: S105 - an event, no secret
TOKEN_SUPPLY = 1_000_000 * 10**18
BLOOM_BITS = 2048

# goloop's error codes (common/errors, service/error.go, service/transaction/errors.go)
E_INVALID_NETWORK = 1005
E_DUPLICATE = 2000
E_POOL_OVERFLOW = 2001
E_EXPIRED = 2002
E_FUTURE = 2003
E_INVALID_TX = 2005
E_COMMITTED = 2011
E_INVALID_TX_VALUE = 2103
E_NOT_ENOUGH_STEP = 2105
E_NOT_ENOUGH_BALANCE = 2106
E_CONTRACT_NOT_USABLE = 2107

# receipt failure statuses (module/service.go)
STATUS_UNKNOWN_FAILURE = 1
STATUS_METHOD_NOT_FOUND = 3
STATUS_METHOD_NOT_PAYABLE = 4
STATUS_INVALID_PARAMETER = 6
STATUS_OUT_OF_STEP = 10
STATUS_REVERTED = 32
_STATUS_NAMES = {
    STATUS_UNKNOWN_FAILURE: "UnknownFailure",
    STATUS_METHOD_NOT_FOUND: "MethodNotFound",
    STATUS_METHOD_NOT_PAYABLE: "MethodNotPayable",
    STATUS_INVALID_PARAMETER: "InvalidParameter",
    STATUS_OUT_OF_STEP: "OutOfStep",
}

_EOA = re.compile(r"^hx[0-9a-f]{40}$")
_ADDRESS = re.compile(r"^[hc]x[0-9a-f]{40}$")
_HEXINT = re.compile(r"^-?0x[0-9a-f]+$")


class TxError(Exception):
    """A transaction refused before it reaches the pool; goloop shows ``E<code>:<message>``."""

    def __init__(self, code: int, message: str, *, pool_overflow: bool = False) -> None:
        super().__init__(f"E{code:04d}:{message}")
        self.pool_overflow = pool_overflow


# --- goloop's transaction serialization and signature -------------------------------------
def _escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}[].":
            out.append("\\")
        out.append(ch)
    return "".join(out)


def _serialize_value(value: Any) -> str:
    if value is None:
        return "\\0"
    if isinstance(value, dict):
        return "{" + _serialize_dict(value) + "}"
    if isinstance(value, list):
        return "[" + ".".join(_serialize_value(v) for v in value) + "]"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, bool):
        raise TxError(2104, "Serialize FAILs(unknown type [bool])")
    if isinstance(value, int | float):
        return str(int(value))  # goloop decodes JSON numbers as float64 and writes integers
    raise TxError(2104, f"Serialize FAILs(unknown type [{type(value).__name__}])")


def _serialize_dict(values: dict[str, Any], exclude: frozenset[str] = frozenset()) -> str:
    parts = []
    for key in sorted(values):
        if key in exclude:
            continue
        parts.append(_escape(key) + "." + _serialize_value(values[key]))
    return ".".join(parts)


def transaction_hash(params: dict[str, Any]) -> bytes:
    """SHA3-256 of ``icx_sendTransaction.`` + the serialized fields (goloop's V3 tx hash)."""
    text = "icx_sendTransaction." + _serialize_dict(params, frozenset({"signature", "txHash"}))
    return hashlib.sha3_256(text.encode()).digest()


def address_of_public_key(public_key: bytes) -> str:
    """hx + the last 20 bytes of SHA3-256 of the uncompressed key without its 0x04 prefix."""
    return "hx" + hashlib.sha3_256(public_key[1:]).digest()[-20:].hex()


def recover_address(signature: str, digest: bytes) -> str | None:
    """The sender a 65-byte ``r|s|v`` base64 signature over ``digest`` recovers to, or None."""
    from coincurve import PublicKey  # heavy-ish import, only when a transaction arrives

    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return None
    if len(raw) != 65 or raw[64] > 3:
        return None
    try:
        key = PublicKey.from_signature_and_message(raw, digest, hasher=None)
    except Exception:  # noqa: BLE001 - any malformed signature is simply not recoverable
        return None
    return address_of_public_key(key.format(compressed=False))


# --- event logs and logs bloom --------------------------------------------------------------
def address_bytes(address: str) -> bytes:
    return (b"\x01" if address.startswith("cx") else b"\x00") + bytes.fromhex(address[2:])


def int_bytes(value: int) -> bytes:
    """goloop's intconv.BigIntToBytes: minimal two's complement, big-endian."""
    length = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return value.to_bytes(length, "big", signed=True)


def decompose_signature(signature: str) -> tuple[str, list[str]] | None:
    """``Name(T1,T2)`` -> (Name, [T1, T2]) for the types an event may carry, else None."""
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\(([A-Za-z,]*)\)", signature)
    if match is None:
        return None
    types = match.group(2).split(",") if match.group(2) else []
    if any(t not in ("int", "str", "bytes", "bool", "Address") for t in types):
        return None
    return match.group(1), types


def event_value_bytes(kind: str, value: Any) -> bytes | None:
    """An event value in its JSON form (or a filter's string) as goloop stores it; None if bad."""
    if value is None:
        return None
    if not isinstance(value, str):
        return None
    if kind == "Address":
        return address_bytes(value) if _ADDRESS.match(value) else None
    if kind == "int":
        if not _HEXINT.match(value):
            return None
        return int_bytes(int(value, 16))
    if kind == "str":
        return value.encode()
    if kind == "bytes":
        if not value.startswith("0x"):
            return None
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    if kind == "bool":
        return {"0x1": b"\x01", "0x0": b"\x00"}.get(value)
    return None


class Bloom:
    """goloop's 2048-bit logs bloom: 3 bits per item from SHA3-256, address items tagged 0xff."""

    def __init__(self, value: int = 0) -> None:
        self.value = value

    def _add(self, item: bytes) -> None:
        digest = hashlib.sha3_256(item).digest()
        for i in range(3):
            self.value |= 1 << (int.from_bytes(digest[2 * i : 2 * i + 2], "big") % BLOOM_BITS)

    def add_address(self, address: str) -> None:
        self._add(b"\xff" + address_bytes(address))

    def add_indexed(self, index: int, value: bytes) -> None:
        self._add(bytes([index]) + value)

    def contains(self, other: Bloom) -> bool:
        return self.value & other.value == other.value

    def hex(self) -> str:
        return "0x" + self.value.to_bytes(BLOOM_BITS // 8, "big").hex()


def event_log(score: str, signature: str, indexed: list[Any], data: list[Any]) -> dict[str, Any]:
    return {"scoreAddress": score, "indexed": [signature, *indexed], "data": data}


def log_values(log: dict[str, Any]) -> tuple[list[bytes | None], list[bytes | None]] | None:
    """The indexed values (after the signature) and the data of a log, as bytes."""
    parsed = decompose_signature(log["indexed"][0])
    if parsed is None:
        return None
    types = parsed[1]
    values = [*log["indexed"][1:], *log["data"]]
    as_bytes = [event_value_bytes(t, v) for t, v in zip(types, values, strict=False)]
    n = len(log["indexed"]) - 1
    return as_bytes[:n], as_bytes[n:]


def bloom_of_logs(logs: list[dict[str, Any]]) -> Bloom:
    bloom = Bloom()
    for log in logs:
        bloom.add_address(log["scoreAddress"])
        bloom.add_indexed(0, log["indexed"][0].encode())
        values = log_values(log)
        if values is None:
            continue
        for i, value in enumerate(values[0]):
            if value is not None:
                bloom.add_indexed(i + 1, value)
    return bloom


# --- state that remembers every height ------------------------------------------------------
class History:
    """Values per key, each change recorded with the height it belongs to."""

    def __init__(self) -> None:
        self._heights: dict[str, list[int]] = {}
        self._values: dict[str, list[int]] = {}

    def get(self, key: str, height: int) -> int:
        heights = self._heights.get(key)
        if not heights:
            return 0
        i = bisect.bisect_right(heights, height)
        return self._values[key][i - 1] if i else 0

    def set(self, key: str, height: int, value: int) -> None:
        heights = self._heights.setdefault(key, [])
        values = self._values.setdefault(key, [])
        if heights and heights[-1] == height:
            values[-1] = value
        else:
            heights.append(height)
            values.append(value)


# --- transactions ---------------------------------------------------------------------------
@dataclass
class TxRecord:
    tx: dict[str, Any]  # as sent, plus txHash
    tx_hash: str
    height: int | None = None  # the block that holds it; None while in the pool
    index: int = 0
    receipt: dict[str, Any] | None = None
    waiters: list[asyncio.Future[TxRecord]] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return self.tx["from"]


def _hex(value: int) -> str:
    return hex(value)


class Token:
    """An IRC2 token deployed at genesis: the one user SCORE of the simulated chain."""

    name = "Simulated Token"
    symbol = "SIM"
    decimals = 18

    def __init__(self, address: str, owner: str, deploy_tx: str, balances: History) -> None:
        self.address = address
        self.owner = owner
        self.deploy_tx = deploy_tx
        self.balances = balances

    def api(self) -> list[dict[str, Any]]:
        def ro(name: str, out: str, inputs: list[dict[str, str]] | None = None) -> dict[str, Any]:
            return {
                "type": "function",
                "name": name,
                "inputs": inputs or [],
                "outputs": [{"type": out}],
                "readonly": "0x1",
            }

        return [
            ro("balanceOf", "int", [{"name": "_owner", "type": "Address"}]),
            ro("decimals", "int"),
            ro("name", "str"),
            ro("symbol", "str"),
            ro("totalSupply", "int"),
            {
                "type": "function",
                "name": "transfer",
                "inputs": [
                    {"name": "_to", "type": "Address"},
                    {"name": "_value", "type": "int"},
                    {"name": "_data", "type": "bytes", "default": None},
                ],
                "outputs": [],
            },
            {
                "type": "eventlog",
                "name": "Transfer",
                "inputs": [
                    {"name": "_from", "type": "Address", "indexed": "0x1"},
                    {"name": "_to", "type": "Address", "indexed": "0x1"},
                    {"name": "_value", "type": "int", "indexed": "0x1"},
                    {"name": "_data", "type": "bytes"},
                ],
            },
        ]


class CallFailed(Exception):
    """A read-only call or a transaction's execution failed with a goloop status."""

    def __init__(self, status: int, message: str = "") -> None:
        name = _STATUS_NAMES.get(status) or f"Reverted({status - STATUS_REVERTED})"
        super().__init__(message or name)
        self.status = status
        self.status_name = name


class InvalidCall(Exception):
    """A query goloop refuses as invalid parameters (-32602)."""


class Ledger:
    """Balances, the token, the pool and every transaction the simulated chain holds."""

    def __init__(self, *, cid: int, nid: int, genesis_height: int, funds: dict[str, int]) -> None:
        self.cid = cid
        self.nid = nid
        self.balances = History()
        self.token_balances = History()
        self.pool: list[TxRecord] = []
        self.by_hash: dict[str, TxRecord] = {}
        self.blocks: dict[int, list[TxRecord]] = {}
        self.genesis_height = genesis_height
        for address, amount in funds.items():
            self.balances.set(address, genesis_height, amount)
        treasury = "hx" + hashlib.sha3_256(f"{cid}:treasury".encode()).hexdigest()[:40]
        owner = next(iter(funds), treasury)
        token_address = genesis_token_address(cid)
        deploy_tx = "0x" + hashlib.sha3_256(f"{cid}:token-deploy".encode()).hexdigest()
        # the supply is shared by the funded accounts, so each can make token transfers
        holders = list(funds) or [owner]
        share, rest = divmod(TOKEN_SUPPLY, len(holders))
        for holder in holders:
            self.token_balances.set(
                holder, genesis_height, share + (rest if holder == owner else 0)
            )
        self.token = Token(token_address, owner, deploy_tx, self.token_balances)

    # reads -------------------------------------------------------------------------------
    def balance(self, address: str, height: int) -> int:
        return self.balances.get(address, height)

    def is_contract(self, address: str) -> bool:
        return address in (CHAIN_SCORE, self.token.address)

    def find(self, tx_hash: str) -> TxRecord | None:
        return self.by_hash.get(tx_hash)

    def query(self, to: str, data: dict[str, Any], height: int) -> Any:
        """icx_call: raises CallFailed (SCORE error) or InvalidCall."""
        method = data.get("method")
        args = data.get("params") or {}
        if to == CHAIN_SCORE:
            chain = {
                "getStepPrice": _hex(STEP_PRICE),
                "getMaxStepLimit": _hex(MAX_STEP_LIMIT),
                "getRevision": "0x18",
            }
            if method in chain:
                return chain[method]
            raise CallFailed(STATUS_METHOD_NOT_FOUND, f"Method({method})NotFound")
        if to != self.token.address:
            raise CallFailed(2, "NotAContractAccount")
        token = self.token
        readonly = {
            "name": token.name,
            "symbol": token.symbol,
            "decimals": _hex(token.decimals),
            "totalSupply": _hex(TOKEN_SUPPLY),
        }
        if method in readonly:
            return readonly[method]
        if method == "balanceOf":
            owner = args.get("_owner")
            if not isinstance(owner, str) or not _ADDRESS.match(owner):
                raise CallFailed(STATUS_INVALID_PARAMETER, f"InvalidParameter(_owner={owner})")
            return _hex(token.balances.get(owner, height))
        if method == "transfer":
            raise CallFailed(9, "AccessDenied")  # a writable method in a read-only call
        raise CallFailed(STATUS_METHOD_NOT_FOUND, f"Method({method})NotFound")

    # the pool ----------------------------------------------------------------------------
    def submit(self, params: dict[str, Any], *, latest: int, now_us: int) -> TxRecord:
        """Verify a transaction as goloop's pool does and add it; raises TxError."""
        digest = transaction_hash(params)
        tx_hash = "0x" + digest.hex()
        nid = int(params["nid"], 16)
        if nid != self.nid:
            raise TxError(E_INVALID_NETWORK, f"ValidateNetwork(nid={hex(self.nid)}) fail")
        if int(params["version"], 16) < 3:
            raise TxError(E_INVALID_TX, "IllegalTransactionVersion")
        data_size = len(json.dumps(params.get("data"), separators=(",", ":")))
        if "data" in params and data_size > MAX_DATA_BYTES:
            raise TxError(E_INVALID_TX, f"InvalidDataSize({data_size})")
        if recover_address(params["signature"], digest) != params["from"]:
            raise TxError(E_INVALID_TX, "Failed to verify transaction")
        timestamp = int(params["timestamp"], 16)
        if timestamp <= now_us - TIMESTAMP_THRESHOLD_US:
            lag = (now_us - TIMESTAMP_THRESHOLD_US - timestamp) / 1e6
            raise TxError(E_EXPIRED, f"Expired(min-{lag:g}s)")
        if timestamp > now_us + TIMESTAMP_THRESHOLD_US:
            ahead = (timestamp - now_us - TIMESTAMP_THRESHOLD_US) / 1e6
            raise TxError(E_FUTURE, f"FutureTx(max+{ahead:g}s)")
        known = self.by_hash.get(tx_hash)
        if known is not None:
            if known.height is None:
                raise TxError(E_DUPLICATE, "DuplicateTransaction")
            raise TxError(E_COMMITTED, "CommittedTransaction")
        self._pre_validate(params, latest)
        if len(self.pool) >= POOL_LIMIT:
            raise TxError(E_POOL_OVERFLOW, "TransactionPoolOverFlow", pool_overflow=True)
        record = TxRecord(tx={**params, "txHash": tx_hash}, tx_hash=tx_hash)
        self.pool.append(record)
        self.by_hash[tx_hash] = record
        return record

    def _pre_validate(self, params: dict[str, Any], latest: int) -> None:
        """goloop's PreValidate (validate_tx_on_send): steps, balance, callable target."""
        step_limit = int(params["stepLimit"], 16)
        minimum = STEP_DEFAULT + STEP_INPUT * _data_bytes(params)
        if step_limit < minimum:
            raise TxError(
                E_NOT_ENOUGH_STEP, f"NotEnoughStep(txStepLimit:{step_limit}, minStep:{minimum})"
            )
        value = int(params.get("value", "0x0"), 16)
        needed = step_limit * STEP_PRICE + value
        sender = params["from"]
        available = self.balance(sender, latest) - sum(
            int(r.tx["stepLimit"], 16) * STEP_PRICE + int(r.tx.get("value", "0x0"), 16)
            for r in self.pool
            if r.sender == sender
        )
        if available < needed:
            raise TxError(
                E_NOT_ENOUGH_BALANCE, f"OutOfBalance(balance:{max(0, available)}, value:{needed})"
            )
        if params.get("dataType") in ("call", "deposit") and not self.is_contract(params["to"]):
            raise TxError(E_CONTRACT_NOT_USABLE, "NotAcceptable")

    # blocks ------------------------------------------------------------------------------
    def seal(self, height: int) -> list[TxRecord]:
        """Execute the pool into block ``height``; returns the transactions it holds."""
        included: list[TxRecord] = []
        cumulative = 0
        pool, self.pool = self.pool, []
        for record in pool:
            if not self._can_pay(record, height):
                del self.by_hash[record.tx_hash]  # dropped, as goloop drops it from the pool
                continue
            receipt = self._execute(record.tx, height)
            cumulative += int(receipt["stepUsed"], 16)
            receipt["cumulativeStepUsed"] = _hex(cumulative)
            record.height = height
            record.index = len(included) + 1  # index 0 is the block's base transaction
            record.receipt = receipt
            included.append(record)
        if included:
            self.blocks[height] = included
        return included

    def _can_pay(self, record: TxRecord, height: int) -> bool:
        tx = record.tx
        fee = int(tx["stepLimit"], 16) * STEP_PRICE
        return self.balance(tx["from"], height) >= fee + int(tx.get("value", "0x0"), 16)

    def _execute(self, tx: dict[str, Any], height: int) -> dict[str, Any]:
        sender, to = tx["from"], tx["to"]
        value = int(tx.get("value", "0x0"), 16)
        step_limit = int(tx["stepLimit"], 16)
        steps = STEP_DEFAULT + STEP_INPUT * _data_bytes(tx)
        logs: list[dict[str, Any]] = []
        changes: list[tuple[str, int]] = []
        failure: CallFailed | None = None
        data_type = tx.get("dataType")
        try:
            if data_type in ("deploy", "deposit"):
                raise CallFailed(STATUS_UNKNOWN_FAILURE, f"{data_type} is not simulated")
            if to == self.token.address:
                steps += STEP_CONTRACT_CALL
                if data_type != "call":
                    raise CallFailed(STATUS_METHOD_NOT_FOUND, "Method(fallback)NotFound")
                if value:
                    raise CallFailed(STATUS_METHOD_NOT_PAYABLE)
                logs, changes = self._token_call(sender, tx.get("data") or {}, height)
                steps += STEP_EVENT_LOG * sum(len(json.dumps(log)) for log in logs)
            elif to == CHAIN_SCORE:
                steps += STEP_CONTRACT_CALL
                raise CallFailed(STATUS_METHOD_NOT_FOUND, "Method(fallback)NotFound")
            if steps > step_limit:
                raise CallFailed(STATUS_OUT_OF_STEP)
        except CallFailed as exc:
            failure = exc
            steps = min(steps, step_limit)
            logs, changes = [], []
        for owner, amount in changes:
            self.token_balances.set(owner, height, amount)
        fee = steps * STEP_PRICE
        self.balances.set(sender, height, self.balance(sender, height) - fee)
        if failure is None and value:
            self.balances.set(sender, height, self.balance(sender, height) - value)
            self.balances.set(to, height, self.balance(to, height) + value)
        receipt: dict[str, Any] = {
            "to": to,
            "cumulativeStepUsed": "0x0",
            "stepUsed": _hex(steps),
            "stepPrice": _hex(STEP_PRICE),
            "eventLogs": logs,
            "logsBloom": bloom_of_logs(logs).hex(),
        }
        if failure is None:
            receipt["status"] = "0x1"
        else:
            receipt["status"] = "0x0"
            receipt["failure"] = {"code": _hex(failure.status), "message": failure.status_name}
        return receipt

    def _token_call(
        self, sender: str, data: dict[str, Any], height: int
    ) -> tuple[list[dict[str, Any]], list[tuple[str, int]]]:
        """The token's transfer: its event logs and the balances it would set (not yet set)."""
        method = data.get("method")
        args = data.get("params") or {}
        if method != "transfer":
            if method in ("name", "symbol", "decimals", "totalSupply", "balanceOf"):
                raise CallFailed(9, "AccessDenied")
            raise CallFailed(STATUS_METHOD_NOT_FOUND, f"Method({method})NotFound")
        to = args.get("_to")
        amount = args.get("_value")
        payload = args.get("_data")
        if not isinstance(to, str) or not _ADDRESS.match(to):
            raise CallFailed(STATUS_INVALID_PARAMETER)
        if not isinstance(amount, str) or not _HEXINT.match(amount):
            raise CallFailed(STATUS_INVALID_PARAMETER)
        if payload is not None and event_value_bytes("bytes", payload) is None:
            raise CallFailed(STATUS_INVALID_PARAMETER)
        value = int(amount, 16)
        if value < 0:
            raise CallFailed(STATUS_REVERTED)  # the sample IRC2 reverts negative amounts
        held = self.token_balances.get(sender, height)
        if held < value:
            raise CallFailed(STATUS_REVERTED)  # revert("Out of balance")
        if to == sender:
            changes = [(sender, held)]
        else:
            changes = [(sender, held - value), (to, self.token_balances.get(to, height) + value)]
        log = event_log(self.token.address, TOKEN_TRANSFER, [sender, to, _hex(value)], [payload])
        return [log], changes


def genesis_token_address(cid: int) -> str:
    """Where the genesis IRC2 token lives on a simulated chain with this cid."""
    return "cx" + hashlib.sha3_256(f"{cid}:token".encode()).hexdigest()[:40]


def _data_bytes(tx: dict[str, Any]) -> int:
    if "data" not in tx:
        return 0
    return len(json.dumps(tx["data"], separators=(",", ":")).encode())
