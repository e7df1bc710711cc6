"""Where the infrastructure code lives: terraform/, packer/, ansible/ and compose/.

In a source checkout they are the repository's own directories; in an installed wheel they
are packaged under iconctl/_data; ICONCTL_ASSETS points elsewhere (tests, forks).
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
