"""A pipeline run's report: a declined confirmation is a cancelled result, which the CLI maps
to exit 2 through the same path as a failed step."""

from __future__ import annotations

import pytest

from iconctl.errors import ExitCode, UsageError
from iconctl.pipeline import Report


@pytest.mark.parametrize("command", ["apply", "destroy"])
def test_a_declined_run_is_a_cancelled_result(command):
    report = Report(command, None, cancelled=True)
    assert report.to_json() == {
        "command": command, "run_dir": None, "ok": True, "cancelled": True, "steps": [],
    }  # fmt: skip
    failure = report.failure()
    assert isinstance(failure, UsageError) and failure.exit_code == ExitCode.USAGE
    assert failure.message == f"{command} cancelled at the prompt; nothing was changed"


def test_a_run_that_went_through_has_no_failure():
    assert Report("apply", None).failure() is None
