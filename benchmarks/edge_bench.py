"""Latency the edge proxy adds: wrk against the node simulator directly and through the edge.

Usage: python benchmarks/edge_bench.py [--connections 200] [--duration 10] [--rounds 5]
       [--threads 1] [--delay-ms 100] [--workers 1] [--no-pin] [--modes paced,lockstep,saturated]
       [--targets direct,edge,checked] [--set icon_edge_NAME=VALUE ...]

Starts `iconctl sim` on loopback, nginx with the edge configuration (edge/nginx.conf.j2, as
rendered for the tests, njs included) in front of it, and runs wrk with POST
icx_getLastBlock at the given concurrency. The targets are measured in the same run,
alternating within every round (the order reverses every other round), so all of them see the
same machine load; the medians over the rounds are compared.

Targets: "direct" is the simulator itself; "edge" is the default edge configuration (JSON-RPC
proxied straight to the node, the method for the log read by njs at log time); "checked" is the
same with an edge batch limit (icon_edge_max_batch=100: an njs content handler parses every
body and hands the request on with an internal redirect), i.e. what the opt-in check costs.

Modes. "paced": every connection waits a random 0.5 to 1.5 x --delay-ms before each request
(on average 200 connections x 1 request / 100 ms = 2,000 requests/s), so latency is the time a
request takes, not time spent queueing; this is the figure the targets are about. "lockstep":
the same rate with a fixed pause, which keeps all connections firing together: a burst of 200
simultaneous requests every 100 ms, so it measures how the burst queues (wrk also delays each
connection's first request, so the random pause spreads the start too). "saturated": no pause,
the highest throughput; on a small machine the extra CPU of the proxy hop shows up there as
queueing.

Placement (--pin, the default on 2 or more CPUs): wrk runs on CPU 0, the simulator and every
nginx process on CPU 1 (sched_setaffinity, what `taskset -c` does), for the direct and the edge
runs alike, so the load generator never competes with the server side for a core and the
direct runs get no core the edge runs do not. The simulator is a single asyncio process (it
has no worker option), so one core is all it can use anyway.

--set passes template variables to the edge and checked targets (e.g. --set
icon_edge_keepalive=16) to compare tunings. The per-client rate limit is raised out of the way
(every request comes from one address). Needs nginx with the njs module and wrk on PATH. Prints
p50/p90/p99 latency and requests/s per round, the median of each, the difference to direct,
and the load average before and after.
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

from tests.helpers import free_port  # noqa: E402
from tests.integration.edge_process import Edge  # noqa: E402

WRK_SCRIPT = """
wrk.method = "POST"
wrk.path = "/api/v3"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jsonrpc":"2.0","method":"icx_getLastBlock","id":1}'
local pause = tonumber(os.getenv("EDGE_BENCH_DELAY_MS") or "0")
if pause > 0 and os.getenv("EDGE_BENCH_LOCKSTEP") == "1" then
  delay = function() return pause end
