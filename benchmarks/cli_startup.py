"""Wall time of `iconctl --help` and `iconctl validate examples/multi-region.yaml`.

Usage: python benchmarks/cli_startup.py [--runs N]
Prints min / median / p90 of the wall time over N rounds (each round runs every command once,
after one warm-up run of each that fills the bytecode cache), the median CPU time (user +
system) of the same runs, and the load average, so the figures can be quoted with their
conditions. On a busy machine the wall time includes waiting for a core; the CPU time does
not, and shows what the command costs. The "floor" line is what any typer + pydantic program
pays before it does anything.
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
# What any typer + pydantic command pays before doing anything: the libraries' imports and a
# first model. Measured in the same rounds, it tells the machine's speed at the time apart
# from iconctl's own cost (this virtual machine's speed varies by 1.5x over an hour).
FLOOR = (
    "import typer, typer._adapters\n"
    "from pydantic import BaseModel\n"
    "class M(BaseModel):\n"
    "    x: int\n"
)
COMMANDS = {
    "floor: import typer + pydantic, one model": ["-c", FLOOR],
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
    command = (
        [sys.executable, *args] if args[0] == "-c" else [sys.executable, "-m", "iconctl", *args]
    )
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
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
    for args in COMMANDS.values():
        time_once(args)  # fills the bytecode cache
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(runs):  # round-robin, so a change in the machine's speed hits all alike
        for name, args in COMMANDS.items():
            samples[name].append(time_once(args))
    for name, pairs in samples.items():
        walls = sorted(wall for wall, _ in pairs)
        cpu = statistics.median(cpu for _, cpu in pairs)
        p90 = walls[max(0, int(len(walls) * 0.9) - 1)]
        print(
            f"{name:55s} min {walls[0]:.3f}s  median {statistics.median(walls):.3f}s  "
            f"p90 {p90:.3f}s  cpu median {cpu:.3f}s"
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
