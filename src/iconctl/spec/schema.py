"""The spec's JSON Schema, for editors and other tools."""

from __future__ import annotations

from typing import Any

from iconctl.spec.model import Spec

SCHEMA_ID = "https://iconctl.dev/schema/spec-v1.json"


def json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
