"""`iconctl loadtest`: drive an endpoint with Locust and the ICON method mix, judge the result."""

from iconctl.loadtest.report import Report, Thresholds, analyse
from iconctl.loadtest.runner import LoadTest, run

__all__ = ["LoadTest", "Report", "Thresholds", "analyse", "run"]
