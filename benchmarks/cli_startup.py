"""Wall time of `iconctl --help` and `iconctl validate examples/multi-region.yaml`.

Usage: python benchmarks/cli_startup.py [--runs N]
Prints min / median / p90 of the wall time over N runs of each command (after one warm-up run
that fills the bytecode cache), the median CPU time (user + system) of the same runs, and the
load average, so the figures can be quoted with their conditions. On a busy machine the wall
time includes waiting for a core; the CPU time does not, and shows what the command costs.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "iconctl --help": ["--help"],
    "iconctl validate examples/multi-region.yaml": ["validate", "examples/multi-region.yaml"],
    "iconctl validate examples/multi-region.yaml --json": [
        "validate",
        "examples/multi-region.yaml",
        "--json",
    ],
}


def time_once(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "iconctl", *args], cwd=ROOT, check=True, capture_output=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"python {platform.python_version()} on {platform.machine()}, {runs} runs each")
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    for name, args in COMMANDS.items():
        time_once(args)
        walls, cpus = zip(*(time_once(args) for _ in range(runs)), strict=True)
        samples = sorted(walls)
        p90 = samples[max(0, int(len(samples) * 0.9) - 1)]
        print(
            f"{name:55s} min {samples[0]:.3f}s  median {statistics.median(samples):.3f}s  "
            f"p90 {p90:.3f}s  cpu median {statistics.median(cpus):.3f}s"
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
