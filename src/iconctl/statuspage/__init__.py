"""`iconctl statuspage`: a static public status page from live endpoint and agent data."""

from iconctl.statuspage.probe import Target, targets_from
from iconctl.statuspage.site import BuildResult, build

__all__ = ["BuildResult", "Target", "build", "targets_from"]
