"""The agent's defaults: built in, or taken from a spec's ``health`` section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HealthDefaults:
    max_lag_blocks: int = 30
    max_block_age: float = 60.0
    references: tuple[str, ...] = ()


def health_defaults(spec_path: Path | None) -> HealthDefaults:
    """Without a spec: 30 blocks, 60 s, no references (the node's own progress decides).
    With one: its health section, and the references in force for its network."""
    if spec_path is None:
        return HealthDefaults()
    from iconctl.spec import load_spec

    spec = load_spec(spec_path)
    return HealthDefaults(
        max_lag_blocks=spec.health.max_lag_blocks,
        max_block_age=float(spec.health.max_block_age_seconds),
        references=tuple(str(url) for url in spec.references),
    )
