"""Websocket fan-out: N block-monitor clients through `iconctl gateway`, against the node.

Usage: python benchmarks/ws_fanout_bench.py [--clients 10000] [--workers 2] [--blocks 15]
       [--block-interval 2] [--upstream-sessions 2] [--ping-interval 30]
       [--connect-timeout 600]

Starts `iconctl sim` and `iconctl gateway` on loopback, then --workers client processes
(aiohttp, the same event loop library the gateway uses) that open --clients block monitors
between them through the gateway, each from the tip. Once every client is connected, the run
measures --blocks blocks: every client must receive every one of them, in order, with no gap.
A reference monitor connected to the node directly (in this coordinating process, which is
otherwise idle) records when the node sent each block; a client's added delivery latency for a
block is the time it received the block minus the time the reference did (CLOCK_MONOTONIC is
the same clock in every process). Prints the p50/p99/max of that over every client and block,
how many clients received every block, the gateway's upstream sessions and its own delivery
histogram, the load average before and after. Each process raises its open-file limit to the
hard limit (resource.setrlimit). Bounded: connecting stops at --connect-timeout, the
measurement at (blocks + 10) x block interval.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import signal
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- a worker process: many clients --------------------------------------------------------


async def worker(url: str, rpc_url: str, clients: int, concurrency: int) -> None:
    import aiohttp

    times: list[dict[int, float]] = []
    gaps = 0
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    session = aiohttp.ClientSession(connector=connector)
    gate = asyncio.Semaphore(concurrency)
    connected = 0
    failed = 0
    closes: dict[str, int] = {}
    tip = {"height": 0}

    async def follow_tip() -> None:
        """Clients start at the tip of when they connect, as live monitors do."""
        body = {"jsonrpc": "2.0", "method": "icx_getLastBlock", "id": 1}
        while True:
            async with session.post(rpc_url, json=body) as resp:
                tip["height"] = (await resp.json())["result"]["height"]
            await asyncio.sleep(0.5)

    follower = asyncio.ensure_future(follow_tip())
    while not tip["height"]:
        await asyncio.sleep(0.05)

    async def client(seen: dict[int, float]) -> None:
        nonlocal connected, failed, gaps
        try:
            async with gate:
                ws = await session.ws_connect(url, autoping=True, heartbeat=None)
                await ws.send_str(json.dumps({"height": hex(tip["height"])}))
                first = await ws.receive()
                if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data) != {"code": 0}:
                    failed += 1
                    return
            connected += 1
        except (aiohttp.ClientError, OSError, TimeoutError):
            failed += 1
            return
        last = None
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            now = time.monotonic()
            # the clients share two cores with the gateway: read the height without a JSON parse
            text = message.data
            at = text.index('"height":"') + 10
            height = int(text[at : text.index('"', at)], 16)
            if last is not None and height != last + 1:
                gaps += 1
            last = height
            seen[height] = now
        reason = f"{ws.close_code} {ws.exception() or ''}".strip()
        closes[reason] = closes.get(reason, 0) + 1

    tasks = []
    for _ in range(clients):
        seen: dict[int, float] = {}
        times.append(seen)
        tasks.append(asyncio.ensure_future(client(seen)))
    while connected + failed < clients:
        await asyncio.sleep(0.5)
    print(json.dumps({"connected": connected, "failed": failed}), flush=True)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    first_height, last_height = (int(x) for x in line.split())
    heights = range(first_height, last_height + 1)
    complete = sum(1 for seen in times if all(h in seen for h in heights))
    received = {str(h): [seen[h] for seen in times if h in seen] for h in heights}
    result = {"complete": complete, "gaps": gaps, "closes": closes, "received": received}
    print(json.dumps(result), flush=True)
    for task in [*tasks, follower]:
        task.cancel()
    await session.close()


# --- the coordinator ------------------------------------------------------------------------


def spawn_json(*argv: str, env: dict[str, str] | None = None):  # noqa: ANN201
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=raise_fd_limit,  # noqa: PLW1509 - no threads in the parent yet
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def rpc_tip(url: str) -> int:
    body = json.dumps({"jsonrpc": "2.0", "method": "icx_getLastBlock", "id": 1}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())["result"]["height"]


def scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback
        text = resp.read().decode()
    found = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+(?:\{[^}]*\})?) (\S+)$", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def bucket_quantile(found: dict[str, float], q: float) -> str:
    """The upper bound of the gateway histogram's bucket holding quantile q (node to socket)."""
    buckets = sorted(
        (float(key.split('le="')[1].rstrip('"}')), value)
        for key, value in found.items()
        if key.startswith("icon_gateway_delivery_seconds_bucket")
    )
    total = buckets[-1][1] if buckets else 0
    for bound, count in buckets:
        if total and count >= q * total:
            return "inf" if bound == float("inf") else f"{bound * 1000:g} ms"
    return "n/a"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def reference(url: str, start: int, seen: dict[int, float]) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"height": hex(start)}))
        await ws.receive()
        async for message in ws:
            seen[int(json.loads(message.data)["height"], 16)] = time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--block-interval", type=float, default=2.0)
    parser.add_argument("--upstream-sessions", type=int, default=2)
    parser.add_argument("--ping-interval", type=float, default=30.0, help="the gateway's")
    parser.add_argument("--connect-timeout", type=float, default=600)
    parser.add_argument("--concurrency", type=int, default=200, help="handshakes in flight")
    parser.add_argument("--worker", nargs=3, metavar=("URL", "RPC", "CLIENTS"), help="internal")
    args = parser.parse_args()
    limit = raise_fd_limit()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the children too (finally)
    if args.worker:
        url, rpc_url, clients = args.worker[0], args.worker[1], int(args.worker[2])
        asyncio.run(worker(url, rpc_url, clients, args.concurrency))
        return 0

    load_before = os.getloadavg()
    print(f"machine: {platform.node()} {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"open-file limit: {limit}; load average before: {load_before}")
    env = {"PYTHONPATH": str(ROOT / "src")}
    sim, sim_info = spawn_json(
        "-m", "iconctl", "sim", "--listen", "127.0.0.1:0", "--block-interval",
        str(args.block_interval), "--json", env=env,
    )  # fmt: skip
    node = sim_info["url"].removesuffix("/api/v3")
    gateway, gw_info = spawn_json(
        "-m", "iconctl", "gateway", "--node", node, "--listen", "127.0.0.1:0",
        "--max-clients", str(args.clients + 100), "--max-per-client", str(args.clients + 100),
        "--upstream-sessions", str(args.upstream_sessions),
        "--ping-interval", str(args.ping_interval), "--json", env=env,
    )  # fmt: skip
    metrics_url = f"http://127.0.0.1:{gw_info['port']}/metrics"
    procs = [sim, gateway]
    try:
        start = rpc_tip(sim_info["url"])
        seen: dict[int, float] = {}
        loop = asyncio.new_event_loop()
        ref = loop.create_task(reference(sim_info["url"].replace("http", "ws") + "/icon_dex/block",
                                         start, seen))  # fmt: skip
        loop.run_until_complete(asyncio.sleep(0.5))
        per_worker = [args.clients // args.workers] * args.workers
        per_worker[0] += args.clients - sum(per_worker)
        workers = []
        t0 = time.monotonic()
        import subprocess

        for count in per_worker:
            proc = subprocess.Popen(
                [sys.executable, __file__, "--worker", gw_info["url"] + "/block", sim_info["url"],
                 str(count), "--concurrency", str(args.concurrency)],
                stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=os.environ.copy(),
            )  # fmt: skip
            workers.append(proc)
            procs.append(proc)

        async def wait_connected() -> list[dict]:
            async def one(proc: subprocess.Popen) -> dict:
                assert proc.stdout is not None
                line = await asyncio.to_thread(proc.stdout.readline)
                return json.loads(line)

            return await asyncio.wait_for(
                asyncio.gather(*(one(p) for p in workers)), args.connect_timeout
            )

        states = loop.run_until_complete(wait_connected())
        connect_seconds = time.monotonic() - t0
        connected = sum(s["connected"] for s in states)
        print(f"connected {connected}/{args.clients} clients in {connect_seconds:.1f}s "
              f"(failed {sum(s['failed'] for s in states)})")  # fmt: skip
        first = max(seen) + 2
        last = first + args.blocks - 1
        deadline = time.monotonic() + (args.blocks + 10) * args.block_interval
        while (max(seen) < last + 1) and time.monotonic() < deadline:
            loop.run_until_complete(asyncio.sleep(0.2))
        loop.run_until_complete(asyncio.sleep(max(1.0, args.block_interval)))
        gw_metrics = scrape(metrics_url)
        results = []
        for proc in workers:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(f"{first} {last}\n")
            proc.stdin.flush()
        for proc in workers:
            results.append(json.loads(proc.stdout.readline()))
        ref.cancel()
        loop.run_until_complete(asyncio.gather(ref, return_exceptions=True))
        added = []
        for result in results:
            for height, stamps in result["received"].items():
                base = seen.get(int(height))
                if base is not None:
                    added.extend(t - base for t in stamps)
        complete = sum(r["complete"] for r in results)
        gaps = sum(r["gaps"] for r in results)
        print(f"measured blocks {first}..{last} ({args.blocks}), block interval "
              f"{args.block_interval}s")  # fmt: skip
        print(f"clients that received every block: {complete}/{args.clients}; gaps seen: {gaps}")
        closes: dict[str, int] = {}
        for result in results:
            for reason, count in result["closes"].items():
                closes[reason] = closes.get(reason, 0) + count
        if closes:
            print(f"connections closed before the end (code, error): {closes}")
        print(f"deliveries: {len(added)} (expected {args.clients * args.blocks})")
        if added:
            p50, p99 = percentile(added, 0.5) * 1000, percentile(added, 0.99) * 1000
            worst, mean = max(added) * 1000, statistics.fmean(added) * 1000
            print(
                f"added latency vs direct: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"max {worst:.1f} ms, mean {mean:.1f} ms"
            )
        sessions = gw_metrics.get("icon_gateway_upstream_sessions")
        served = gw_metrics.get('icon_gateway_clients{monitor="block"}', 0)
        dropped = gw_metrics.get('icon_gateway_dropped_clients_total{reason="slow"}', 0)
        count = gw_metrics.get("icon_gateway_delivery_seconds_count", 0)
        total = gw_metrics.get("icon_gateway_delivery_seconds_sum", 0)
        print(
            f"gateway: upstream sessions {sessions}, clients {served:.0f}, dropped {dropped:.0f}, "
            f"mean in-gateway delivery {1000 * total / max(count, 1):.1f} ms over {count:.0f}, "
            f"p50 <= {bucket_quantile(gw_metrics, 0.5)}, p99 <= {bucket_quantile(gw_metrics, 0.99)}"
        )
        print(f"load average after: {os.getloadavg()}")
        ok = complete == args.clients and sessions is not None and sessions <= 4
        return 0 if ok else 1
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except Exception:  # noqa: BLE001
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
