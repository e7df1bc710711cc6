"""helm for k8s regions: install or upgrade a pinned chart release with rendered values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from iconctl.runners.tool import ToolRunner

# How long `helm upgrade --install --wait` waits for the release's workloads to be ready.
WAIT_TIMEOUT = "10m"


@dataclass(kw_only=True)
class Helm(ToolRunner):
    tool = "helm"

    context: str | None  # the kubeconfig context; None: the current one

    def upgrade_install(
        self, release: str, chart: str, *, repo: str, version: str, namespace: str, values: Path
    ) -> None:
        """Install ``chart`` at ``version`` as ``release`` or upgrade it in place."""
        self._run("upgrade", upgrade_install_args(release, chart, repo=repo, version=version,
                                                  namespace=namespace, values=values,
                                                  context=self.context))  # fmt: skip

    def uninstall(self, release: str, *, namespace: str) -> None:
        self._run("uninstall", uninstall_args(release, namespace=namespace, context=self.context))


def upgrade_install_args(
    release: str,
    chart: str,
    *,
    repo: str,
    version: str,
    namespace: str,
    values: Path | str,
    context: str | None = None,
) -> list[str]:
    """The arguments of ``helm upgrade --install``: the runner runs them, and the manual step an
    operator without helm on iconctl's machine runs is printed from them, so the two agree."""
    return [
        *_context(context),
        "upgrade", "--install", release, chart,
        "--repo", repo, "--version", version,
        "--namespace", namespace, "--create-namespace",
        "--values", str(values),
        "--wait", "--timeout", WAIT_TIMEOUT,
    ]  # fmt: skip


def uninstall_args(release: str, *, namespace: str, context: str | None = None) -> list[str]:
    """The arguments of ``helm uninstall`` (helm >= 3.14 for ``--ignore-not-found``)."""
    return [*_context(context), "uninstall", release, "--namespace", namespace,
            "--ignore-not-found", "--wait"]  # fmt: skip


def _context(context: str | None) -> Sequence[str]:
    return [f"--kube-context={context}"] if context else []
