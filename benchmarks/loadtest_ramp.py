"""Capacity of one simulated node under the ICON method mix, stepping up concurrent users.

Usage: python benchmarks/loadtest_ramp.py [--users 1,2,4,8,16] [--duration 10] [--latency-ms 0]

Starts `iconctl sim` on loopback, runs `iconctl loadtest --json` once per user count and
prints one line per step: requests, highest sustained rate, p50/p95/p99 and error rate, plus
the load average before and after. Locust and the simulator share this machine's cores, so
the figures describe the harness as much as the simulator: quote ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def loadavg() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="1,2,4,8,16")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sim = subprocess.Popen(
        [sys.executable, "-m", "iconctl", "sim", "--listen", "127.0.0.1:0",
         "--block-interval", "2", "--latency-ms", str(args.latency_ms), "--json"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = json.loads(sim.stdout.readline())["url"]
        print(f"simulator {url}, latency {args.latency_ms:g} ms, {args.duration}s per step")
        print(f"load average before: {loadavg()}")
        print("users  requests  sustained/s  mean/s   p50ms  p95ms  p99ms  errors")
        for users in [int(u) for u in args.users.split(",")]:
            proc = subprocess.run(
                [sys.executable, "-m", "iconctl", "loadtest", "--endpoint", url,
                 "--users", str(users), "--duration", str(args.duration), "--ramp", "0",
                 "--json"],
                capture_output=True, text=True, env=env,
            )  # fmt: skip
            report = json.loads(proc.stdout)
            sustained = report["sustained_rps"]  # null when no window could be measured
            print(
                f"{users:>5}  {report['requests']:>8}  "
                f"{'-' if sustained is None else f'{sustained:.1f}':>11}  "
                f"{report['mean_rps']:>6.1f}  {report['p50_ms']:>5.0f}  {report['p95_ms']:>5.0f}  "
                f"{report['p99_ms']:>5.0f}  {report['error_rate']:.2%}"
            )
        print(f"load average after: {loadavg()}")
    finally:
        sim.terminate()
        sim.wait(timeout=10)


if __name__ == "__main__":
    main()
