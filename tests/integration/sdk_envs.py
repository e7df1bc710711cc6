"""The official ICON SDKs, each in its own environment, for the conformance tests.

iconsdk (PyPI) goes into a venv and icon-sdk-js (npm) into an npm prefix, both under the
git-ignored ``.cache/sdk/`` of the checkout, keyed by a hash of the pinned versions in
``tests/integration/sdk/`` so a version change builds a fresh one. Neither touches the
project's own venv. An environment is built in a temporary directory and renamed into place
only once complete, so an interrupted install is never mistaken for a working one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REQUIRE_TOOLS, need_tool

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = Path(__file__).resolve().parent / "sdk"
CACHE = ROOT / ".cache" / "sdk"
INSTALL_TIMEOUT = 600


def _unavailable(message: str) -> None:
    if REQUIRE_TOOLS:
        pytest.fail(message + " (ICONCTL_REQUIRE_TOOLS=1)")
    pytest.skip(message)


def _key(*names: str) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update((SDK_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def _build(final: Path, steps: list[list[str]], setup=None) -> Path:
    if (final / ".complete").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    if setup is not None:
        setup(work)
    for argv in steps:
        argv = [arg.replace("{work}", str(work)) for arg in argv]
        try:
            result = subprocess.run(
                argv, cwd=work, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(work, ignore_errors=True)
            _unavailable(f"cannot install an SDK: {' '.join(argv[:3])}: {exc}")
        if result.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            _unavailable(f"cannot install an SDK ({' '.join(argv[:3])}): {' | '.join(tail)}")
    (work / ".complete").write_text("ok\n")
    shutil.rmtree(final, ignore_errors=True)
    work.rename(final)
    return final


def python_sdk() -> Path:
    """The python of a venv that holds iconsdk (and nothing of iconctl)."""
    final = CACHE / f"python-{_key('requirements.txt')}"
    env = _build(
        final,
        [
            [sys.executable, "-m", "venv", "{work}/venv"],
            ["{work}/venv/bin/pip", "install", "-q", "-r", str(SDK_DIR / "requirements.txt")],
        ],
    )
    return env / "venv" / "bin" / "python"


def js_sdk() -> tuple[str, Path]:
    """(node, the node_modules directory that holds icon-sdk-js)."""
    tools = need_tool("node", "npm")

    def setup(work: Path) -> None:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(SDK_DIR / name, work / name)

    final = CACHE / f"js-{_key('package.json', 'package-lock.json')}"
    env = _build(
        final,
        [[tools["npm"], "ci", "--no-audit", "--no-fund", "--loglevel=error"]],
        setup=setup,
    )
    return tools["node"], env / "node_modules"
