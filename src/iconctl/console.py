"""The consoles every command prints through: results to stdout, diagnostics to stderr.

Both are created on first use, so commands that print only JSON never import rich.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def real(stderr: bool = False) -> Console:
    """The rich Console itself, for rich objects that need one (live displays)."""
    return _console(stderr)


class _Lazy:
    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr

    def __getattr__(self, name: str) -> Any:
        return getattr(_console(self._stderr), name)


out: Console = _Lazy(stderr=False)  # type: ignore[assignment]
err: Console = _Lazy(stderr=True)  # type: ignore[assignment]


_json_printed = False


def json_printed() -> bool:
    """Whether this process already wrote its JSON document (so errors add no second one)."""
    return _json_printed


def print_json(data: Any) -> None:
    """Machine output for ``--json``: plain JSON on stdout, nothing else."""
    global _json_printed
    _json_printed = True
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def ready_line(info: Mapping[str, Any]) -> None:
    """The ready line of a long-running command under ``--json`` (``sim``, ``agent``,
    ``gateway``, ``statuspage --serve``): one JSON object on one line, flushed at once, which a
    parent reads with readline() (``process.Service``)."""
    sys.stdout.write(json.dumps(info, default=str) + "\n")
    sys.stdout.flush()


def printable(text: str, limit: int | None = None) -> str:
    """Text from the network made safe for a terminal and a log line: control and format
    characters (escape sequences, OSC 8 links, bells, newlines, bidi overrides) become
    visible ``\\x1b``-style escapes, and the result is cut to ``limit`` characters.

    Print it with ``markup=False`` (or as a ``rich.text.Text``) so brackets stay brackets."""
    shown = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(char)
            shown.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            shown.append(char)
    result = "".join(shown)
    if limit is not None and len(result) > limit:
        result = result[: limit - 1] + "…"
    return result
