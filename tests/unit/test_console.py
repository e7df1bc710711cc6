"""The ready line long-running commands print under --json (read by process.Service)."""

from __future__ import annotations

import json
from pathlib import Path

from iconctl.console import json_printed, ready_line


def test_the_ready_line_is_one_json_object_on_one_line(capsys):
    ready_line({"url": "http://127.0.0.1:9000", "path": Path("/x"), "nested": {"a": [1, 2]}})
    text = capsys.readouterr().out
    assert text.count("\n") == 1 and text.endswith("\n")
    assert json.loads(text) == {
        "url": "http://127.0.0.1:9000", "path": "/x", "nested": {"a": [1, 2]},
    }  # fmt: skip
    assert not json_printed(), "a ready line is not the command's JSON document"
