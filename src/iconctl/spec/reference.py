"""docs/spec.md, generated from the models so the reference cannot drift from the code.

Run `python -m iconctl.spec.reference > docs/spec.md` (or `make docs`); a test fails when the
committed file differs from what this prints.
"""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from iconctl.spec.model import Spec

INTRO = """\
# Spec reference (iconctl.yaml)

Generated from the models in `src/iconctl/spec/model.py` by `make docs`; do not edit by hand.
`iconctl validate` checks a spec against these rules, `iconctl schema` prints them as JSON
Schema for editors, and `iconctl init` writes a commented starter.

Rules that apply everywhere:

- Unknown keys are errors, with a "did you mean" hint when a known key is close.
- Secret fields take references, never values: `env:NAME` (an environment variable of the
  process that runs iconctl), `ssm:/path/name` (AWS SSM Parameter Store) or
  `gcp-sm:projects/P/secrets/S` (GCP Secret Manager). A literal value is an error, and no
  rendered file or log ever contains a secret's value.
- Errors are printed one per line as `FILE:LINE: dotted.path: message`; exit code 3.
- Files over 1 MiB, anything but a regular file (a FIFO, a device), YAML that expands past
  20,000 nodes through aliases, nesting deeper than 32 levels and duplicate keys are refused
  before validation (see [cli.md](cli.md)).

## Editor support

Save the schema next to the spec and point the YAML language server at it with a modeline as
the first line of the spec (VS Code's YAML extension, Neovim's yamlls and others read it):

```sh
iconctl schema > iconctl.schema.json
```

```yaml
# yaml-language-server: $schema=./iconctl.schema.json
```
"""


def markdown() -> str:
    sections: list[str] = [INTRO]
    for path, model in _models(Spec, ""):
        sections.append(_section(path, model))
    return "\n".join(sections)


def _models(model: type[BaseModel], path: str) -> list[tuple[str, type[BaseModel]]]:
    found = [(path, model)]
    for name, field in model.model_fields.items():
        inner = _model_in(field.annotation)
        if inner is not None:
            child = f"{path}.{name}" if path else name
            if _is_sequence(field.annotation):
                child += "[]"
            found += _models(inner, child)
    return found


def _section(path: str, model: type[BaseModel]) -> str:
    heading = f"## `{path}`" if path else "## Top level"
    doc = (model.__doc__ or "").strip()
    rows = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        rows.append(
            f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
            f"{(field.description or '').replace('|', '/')} |"
        )
    return f"{heading}\n\n{doc}\n\n" + "\n".join(rows) + "\n"


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "see below" if isinstance(field.default_factory(), BaseModel) else "`[]`"
    if field.default is PydanticUndefined:
        return "required"
    return f"`{json.dumps(field.default)}`"


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not Ellipsis]
    if origin is None and isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "mapping"
        return {"str": "string", "int": "integer", "bool": "boolean"}.get(
            annotation.__name__, annotation.__name__
        )
    if str(origin).endswith("Literal"):
        return " / ".join(f"`{a}`" for a in args)
    if origin in (tuple, list):
        return f"list of {_type_name(args[0])}"
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return _type_name(rest[0]) + " or null"
    if args:  # Annotated[...]
        return _type_name(args[0])
    return str(annotation)


def _is_sequence(annotation: Any) -> bool:
    if get_origin(annotation) in (tuple, list):
        return True
    return any(_is_sequence(a) for a in get_args(annotation))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


if __name__ == "__main__":
    print(markdown(), end="")
