"""The consoles every command prints through: results to stdout, diagnostics to stderr."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine output for ``--json``: plain JSON on stdout, nothing else."""
    out.out(json.dumps(data, indent=2, sort_keys=True, default=str), highlight=False)
