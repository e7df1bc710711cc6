"""kubectl for k8s regions: build an overlay offline, apply it, delete it, list the CRDs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from iconctl.runners.tool import ToolRunner


@dataclass(kw_only=True)
class Kubectl(ToolRunner):
    tool = "kubectl"

    context: str | None  # the kubeconfig context; None: the current one

    def _ctx(self) -> list[str]:
        return [f"--context={self.context}"] if self.context else []

    def build(self, overlay: Path) -> list[dict]:
        """The objects the overlay renders to (`kubectl kustomize`, no cluster needed)."""
        result = self._run("kustomize", ["kustomize", str(overlay)], capture=True)
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    def apply(self, overlay: Path) -> None:
        self._run("apply", apply_args(overlay, self.context))

    def crds(self) -> set[str]:
        """The names of the CustomResourceDefinitions the cluster has."""
        result = self._run("get crd", [*self._ctx(), "get", "crd", "-o", "name"], capture=True)
        return {line.rpartition("/")[2] for line in result.stdout.split() if line}

    def delete(self, overlay: Path) -> None:
        self._run("delete", [*self._ctx(), "delete", "--ignore-not-found", "--wait=false",
                             "-k", str(overlay)])  # fmt: skip


def apply_args(overlay: Path | str, context: str | None = None) -> list[str]:
    """The arguments of the server-side apply of an overlay (also printed for manual steps)."""
    ctx = [f"--context={context}"] if context else []
    return [*ctx, "apply", "--server-side", "--field-manager=iconctl", "-k", str(overlay)]
