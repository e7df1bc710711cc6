"""Cloud region and machine-type names: what each cloud's names look like, and where they are.

Names are checked by shape rather than against a closed list, so a region a cloud opens
tomorrow still validates; the known lists only feed "did you mean" hints and the continent
used for geo steering.
"""

from __future__ import annotations

import difflib
import re

_AWS_REGION = re.compile(
    r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|"
    r"northeast|southeast|northwest|southwest)-\d{1,2}$"
)
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d{1,2}$")
_AWS_INSTANCE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_GCP_MACHINE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")

AWS_REGIONS = (
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
    "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
)  # fmt: skip
GCP_REGIONS = (
    "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2",
    "asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
    "australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1",
    "europe-southwest1", "europe-west1", "europe-west2", "europe-west3", "europe-west4",
    "europe-west6", "europe-west8", "europe-west9", "europe-west10", "europe-west12",
    "me-central1", "me-central2", "me-west1", "northamerica-northeast1",
    "northamerica-northeast2", "southamerica-east1", "southamerica-west1", "us-central1",
    "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3",
    "us-west4",
)  # fmt: skip

_PATTERNS = {"aws": _AWS_REGION, "gcp": _GCP_REGION}
_KNOWN = {"aws": AWS_REGIONS, "gcp": GCP_REGIONS}
_EXAMPLES = {"aws": "us-east-1", "gcp": "asia-northeast1"}

# Cloudflare's region codes for geo steering, by the region name's first word.
_CONTINENTS = {
    "us": "NA", "ca": "NA", "mx": "NA", "northamerica": "NA", "sa": "SA", "southamerica": "SA",
    "eu": "EU", "europe": "EU", "il": "ME", "me": "ME", "af": "AF", "africa": "AF",
    "ap": "AS", "asia": "AS", "australia": "OC",
}  # fmt: skip


def check_region(cloud: str, name: str) -> None:
    """Raise ValueError unless ``name`` has the shape of a ``cloud`` region name."""
    if _PATTERNS[cloud].match(name):
        return
    other = "gcp" if cloud == "aws" else "aws"
    if _PATTERNS[other].match(name):
        raise ValueError(
            f"{name!r} is {'an AWS' if other == 'aws' else 'a GCP'} region name, "
            f"but the region's cloud is {cloud} "
            f"({cloud} names look like {_EXAMPLES[cloud]})"
        )
    close = difflib.get_close_matches(name, _KNOWN[cloud], n=1, cutoff=0.6)
    hint = (
        f" (did you mean {close[0]!r}?)"
        if close
        else f" ({cloud} names look like {_EXAMPLES[cloud]})"
    )
    raise ValueError(f"{name!r} is not a {cloud} region name{hint}")


def check_instance_type(cloud: str, name: str) -> None:
    """Raise ValueError unless ``name`` has the shape of a ``cloud`` machine type."""
    pattern, example = (
        (_AWS_INSTANCE, "i4i.xlarge") if cloud == "aws" else (_GCP_MACHINE, "n2-standard-8")
    )
    if not pattern.match(name):
        raise ValueError(f"{name!r} is not a {cloud} machine type (e.g. {example})")


def continent(region: str) -> str:
    """Cloudflare's continent code for a region name (NA, SA, EU, ME, AF, AS, OC)."""
    return _CONTINENTS.get(region.split("-", 1)[0], "NA")
