"""The deployment spec: its models, and loading a file into them with located errors."""

from iconctl.spec.loader import load_spec, parse_spec
from iconctl.spec.model import DEFAULT_REFERENCES, SERVICE_NAMES, Region, Spec

__all__ = ["DEFAULT_REFERENCES", "SERVICE_NAMES", "Region", "Spec", "load_spec", "parse_spec"]
