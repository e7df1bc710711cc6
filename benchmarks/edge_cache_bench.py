"""The edge's immutable-read cache: latency of a hit, and node calls saved under a method mix.

Usage: python benchmarks/edge_cache_bench.py [--connections 50] [--duration 10] [--rounds 3]
       [--delay-ms 50] [--mix-duration 20]

Starts `iconctl sim` on loopback and two edges in front of it (nginx with the edge
configuration rendered for the tests): the default one, and one with the cache on
(icon_edge_cache_size=64). Then:

1. Latency: wrk POSTs icx_getBlockByHeight for one block below the tip (a warmed cache entry)
   to the simulator directly, through the default edge (proxied to the node) and through the
   caching edge (a hit), paced (every connection pauses a random 0.5 to 1.5 x --delay-ms
   between requests) so the figures are request times rather than queueing. The targets
   alternate within every round; medians over the rounds are printed.
2. Node calls saved: wrk sends the load test's method mix (src/iconctl/loadtest/locustfile.py:
   40 % icx_getLastBlock, 20 % icx_getBalance, 15 % icx_call, 15 % icx_getBlockByHeight at a
   random height among the last 1,000, 10 % a batch of three) through the caching edge; the
   calls the node answered (goloop_jsonrpc_retrieve_cnt + goloop_jsonrpc_call_cnt of the
   simulator) are compared with the calls sent.

Needs nginx with the njs module and wrk on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port  # noqa: E402
from tests.integration.edge_process import Edge  # noqa: E402

LATENCY = """
wrk.method = "POST"
wrk.path = "/api/v3"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jsonrpc":"2.0","method":"icx_getBlockByHeight","params":{"height":"%s"},"id":1}'
local pause = tonumber(os.getenv("CACHE_BENCH_DELAY_MS") or "0")
if pause > 0 then
  delay = function() return math.random(math.floor(pause / 2), math.floor(pause * 3 / 2)) end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""

MIX = """
local tip = %d
local threads = {}
setup = function(thread) table.insert(threads, thread) end
calls = 0
local function call(method, params, id)
  local body = '{"jsonrpc":"2.0","method":"' .. method .. '","id":' .. id
  if params then body = body .. ',"params":' .. params end
  return body .. '}'
end
local function address()
  local hex = ""
  for i = 1, 40 do hex = hex .. string.format("%%x", math.random(0, 15)) end
  return '{"address":"hx' .. hex .. '"}'
end
local function height()
  return '{"height":"' .. string.format("0x%%x", math.random(tip - 1000, tip)) .. '"}'
end
request = function()
  local r = math.random(1, 100)
  local body
  if r <= 40 then body = call("icx_getLastBlock", nil, 1); calls = calls + 1
  elseif r <= 60 then body = call("icx_getBalance", address(), 1); calls = calls + 1
  elseif r <= 75 then
    body = call("icx_call", '{"to":"cx0000000000000000000000000000000000000000",' ..
      '"dataType":"call","data":{"method":"getStepPrice"}}', 1); calls = calls + 1
  elseif r <= 90 then body = call("icx_getBlockByHeight", height(), 1); calls = calls + 1
  else
    body = "[" .. call("icx_getLastBlock", nil, 1) .. "," .. call("icx_getBalance", address(), 2)
      .. "," .. call("icx_getBlockByHeight", height(), 3) .. "]"
    calls = calls + 3
  end
  return wrk.format("POST", "/api/v3", {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("calls") end
  io.write(string.format("MIX %%d %%d\\n", summary.requests, total))
end
"""


def sim_metrics(base: str) -> int:
    from iconctl.exposition import samples

    text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()  # noqa: S310
    counted = ("goloop_jsonrpc_retrieve_cnt", "goloop_jsonrpc_call_cnt")
    # the parser names counter samples <family>_total, goloop's _cnt counters included
    return sum(int(v) for name, _, v in samples(text) if name.removesuffix("_total") in counted)


