"""What tests import (fixtures stay in tests/conftest.py): tool requirements, ports, the CLI
as a user runs it, and the repository's paths. Topic helpers live beside this file
(``tests.helpers.aws``, ``.sync``, ``.promql``)."""

from tests.helpers.cli import run_iconctl
from tests.helpers.net import free_port, wait_port
from tests.helpers.paths import EXAMPLES, ROOT
from tests.helpers.tools import REQUIRE_TOOLS, need_module, need_tool

__all__ = [
    "EXAMPLES",
    "REQUIRE_TOOLS",
    "ROOT",
    "free_port",
    "need_module",
    "need_tool",
    "run_iconctl",
    "wait_port",
]
