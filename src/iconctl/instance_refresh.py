"""After an apply of an autoscaled AWS region: the group's latest instance refresh, waited for.

A new launch template version makes the group replace its nodes in the background (Terraform
only starts the refresh). `apply` waits, bounded in time, until the latest refresh has
finished and reports how it ended; a refresh that failed or rolled back fails the step,
one that is still running when the wait is over is reported with its progress and left to
run. An API that does not answer DescribeInstanceRefreshes (moto's local AWS API, for one)
leaves the state unknown and says so; it never fails the apply.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# DescribeInstanceRefreshes statuses.
FINISHED = frozenset({"Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"})
FAILED = frozenset({"Failed", "RollbackSuccessful", "RollbackFailed"})
WAIT_SECONDS = 1800.0  # how long apply waits for a running refresh
POLL_SECONDS = 15.0


@dataclass(frozen=True)
class RefreshReport:
    group: str
    status: str  # an AWS status, "none" (never refreshed) or "unknown" (the API did not say)
    percent: int | None = None
    reason: str = ""
    waited: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def running(self) -> bool:
        return self.status not in FINISHED and self.status not in ("none", "unknown")

    def line(self) -> str:
        where = f"instance refresh of {self.group}"
        if self.status == "none":
            return f"{where}: none started (the nodes already run the latest launch template)"
        if self.status == "unknown":
            return f"{where}: state unknown: {self.reason}"
        text = f"{where}: {self.status}"
        if self.percent is not None and self.status != "Successful":
            text += f", {self.percent}% done"
        if self.running:
            text += (
                f" after waiting {self.waited / 60:.0f} min; it continues in the background "
                "(each new node counts after its boot grace)"
            )
        if self.reason:
            text += f" ({self.reason})"
        return text


def autoscaling_client(region: str, env: Mapping[str, str]) -> Any:
    """An Auto Scaling client with the credentials and endpoint the tools get."""
    from iconctl.preflight import aws_client

    return aws_client("autoscaling", env, endpoint_id="AUTO_SCALING", region=region)


def latest_refresh(
    client: Any,
    group: str,
    *,
    wait: float = WAIT_SECONDS,
    interval: float = POLL_SECONDS,
    on_progress: Callable[[RefreshReport], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RefreshReport:
    """The latest refresh of ``group``; while it runs, polled every ``interval`` seconds for
    at most ``wait`` seconds."""
    started = clock()
    while True:
        report = _describe(client, group)
        report = RefreshReport(
            report.group, report.status, report.percent, report.reason, clock() - started
        )
        if not report.running or clock() - started + interval > wait:
            return report
        if on_progress is not None:
            on_progress(report)
        sleep(interval)


def _describe(client: Any, group: str) -> RefreshReport:
    try:
        answer = client.describe_instance_refreshes(AutoScalingGroupName=group, MaxRecords=1)
    except Exception as exc:  # the report must never fail the apply that already happened
        return RefreshReport(group, "unknown", reason=_why(exc))
    refreshes = answer.get("InstanceRefreshes") or []
    if not isinstance(refreshes, list) or not refreshes:
        return RefreshReport(group, "none")
    latest = refreshes[0] if isinstance(refreshes[0], dict) else {}
    status = str(latest.get("Status") or "unknown")[:40]
    percent = latest.get("PercentageComplete")
    reason = next(iter(str(latest.get("StatusReason") or "").splitlines()), "")[:300]
    return RefreshReport(
        group,
        status,
        percent if isinstance(percent, int) else None,
        reason if status != "unknown" else "the API answered without a status",
    )


def _why(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore's ClientError
        error = response.get("Error") or {}
        return f"DescribeInstanceRefreshes: {error.get('Code')}: {error.get('Message')}"[:300]
    text = (str(exc) or type(exc).__name__).splitlines()[0]
    if "invalid XML" in text or "500" in text:
        # moto answers an action it does not implement with an HTML error page
        return "the AWS API does not answer DescribeInstanceRefreshes (not implemented there?)"
    return f"DescribeInstanceRefreshes: {text[:300]}"
