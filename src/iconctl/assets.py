"""Where the shipped files live: terraform/, packer/, ansible/, compose/, kubernetes/,
monitoring/ and the rest of the repository's top-level asset folders.

One root for all of them, found in this order: ICONCTL_ASSETS (tests, forks), the wheel's
iconctl/_data, then the source checkout the package runs from. Everything that reads a shipped
file asks ``asset_dir`` for its folder, so every reader sees the same tree.
"""

from __future__ import annotations

import os
from pathlib import Path

from iconctl.errors import InputError

_PACKAGE = Path(__file__).resolve().parent


def assets_root() -> Path:
    override = os.environ.get("ICONCTL_ASSETS")
    if override:
        root = Path(override).expanduser().resolve()
        if not (root / "terraform").is_dir():
            raise InputError(f"ICONCTL_ASSETS={override}: no terraform/ directory there")
        return root
    for candidate in (_PACKAGE / "_data", _PACKAGE.parent.parent):
        if (candidate / "terraform" / "stacks").is_dir():
            return candidate
    raise InputError(
        "cannot find iconctl's terraform/, packer/ and ansible/ directories; "
        "set ICONCTL_ASSETS to a checkout of the iconctl repository"
    )


def asset_dir(*parts: str) -> Path:
    """A shipped folder below the assets root (``asset_dir("kubernetes", "base")``)."""
    root = assets_root()
    folder = root.joinpath(*parts)
    if not folder.is_dir():
        raise InputError(f"{root}: no {'/'.join(parts)}/ directory in iconctl's assets")
    return folder
