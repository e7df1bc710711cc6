"""iconctl: deploy and operate public ICON JSON-RPC endpoints from one YAML spec."""

from iconctl.errors import (
    CheckFailed,
    ExitCode,
    IconctlError,
    InputError,
    IntegrityError,
    SpecError,
    ToolFailed,
    ToolNotFound,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "CheckFailed",
    "ExitCode",
    "IconctlError",
    "InputError",
    "IntegrityError",
    "SpecError",
    "ToolFailed",
    "ToolNotFound",
    "UsageError",
    "__version__",
]
