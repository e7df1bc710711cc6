"""Fixtures shared by every tier. What tests import lives in tests/helpers/ (tests/README.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import run_iconctl


@pytest.fixture
def iconctl() -> Callable[..., object]:
    """The CLI as a user runs it (a child process)."""
    return run_iconctl