elseif pause > 0 then
  -- a random pause averaging `pause` (also before each connection's first request), so the
  -- connections do not fire in lockstep
  delay = function() return math.random(math.floor(pause / 2), math.floor(pause * 3 / 2)) end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""

LOAD_CPU = 0
SERVER_CPU = 1


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pin(pid: int, cpu: int | None) -> None:
    """Pin a process and its children (nginx's workers) to one CPU."""
    if cpu is None:
        return
    os.sched_setaffinity(pid, {cpu})
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            os.sched_setaffinity(int(child), {cpu})


def start_sim(cpu: int | None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
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
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    pin(proc.pid, cpu)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["url"].split("/")[2]


def wrk(
    port: int,
    script: Path,
    args: argparse.Namespace,
    duration: int,
    delay_ms: int = 0,
    lockstep: bool = False,
) -> dict:
    cpu = LOAD_CPU if args.pin else None
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(args.threads),
            "-c",
            str(args.connections),
            "-d",
            f"{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "EDGE_BENCH_DELAY_MS": str(delay_ms),
            "EDGE_BENCH_LOCKSTEP": "1" if lockstep else "0",
        },
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(out)
    requests, duration_us, p50, p90, p99, errors = map(int, match.groups())
    return {
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p90_ms": p90 / 1000,
        "p99_ms": p99 / 1000,
        "errors": errors,
        "requests": requests,
    }


def template_value(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--delay-ms",
        type=int,
        default=100,
        help="pause per connection between requests in the paced mode",
    )
    parser.add_argument("--workers", default="1", help="nginx worker_processes")
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=(os.cpu_count() or 1) >= 2,
        help="wrk on CPU 0, the simulator and nginx on CPU 1",
    )
    parser.add_argument("--modes", default="paced,lockstep,saturated")
    parser.add_argument("--targets", default="direct,edge,checked")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template variable for the edge targets (repeatable)",
    )
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is required on PATH")
    known_modes = {"paced": args.delay_ms, "lockstep": args.delay_ms, "saturated": 0}
    modes = {m: known_modes[m] for m in args.modes.split(",")}
    names = args.targets.split(",")
    if not set(names) <= {"direct", "edge", "checked"} or not set(modes) <= set(known_modes):
        sys.exit("targets: direct, edge, checked; modes: paced, lockstep, saturated")
    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("icon_edge_"):
            sys.exit(f"--set wants icon_edge_NAME=VALUE, not {item!r}")
        extra[key] = template_value(value)
    server_cpu = SERVER_CPU if args.pin else None
    load_before = loadavg()

    workdir = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT)
    sim, upstream = start_sim(server_cpu)
    sim_port = int(upstream.rsplit(":", 1)[1])
    common = {
        "icon_edge_rate_per_second": 1_000_000,
        "icon_edge_rate_burst": 1_000_000,
        "icon_edge_worker_processes": template_value(args.workers),
        **extra,
    }
    edges: dict[str, Edge] = {}
    targets: list[tuple[str, int]] = []
    try:
        for name in names:
            if name == "direct":
                targets.append((name, sim_port))
                continue
            options = dict(common)
            if name == "checked":
                options["icon_edge_max_batch"] = 100
            edge = Edge(workdir / name, port=free_port(), upstream=upstream, **options)
            edges[name] = edge.start()
            assert edge.proc is not None
            pin(edge.proc.pid, server_cpu)
            targets.append((name, edge.port))
        for _, port in targets:  # warm-up: connections, caches
            wrk(port, script, args, 2)
        results: dict[tuple[str, str], list[dict]] = {}
        for round_ in range(args.rounds):
            order = targets if round_ % 2 == 0 else targets[::-1]
            for mode, delay_ms in modes.items():
                for name, port in order:
                    r = wrk(port, script, args, args.duration, delay_ms, mode == "lockstep")
                    results.setdefault((mode, name), []).append(r)
                    print(
                        f"round {round_ + 1} {mode:9s} {name:7s} {r['rps']:8.0f} req/s"
                        f"  p50 {r['p50_ms']:.3f} ms  p90 {r['p90_ms']:.3f} ms"
                        f"  p99 {r['p99_ms']:.3f} ms  errors {r['errors']}",
                        flush=True,
                    )
                    time.sleep(1)
    finally:
        for edge in edges.values():
            edge.stop()
        sim.terminate()
        sim.wait()

    def median(mode: str, name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(mode, name)])

    placement = (
        f"wrk on CPU {LOAD_CPU}, sim and nginx on CPU {SERVER_CPU}" if args.pin else "unpinned"
    )
    print(
        f"\nconnections {args.connections}, {args.duration}s x {args.rounds} rounds each, "
        f"wrk threads {args.threads}, nginx workers {args.workers}, {placement}, "
        f"paced = {args.delay_ms} ms between requests per connection"
        + (f", edge options {extra}" if extra else "")
    )
    for mode in modes:
        for key in ("p50_ms", "p90_ms", "p99_ms", "rps"):
            line = f"{mode:9s} median {key:7s}"
            for name in names:
                line += f"  {name} {median(mode, name, key):9.3f}"
            if "direct" in names:
                for name in names:
                    if name != "direct":
                        diff = median(mode, name, key) - median(mode, "direct", key)
                        line += f"  {name} - direct {diff:+8.3f}"
            print(line)
    print(
        f"load average {load_before} before, {loadavg()} after; {os.cpu_count()} CPUs, "
        f"{platform.platform()}, Python {platform.python_version()}"
    )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
