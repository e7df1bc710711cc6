"""Benchmark the simulator's icx_getLastBlock throughput on loopback with wrk.

    .venv/bin/python benchmarks/sim_bench.py [--duration 10] [--connections 64]

Starts `iconctl sim`, runs `wrk -t1 -c64 --latency` POSTing icx_getLastBlock to /api/v3, then
the same against a minimal aiohttp JSON-RPC handler (parse the body, answer a prepared block),
the alternative the simulator's HTTP server was measured against. The target is >= 5,000
requests/s so the simulator is never the bottleneck of the agent and proxy benchmarks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_bench import start, wrk  # noqa: E402

LUA = textwrap.dedent("""
    wrk.method = "POST"
    wrk.body = '{"jsonrpc":"2.0","id":1,"method":"icx_getLastBlock"}'
    wrk.headers["Content-Type"] = "application/json"
    done = function(summary, latency, requests)
      io.stderr:write(string.format("errors %d\\n", summary.errors.status))
    end
""")

AIOHTTP_BASELINE = textwrap.dedent("""
    import json, sys
    from aiohttp import web
    BLOCK = json.dumps({"height": 1000, "block_hash": "00" * 32, "version": "2.0"}).encode()
    async def rpc(request):
        payload = json.loads(await request.read())
        body = b'{"jsonrpc":"2.0","result":' + BLOCK + b',"id":' + json.dumps(
            payload.get("id")).encode() + b'}'
        return web.Response(body=body, content_type="application/json")
    app = web.Application()
    app.router.add_post("/api/v3", rpc)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(LUA)
        baseline_py = Path(tmp) / "baseline.py"
        baseline_py.write_text(AIOHTTP_BASELINE)
        load = Path("/proc/loadavg").read_text().split()[:3]
        sim, info = start("sim", "--listen", "127.0.0.1:0", "--block-interval", "2")
        try:
            time.sleep(0.5)
            result = wrk(info["url"], args.connections, args.duration, str(script))
        finally:
            sim.terminate()
            sim.wait(timeout=10)
        port = "19978"
        base = subprocess.Popen(
            [sys.executable, str(baseline_py), port],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert base.stdout is not None
            base.stdout.readline()
            time.sleep(0.5)
            baseline = wrk(
                f"http://127.0.0.1:{port}/api/v3", args.connections, args.duration, str(script)
            )
        finally:
            base.terminate()
            base.wait(timeout=10)
    print(f"machine load average before the run: {' '.join(load)}")
    print(
        f"iconctl sim icx_getLastBlock  wrk -t1 -c{args.connections} -d{args.duration}s: "
        f"{result['rps']:.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms, non-2xx {result['non_2xx']}"
    )
    print(
        f"aiohttp baseline, same request:            {baseline['rps']:.0f} req/s, "
        f"p50 {baseline['p50_ms']:.2f} ms, p99 {baseline['p99_ms']:.2f} ms "
        f"(sim/aiohttp throughput ratio {result['rps'] / baseline['rps']:.1f}x)"
    )


if __name__ == "__main__":
    main()