def wrk(port: int, script: Path, connections: int, duration: int, env: dict) -> str:
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + 60, env={**os.environ, **env}
    )
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--mix-duration", type=int, default=20)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cache-bench-"))
    os.chmod(work, 0o755)  # nginx's workers must reach the cache directory
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "iconctl",
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--json",
            "--block-interval",
            "2",
            "--batch-limit",
            "10",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    edges: list[Edge] = []
    try:
        info = json.loads(sim.stdout.readline())
        base = info["url"].removesuffix("/api/v3")
        sim_port = int(base.rsplit(":", 1)[1])
        upstream = base.split("//")[1]
        common = {
            "icon_edge_rate_per_second": 1_000_000,
            "icon_edge_rate_burst": 1_000_000,
            "icon_edge_user": "root" if os.geteuid() == 0 else "",
        }
        for name, extra in (
            ("edge", {}),
            ("cache", {"icon_edge_cache_size": 64, "icon_edge_cache_dir": str(work / "c")}),
        ):
            (work / name).mkdir()
            edges.append(
                Edge(work / name, port=free_port(), upstream=upstream, **common, **extra).start()
            )
        targets = {"direct": sim_port, "edge": edges[0].port, "edge+cache hit": edges[1].port}
        height = hex(info["height"] - 1)
        latency_script = work / "latency.lua"
        latency_script.write_text(LATENCY % height)
        print(f"load average before: {os.getloadavg()}")
        results: dict[str, list[tuple[float, float, float]]] = {t: [] for t in targets}
        wrk(edges[1].port, latency_script, 1, 1, {})  # warm the cache entry
        order = list(targets)
        for round_no in range(args.rounds):
            for target in order if round_no % 2 == 0 else list(reversed(order)):
                out = wrk(
                    targets[target],
                    latency_script,
                    args.connections,
                    args.duration,
                    {"CACHE_BENCH_DELAY_MS": str(args.delay_ms)},
                )
                match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", out)
                if not match:
                    raise SystemExit(f"wrk gave no result for {target}: {out}")
                requests, duration_us, p50, p99, errors = map(int, match.groups())
                if errors:
                    raise SystemExit(f"{target}: {errors} errors")
                results[target].append((requests / (duration_us / 1e6), p50 / 1000, p99 / 1000))
                print(
                    f"round {round_no + 1} {target:15} {results[target][-1][0]:8.0f} req/s "
                    f"p50 {p50 / 1000:.2f} ms p99 {p99 / 1000:.2f} ms"
                )
        print("medians:")
        for target, runs in results.items():
            rps = statistics.median(r[0] for r in runs)
            p50 = statistics.median(r[1] for r in runs)
            p99 = statistics.median(r[2] for r in runs)
            print(f"  {target:15} {rps:8.0f} req/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms")

        mix_script = work / "mix.lua"
        mix_script.write_text(MIX % info["height"])
        before = sim_metrics(base)
        out = wrk(
            edges[1].port,
            mix_script,
            args.connections,
            args.mix_duration,
            {"CACHE_BENCH_DELAY_MS": "0"},
        )
        match = re.search(r"MIX (\d+) (\d+)", out)
        if not match:
            raise SystemExit(f"wrk gave no mix result: {out}")
        requests, sent = map(int, match.groups())
        node_calls = sim_metrics(base) - before
        print(
            f"method mix through the caching edge: {requests} requests ({sent} calls), "
            f"{node_calls} reached the node, {max(0, sent - node_calls)} saved "
            f"({100 * max(0, sent - node_calls) / max(1, sent):.1f} %)"
        )
        print(f"load average after: {os.getloadavg()}")
    finally:
        for edge in edges:
            edge.stop()
        sim.terminate()
        sim.wait(timeout=10)
        time.sleep(0.1)


if __name__ == "__main__":
    main()
