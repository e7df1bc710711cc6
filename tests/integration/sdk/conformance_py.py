"""Drive a node with the official Python SDK (iconsdk) and print what it saw, as JSON.

Run with the python of the SDK's own venv (tests/integration/sdk_envs.py):

    python conformance_py.py URL PRIVATE_KEY_HEX TOKEN_ADDRESS

URL is the JSON-RPC URL with its channel (…/api/v3/icon_dex). The test asserts on the output;
this script only records, so an SDK surprise shows up as a readable difference.
"""

import json
import sys
import time

import requests
from iconsdk.builder.call_builder import CallBuilder
from iconsdk.builder.transaction_builder import CallTransactionBuilder, TransactionBuilder
from iconsdk.exception import HTTPError, IconServiceBaseException, JSONRPCException
from iconsdk.icon_service import IconService
from iconsdk.monitor import BlockMonitorSpec, EventFilter, EventMonitorSpec
from iconsdk.providers.http_provider import HTTPProvider
from iconsdk.signed_transaction import SignedTransaction
from iconsdk.wallet.wallet import KeyWallet

TRANSFER = "Transfer(Address,Address,int,bytes)"


def failure(call):
    """How the SDK surfaced an error: its exception type, JSON-RPC code and message."""
    try:
        call()
    except JSONRPCException as exc:
        return {
            "type": "JSONRPCException",
            "code": exc.rpc_code,
            "message": exc.message,
            "data": exc.rpc_data,
        }
    except HTTPError as exc:
        return {"type": "HTTPError", "status": exc.status, "message": exc.message}
    except IconServiceBaseException as exc:
        return {"type": type(exc).__name__, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 - anything else is what the test wants to see
        return {"type": type(exc).__name__, "message": str(exc)}
    return None


def main() -> None:
    url, key, token = sys.argv[1:4]
    out = {}
    svc = IconService(HTTPProvider(url))
    wallet = KeyWallet.load(bytes.fromhex(key))
    me = wallet.get_address()

    # reads
    last = svc.get_block("latest")
    out["last_height"] = last["height"]
    out["signature"] = last["signature"]
    out["by_height"] = svc.get_block(last["height"])["block_hash"] == last["block_hash"]
    out["by_hash"] = svc.get_block("0x" + last["block_hash"])["height"] == last["height"]
    out["balance"] = svc.get_balance(me)
    out["total_supply"] = svc.get_total_supply()
    out["network"] = svc.get_network_info()
    out["score_api"] = sorted(entry["name"] for entry in svc.get_score_api(token))
    out["score_status"] = svc.get_score_status(token)["current"]["status"]
    balance_of = CallBuilder().to(token).method("balanceOf").params({"_owner": me}).build()
    out["token_balance"] = svc.call(balance_of)

    # a signed transfer and its result
    to = KeyWallet.create().get_address()
    tx = (
        TransactionBuilder()
        .from_(me)
        .to(to)
        .value(10**18)
        .step_limit(200_000)
        .nid(1)
        .nonce(1)
        .build()
    )
    tx_hash = svc.send_transaction(SignedTransaction(tx, wallet))
    result = svc.wait_transaction_result(tx_hash)
    out["transfer"] = {
        "status": result["status"],
        "step_used": result["stepUsed"],
        "to_balance": svc.get_balance(to),
        "from": svc.get_transaction(tx_hash)["from"],
        "result_again": svc.get_transaction_result(tx_hash)["txHash"] == tx_hash,
    }

    # monitors: blocks from here on, and the token's Transfer events with their logs
    start = svc.get_block("latest")["height"]
    events = svc.monitor(
        EventMonitorSpec(start, EventFilter(TRANSFER, token, 3), logs=True, progress_interval=1)
    )
    blocks = svc.monitor(BlockMonitorSpec(start, filters=[]))
    call_tx = (
        CallTransactionBuilder()
        .from_(me)
        .to(token)
        .step_limit(1_000_000)
        .nid(1)
        .method("transfer")
        .params({"_to": to, "_value": 5})
        .build()
    )
    receipt = svc.send_transaction_and_wait(SignedTransaction(call_tx, wallet))
    out["token_transfer"] = {"status": receipt["status"], "logs": receipt["eventLogs"]}
    notes, progress, deadline = [], [], time.monotonic() + 20
    while time.monotonic() < deadline:
        note = events.read(timeout=10)
        if "progress" in note:
            progress.append(note["progress"])
            continue
        notes.append(note)
        break
    events.close()
    out["event_notes"] = notes
    out["progress"] = progress
    seen = [blocks.read(timeout=10) for _ in range(3)]
    blocks.close()
    out["block_notes"] = [
        {
            "height": note["height"],
            "hash_matches": "0x" + svc.get_block(int(note["height"], 16))["block_hash"]
            == note["hash"],
        }
        for note in seen
    ]

    # errors
    forged = SignedTransaction(tx, KeyWallet.create())  # signed by someone else
    out["errors"] = {
        "bad_signature": failure(lambda: svc.send_transaction(forged)),
        "future_block": failure(lambda: svc.get_block(10**9)),
        "no_score": failure(
            lambda: svc.call(CallBuilder().to("cx" + "9" * 40).method("balanceOf").build())
        ),
        "debug_api": failure(lambda: svc.estimate_step(tx)),
        "other_channel": failure(
            lambda: IconService(HTTPProvider(url.rsplit("/", 1)[0] + "/no_such_channel")).get_block(
                "latest"
            )
        ),
    }

    # batches: the SDK has no batch call, so they go through the HTTP client it uses
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "icx_getLastBlock"},
        {"jsonrpc": "2.0", "id": 2, "method": "icx_getBalance", "params": {"address": me}},
        {"jsonrpc": "2.0", "id": 3, "method": "icx_nope"},
    ]
    answer = requests.post(url, data=json.dumps(batch), timeout=10)
    out["batch"] = {"status": answer.status_code, "body": answer.json()}
    over = requests.post(url, data=json.dumps([batch[0]] * 11), timeout=10)
    out["batch_over_limit"] = {"status": over.status_code, "body": over.json()}

    print(json.dumps(out))


if __name__ == "__main__":
    main()
