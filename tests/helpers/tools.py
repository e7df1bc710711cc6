"""External tools and modules a test needs: skip when absent, fail under
ICONCTL_REQUIRE_TOOLS=1 (set by CI, where every tool is installed)."""

from __future__ import annotations

import os
import shutil
from types import ModuleType

import pytest

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


def need_module(name: str) -> ModuleType:
    """Import a Python module the test needs, with the same skip/fail rule as need_tool."""
    try:
        return __import__(name)
    except ImportError:
        message = f"required Python module not installed: {name}"
        if REQUIRE_TOOLS:
            pytest.fail(message + " (ICONCTL_REQUIRE_TOOLS=1)")
        pytest.skip(message)
