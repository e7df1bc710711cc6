"""The official SDKs against `iconctl sim`, directly and through the edge (nginx with njs),
and through the edge with the websocket gateway (`iconctl gateway`) behind it.

iconsdk (PyPI) and icon-sdk-js (npm) run in their own environments (sdk_envs.py), each
driving one scenario script (sdk/conformance_py.py, sdk/conformance_js.js): reads, a signed
transfer and its result, a token transfer whose event the event monitor streams, the block
monitor, errors, and batches. Each script prints what its SDK saw; the assertions are here.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from coincurve import PrivateKey

from iconctl.sim.ledger import address_of_public_key
from tests.helpers import free_port, need_tool
from tests.integration import sdk_envs
from tests.integration.edge_process import Edge
from tests.integration.simagent import Service, start_sim

pytestmark = pytest.mark.timeout(300)

# one funded wallet per (sdk, target): no two runs share an account
KEYS = {
    (sdk, target): f"{i + 1:02x}" * 32
    for i, (sdk, target) in enumerate(
        (s, t) for s in ("python", "js") for t in ("direct", "edge", "gateway")
    )
}
FUNDED_ICX = 1000
ICX = 10**18


def address(key_hex: str) -> str:
    return address_of_public_key(
        PrivateKey(bytes.fromhex(key_hex)).public_key.format(compressed=False)
    )


@pytest.fixture(scope="module")
def sim():
    funds = [f"--fund={address(key)}={FUNDED_ICX}" for key in KEYS.values()]
    service = start_sim("--block-interval", "0.2", *funds)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def edge(tmp_path_factory, sim):
    need_tool("nginx")
    e = Edge(
        tmp_path_factory.mktemp("sdk-edge"),
        port=free_port(),
        upstream=sim.info["url"].split("/")[2],
        icon_edge_rate_per_second=10000,
        icon_edge_rate_burst=10000,
    )
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def gateway_edge(tmp_path_factory, sim):
    """The edge with its monitors routed to `iconctl gateway` (as the compose stack runs it)."""
    need_tool("nginx")
    node = sim.info["url"].removesuffix("/api/v3")
    with Service("gateway", "--node", node, "--listen", "127.0.0.1:0") as gateway:
        e = Edge(
            tmp_path_factory.mktemp("sdk-gateway-edge"),
            port=free_port(),
            upstream=sim.info["url"].split("/")[2],
            icon_edge_rate_per_second=10000,
            icon_edge_rate_burst=10000,
            icon_edge_ws_gateway=f"127.0.0.1:{gateway.info['port']}",
        )
        e.start()
        yield e
        e.stop()


@pytest.fixture(scope="session")
def python_sdk():
    return sdk_envs.python_sdk()


@pytest.fixture(scope="session")
def js_sdk():
    return sdk_envs.js_sdk()


def run_sdk(request, sdk: str, target: str, sim) -> dict:
    url = sim.info["url"] + "/icon_dex"
    if target == "edge":
        url = f"http://127.0.0.1:{request.getfixturevalue('edge').port}/api/v3/icon_dex"
    if target == "gateway":
        url = f"http://127.0.0.1:{request.getfixturevalue('gateway_edge').port}/api/v3/icon_dex"
    key = KEYS[(sdk, target)]
    if sdk == "python":
        argv = [
            str(request.getfixturevalue("python_sdk")),
            str(sdk_envs.SDK_DIR / "conformance_py.py"),
        ]
        env = {**os.environ}
        env.pop("PYTHONPATH", None)  # the SDK's venv only: nothing of the project's
    else:
        node, modules = request.getfixturevalue("js_sdk")
        argv = [node, str(sdk_envs.SDK_DIR / "conformance_js.js")]
        env = {**os.environ, "NODE_PATH": str(modules)}
    result = subprocess.run(
        [*argv, url, key, sim.info["token"]],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=sdk_envs.SDK_DIR,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _int(value) -> int:
    return int(value, 16) if isinstance(value, str) and value.startswith("0x") else int(value)


@pytest.mark.parametrize("target", ["direct", "edge", "gateway"])
@pytest.mark.parametrize("sdk", ["python", "js"])
def test_sdk_against_the_simulator(request, sim, sdk, target):
    seen = run_sdk(request, sdk, target, sim)
    me = address(KEYS[(sdk, target)])

    # reads
    assert _int(seen["last_height"]) >= 1000
    assert seen["signature"] == ""  # goloop writes an empty block signature
    assert seen["by_height"] and seen["by_hash"]
    assert _int(seen["balance"]) == FUNDED_ICX * ICX
    assert _int(seen["total_supply"]) > 0
    network = seen["network"]
    assert network["channel"] == "icon_dex" and network["platform"] == "icon"
    assert {"balanceOf", "transfer", "Transfer"} <= set(seen["score_api"])
    assert seen["score_status"] == "active"
    share = 10**6 * ICX // len(KEYS)  # the genesis shares; the first one has the remainder
    assert 0 <= _int(seen["token_balance"]) - share < len(KEYS)

    # a signed transfer: value moved, its result and the transaction read back
    transfer = seen["transfer"]
    assert _int(transfer["status"]) == 1 and _int(transfer["step_used"]) == 100_000
    assert _int(transfer["to_balance"]) == ICX
    assert transfer["from"] == me and transfer["result_again"]

    # a token transfer: its Transfer event in the result and streamed by the event monitor
    token_transfer = seen["token_transfer"]
    assert _int(token_transfer["status"]) == 1
    log = token_transfer["logs"][0]
    assert log["scoreAddress"] == sim.info["token"]
    assert log["indexed"][0] == "Transfer(Address,Address,int,bytes)"
    assert log["indexed"][1] == me and _int(log["indexed"][3]) == 5
    note = seen["event_notes"][0]
    assert _int(note["index"]) == 1 and [_int(e) for e in note["events"]] == [0]
    assert note["logs"][0]["indexed"][1] == me
    assert seen["progress"], "progress notifications with progressInterval 1"
    heights = [_int(n["height"]) for n in seen["block_notes"]]
    assert len(heights) == 3 and heights == list(range(heights[0], heights[0] + 3))
    assert all(n["hash_matches"] for n in seen["block_notes"])

    # errors reach the application as the SDK's own JSON-RPC error types
    errors = seen["errors"]
    if sdk == "python":
        assert errors["bad_signature"]["type"] == "JSONRPCException"
        assert errors["bad_signature"]["code"] == -31000
        assert "E2005" in errors["bad_signature"]["message"]
        assert errors["future_block"]["code"] == -31004
        assert errors["no_score"]["code"] == -30002
    else:
        assert errors["bad_signature"]["type"] == "string"
        assert "E2005" in errors["bad_signature"]["message"]
        assert "NotFound" in errors["future_block"]["message"]
        assert "SCOREError(-30002)" in errors["no_score"]["message"]
    if target == "direct":
        # goloop itself answers these two with plain text: the SDKs fail to read them
        for name in ("debug_api", "other_channel"):
            failure = errors[name]
            if sdk == "python":
                assert failure["type"] == "HTTPError" and failure["status"] == 404, failure
            else:
                assert failure["message"].startswith("[NETWORK ERROR]"), failure
    else:
        # the edge turns every refusal into a JSON-RPC error the SDKs understand
        for name in ("debug_api", "other_channel"):
            failure = errors[name]
            if sdk == "python":
                assert failure["type"] == "JSONRPCException", failure
                assert failure["code"] == -32601
            else:
                assert failure["type"] == "string" and "MethodNotFound" in failure["message"]
        assert "debug API is disabled" in errors["debug_api"]["message"]

    # batches (sent with each SDK's own HTTP client: neither SDK has a batch call)
    batch = seen["batch"]
    assert batch["status"] == 200 and [a["id"] for a in batch["body"]] == [1, 2, 3]
    assert batch["body"][2]["error"]["code"] == -32601
    assert seen["batch_over_limit"] == {
        "status": 503,
        "body": {
            "jsonrpc": "2.0",
            "error": {"code": -32600, "message": "InvalidRequest", "data": "too many request"},
            "id": None,
        },
    }
