"""What the sync entry points return: typed results whose ``--json`` form is their fields."""

from __future__ import annotations


class SyncResult:
    """Base of the dataclasses ``SnapshotResult``, ``RestoreResult``, ``SnapshotInfo``,
    ``VerifyResult`` and ``PruneResult`` (no fields of its own, so frozen ones can share it)."""

    def to_json(self) -> dict[str, object]:
        """The fields by name; seconds (every float field) rounded to the millisecond."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}
