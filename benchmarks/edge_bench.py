"""Latency the edge proxy adds: wrk against the node simulator directly and through the edge.

Usage: python benchmarks/edge_bench.py [--connections 200] [--duration 10] [--rounds 3]
       [--threads 2] [--delay-ms 100] [--workers auto]

Starts `iconctl sim` on loopback, nginx with the edge configuration (edge/nginx.conf.j2, njs
included) in front of it, and runs wrk with POST icx_getLastBlock at the given concurrency,
alternating direct and edge rounds so both see the same machine load.

Two modes per round. "paced": every connection waits --delay-ms between requests (200
connections x 1 request / 100 ms = 2,000 requests/s), so latency is the time a request takes,
not time spent queueing behind a saturated CPU; this is the figure the targets are about.
"saturated": no pause, the highest throughput; on a small machine the extra CPU of the proxy
hop shows up there as queueing.

A third target, "no-njs", is the same nginx configuration with the JSON-RPC locations proxying
straight to the node (no njs check, no method in the log): the difference between "edge" and
"no-njs" is what the JSON-RPC awareness costs, the rest is the proxy hop itself. Prints p50/p90/p99
latency and requests/s per round, the median of each, the difference (what the edge adds),
and the load average. The per-client rate limit is raised out of the way (every request
comes from one address). Needs nginx with the njs module and wrk on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402
from tests.integration.edge_process import Edge  # noqa: E402

WRK_SCRIPT = """
wrk.method = "POST"
wrk.path = "/api/v3"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jsonrpc":"2.0","method":"icx_getLastBlock","id":1}'
local pause = tonumber(os.getenv("EDGE_BENCH_DELAY_MS") or "0")
if pause > 0 then
  delay = function() return pause end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def start_sim() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "iconctl", "sim", "--listen", "127.0.0.1:0", "--json",
         "--block-interval", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["url"].split("/")[2]


def wrk(port: int, script: Path, args: argparse.Namespace, delay_ms: int = 0) -> dict:
    out = subprocess.run(
        ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
         "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "EDGE_BENCH_DELAY_MS": str(delay_ms)},
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(out)
    requests, duration_us, p50, p90, p99, errors = map(int, match.groups())
    return {"rps": requests / (duration_us / 1e6), "p50_ms": p50 / 1000, "p90_ms": p90 / 1000,
            "p99_ms": p99 / 1000, "errors": errors, "requests": requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--delay-ms", type=int, default=100,
                        help="pause per connection between requests in the paced mode")
    parser.add_argument("--workers", default="auto", help="nginx worker_processes")
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is required on PATH")

    workdir = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT)
    sim, upstream = start_sim()
    sim_port = int(upstream.rsplit(":", 1)[1])
    edge = Edge(workdir / "edge", port=free_port(), upstream=upstream,
                icon_edge_rate_per_second=1_000_000, icon_edge_rate_burst=1_000_000,
                icon_edge_worker_processes=args.workers)
    edge.start()
    plain = Edge(workdir / "plain", port=free_port(), upstream=upstream,
                 icon_edge_rate_per_second=1_000_000, icon_edge_rate_burst=1_000_000,
                 icon_edge_worker_processes=args.workers)
    params = f"include {workdir / 'plain'}/icon_proxy_params.conf;"
    plain.conf.write_text(plain.conf.read_text().replace(
        "set $icon_jsonrpc_target /_icon_upstream/api/v3;\n            js_content icon.check;",
        f"proxy_pass http://icon_node/api/v3; {params}"))
    plain.start()
    targets = (("direct", sim_port), ("edge", edge.port), ("no-njs", plain.port))
    modes = {"paced": args.delay_ms, "saturated": 0}
    results: dict[tuple[str, str], list[dict]] = {}
    try:
        wrk(sim_port, script, argparse.Namespace(**{**vars(args), "duration": 2}))  # warm-up
        wrk(edge.port, script, argparse.Namespace(**{**vars(args), "duration": 2}))
        for round_ in range(args.rounds):
            for mode, delay_ms in modes.items():
                for name, port in targets:
                    r = wrk(port, script, args, delay_ms)
                    results.setdefault((mode, name), []).append(r)
                    print(f"round {round_ + 1} {mode:9s} {name:6s} {r['rps']:8.0f} req/s"
                          f"  p50 {r['p50_ms']:.3f} ms  p90 {r['p90_ms']:.3f} ms"
                          f"  p99 {r['p99_ms']:.3f} ms  errors {r['errors']}", flush=True)
                    time.sleep(1)
    finally:
        edge.stop()
        plain.stop()
        sim.terminate()
        sim.wait()

    def median(mode: str, name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(mode, name)])

    print(f"\nconnections {args.connections}, {args.duration}s x {args.rounds} rounds each, "
          f"wrk threads {args.threads}, nginx workers {args.workers}, "
          f"paced = {args.delay_ms} ms between requests per connection")
    for mode in modes:
        for key in ("p50_ms", "p90_ms", "p99_ms", "rps"):
            d, e = median(mode, "direct", key), median(mode, "edge", key)
            p = median(mode, "no-njs", key)
            print(f"{mode:9s} median {key:7s} direct {d:9.3f}  edge {e:9.3f}  no-njs {p:9.3f}"
                  f"  edge - direct {e - d:+9.3f}  edge - no-njs {e - p:+9.3f}")
    print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}, "
          f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
