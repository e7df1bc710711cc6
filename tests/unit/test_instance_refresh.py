"""The report of an autoscaling group's latest instance refresh, with a stand-in client."""

from __future__ import annotations

from typing import Any

import pytest

from iconctl.instance_refresh import RefreshReport, latest_refresh


class _Client:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls = 0

    def describe_instance_refreshes(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {"AutoScalingGroupName": "icon-nodes", "MaxRecords": 1}
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _refresh(status: str, percent: int = 0, reason: str = "") -> dict[str, Any]:
    entry = {"Status": status, "PercentageComplete": percent, "StatusReason": reason}
    return {"InstanceRefreshes": [entry]}


def _run(answers: list[Any], wait: float = 600) -> tuple[RefreshReport, _Client, list[str]]:
    client, clock, seen = _Client(answers), _Clock(), []
    report = latest_refresh(
        client, "icon-nodes", wait=wait, interval=15, clock=clock, sleep=clock.sleep,
        on_progress=lambda r: seen.append(r.line()),
    )  # fmt: skip
    return report, client, seen


def test_waits_for_a_running_refresh_to_finish() -> None:
    report, client, seen = _run(
        [_refresh("InProgress", 10), _refresh("InProgress", 50), _refresh("Successful", 100)]
    )
    assert (report.status, report.failed, client.calls) == ("Successful", False, 3)
    assert report.line() == "instance refresh of icon-nodes: Successful"
    assert seen[0].startswith("instance refresh of icon-nodes: InProgress, 10% done")


def test_the_wait_is_bounded() -> None:
    report, client, _ = _run([_refresh("InProgress", 40)], wait=60)
    assert report.running and client.calls == 5 and report.waited == 60  # 0, 15, ... 60 s
    assert report.line().startswith("instance refresh of icon-nodes: InProgress, 40% done after")
    assert "continues in the background" in report.line()


@pytest.mark.parametrize("status", ["Failed", "RollbackSuccessful", "RollbackFailed"])
def test_a_failed_or_rolled_back_refresh_fails(status: str) -> None:
    report, _, _ = _run([_refresh(status, 30, "Instances failed to launch\nsecond line")])
    assert report.failed
    assert report.line() == (
        f"instance refresh of icon-nodes: {status}, 30% done (Instances failed to launch)"
    )


def test_no_refresh_yet() -> None:
    report, _, _ = _run([{"InstanceRefreshes": []}])
    assert report.status == "none" and not report.failed and "none started" in report.line()


class _ParserError(Exception):
    pass


class _ClientError(Exception):
    response = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (_ParserError("Unable to parse response (syntax error), invalid XML received"),
         "the AWS API does not answer DescribeInstanceRefreshes (not implemented there?)"),
        (_ClientError(), "DescribeInstanceRefreshes: AccessDenied: not authorized"),
    ],
)  # fmt: skip
def test_an_api_that_does_not_answer_leaves_the_state_unknown(error: Exception, reason: str):
    report, client, _ = _run([error])
    assert (report.status, report.failed, client.calls) == ("unknown", False, 1)
    assert report.line() == f"instance refresh of icon-nodes: state unknown: {reason}"
