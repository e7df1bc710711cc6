"""kubectl for k8s regions: build an overlay offline, apply it, delete it."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from iconctl import process


class Kubectl:
    def __init__(
        self,
        *,
        context: str | None,
        step: str,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self.context = context
        self.step = step
        self.log_path = log_path
        self.env = dict(env if env is not None else os.environ)
        self.on_line = on_line

    def _ctx(self) -> list[str]:
        return [f"--context={self.context}"] if self.context else []

    def build(self, overlay: Path) -> list[dict]:
        """The objects the overlay renders to (`kubectl kustomize`, no cluster needed)."""
        result = process.run(
            ["kubectl", "kustomize", str(overlay)],
            step=f"{self.step}: kubectl kustomize",
            env=self.env,
            capture=True,
        )
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    def apply(self, overlay: Path) -> None:
        process.run(
            ["kubectl", *self._ctx(), "apply", "--server-side", "--field-manager=iconctl",
             "-k", str(overlay)],
            step=f"{self.step}: kubectl apply",
            env=self.env,
            log_path=self.log_path,
            on_line=self.on_line,
        )  # fmt: skip

    def delete(self, overlay: Path) -> None:
        process.run(
            ["kubectl", *self._ctx(), "delete", "--ignore-not-found", "--wait=false",
             "-k", str(overlay)],
            step=f"{self.step}: kubectl delete",
            env=self.env,
            log_path=self.log_path,
            on_line=self.on_line,
        )  # fmt: skip
