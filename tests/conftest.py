"""Shared test helpers: external-tool requirements, free ports, the CLI as a user runs it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
REQUIRE_TOOLS = os.environ.get("ICONCTL_REQUIRE_TOOLS") == "1"


def need_tool(*names: str) -> dict[str, str]:
    """Paths of the named binaries; skip when one is absent, fail under ICONCTL_REQUIRE_TOOLS=1."""
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"required tool(s) not on PATH: {', '.join(missing)}"
        if REQUIRE_TOOLS:
            pytest.fail(message + " (ICONCTL_REQUIRE_TOOLS=1)")
        pytest.skip(message)
    return {name: str(path) for name, path in found.items()}


def need_module(name: str):
    """Import a Python module the test needs, with the same skip/fail rule as need_tool."""
    try:
        return __import__(name)
    except ImportError:
        message = f"required Python module not installed: {name}"
        if REQUIRE_TOOLS:
            pytest.fail(message + " (ICONCTL_REQUIRE_TOOLS=1)")
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_iconctl(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process, as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("COLUMNS", "200")
    return subprocess.run(
        [sys.executable, "-m", "iconctl", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


@pytest.fixture
def iconctl():
    return run_iconctl
