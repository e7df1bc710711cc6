"""Unit tests start no process (tests/README.md): one that tries fails and says where it goes."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_child_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: subprocess.Popen, args: Any, *rest: Any, **options: Any) -> None:
        pytest.fail(
            f"a unit test started {args!r}: tests that run processes belong in "
            "tests/integration (real processes) or tests/functional (the CLI as a user runs it)"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
