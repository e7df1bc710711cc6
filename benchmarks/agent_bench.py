"""Benchmark the agent's /readyz under wrk, and show the node's call rate ignores probe rate.

    .venv/bin/python benchmarks/agent_bench.py [--duration 10] [--connections 64]

Starts `iconctl sim` and `iconctl agent` on loopback, then:
1. counts the node's icx_getLastBlock calls for a while with no probes (idle rate);
2. runs `wrk -t1 -c64 --latency` on /readyz and counts the node's calls meanwhile;
3. for the record, runs the same wrk against a minimal aiohttp server returning the same
   body, the alternative the agent's HTTP server was measured against.
Prints requests/s, p50/p99 latency and node calls per minute in both windows, plus the load
average (the machine is shared, so compare figures from the same run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def start(*args: str) -> tuple[subprocess.Popen[str], dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "iconctl", *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        proc.kill()
        raise SystemExit(f"{args[0]} did not start")
    return proc, json.loads(proc.stdout.readline())


def wrk(url: str, connections: int, duration: int, script: str | None = None) -> dict:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        argv += ["-s", script]
    text = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {}
    for pct in ("50", "99"):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", text, re.M).groups()
        lat[pct] = float(value) * UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "rps": rps,
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def node_calls(sim_base: str) -> float:
    from iconctl.exposition import samples

    with urllib.request.urlopen(sim_base + "/metrics", timeout=5) as resp:  # noqa: S310
        text = resp.read().decode()
    for name, labels, value in samples(text):
        retrieve = name.removesuffix("_total") == "goloop_jsonrpc_retrieve_cnt"
        if retrieve and labels.get("method") == "icx_getLastBlock":
            return value
    return 0.0


AIOHTTP_BASELINE = textwrap.dedent("""
    import sys
    from aiohttp import web
    async def readyz(request):
        return web.Response(text="OK")
    app = web.Application()
    app.router.add_get("/readyz", readyz)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required (Debian: apt-get install wrk)")

    sim, sim_info = start("sim", "--listen", "127.0.0.1:0", "--block-interval", "2")
    sim_base = sim_info["url"].removesuffix("/api/v3")
    agent, agent_info = start(
        "agent",
        "--node",
        sim_base,
        "--listen",
        "127.0.0.1:0",
        "--poll-interval",
        str(args.poll_interval),
    )
    procs = [sim, agent]
    try:
        time.sleep(1)
        before, t0 = node_calls(sim_base), time.monotonic()
        time.sleep(args.duration)
        idle_per_min = (node_calls(sim_base) - before) * 60 / (time.monotonic() - t0)

        load_before = Path("/proc/loadavg").read_text().split()[:3]
        before = node_calls(sim_base)
        t0 = time.monotonic()
        agent_result = wrk(agent_info["url"] + "/readyz", args.connections, args.duration)
        busy_per_min = (node_calls(sim_base) - before) * 60 / (time.monotonic() - t0)

        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "baseline.py"
            script.write_text(AIOHTTP_BASELINE)
            port = "19977"
            base = subprocess.Popen(
                [sys.executable, str(script), port],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            procs.append(base)
            assert base.stdout is not None
            base.stdout.readline()
            time.sleep(0.5)
            baseline = wrk(f"http://127.0.0.1:{port}/readyz", args.connections, args.duration)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)

    print(f"machine load average before wrk: {' '.join(load_before)}")
    print(
        f"agent /readyz   wrk -t1 -c{args.connections} -d{args.duration}s: "
        f"{agent_result['rps']:.0f} req/s, p50 {agent_result['p50_ms']:.2f} ms, "
        f"p99 {agent_result['p99_ms']:.2f} ms, non-2xx {agent_result['non_2xx']}"
    )
    print(
        f"aiohttp baseline, same body:    {baseline['rps']:.0f} req/s, "
        f"p50 {baseline['p50_ms']:.2f} ms, p99 {baseline['p99_ms']:.2f} ms "
        f"(agent/aiohttp throughput ratio {agent_result['rps'] / baseline['rps']:.1f}x)"
    )
    print(
        f"node icx_getLastBlock calls/min: idle {idle_per_min:.1f}, "
        f"during {agent_result['rps'] * 60:.0f} probes/min {busy_per_min:.1f} "
        f"(poll interval {args.poll_interval}s)"
    )


if __name__ == "__main__":
    main()
