"""Reading a spec file: bounded, safe YAML parsing, and errors located by file, line and field.

The YAML is composed into nodes first (no objects are built), so oversized documents, alias
bombs, deep nesting and duplicate keys are refused before any work proportional to their
expanded size happens; the node tree also gives the line of every field for error messages.
"""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from iconctl.errors import SpecError, SpecProblem
from iconctl.spec.model import FieldError, Spec

MAX_BYTES = 1024 * 1024
MAX_NODES = 20_000  # after alias expansion; a large real spec has a few hundred
MAX_DEPTH = 32

Loc = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (the wheels are); same nodes, marks and errors
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_spec(path: Path | str) -> Spec:
    """Parse and validate the spec at ``path``; raise SpecError listing every problem found."""
    path = Path(path)
    text = _read_bounded(path)
    return parse_spec(text, filename=str(path))


def parse_spec(text: str, *, filename: str = "<spec>") -> Spec:
    data, lines = _parse_yaml(text, filename)
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(filename, lines, error) for error in exc.errors()]
        raise SpecError(problems=_unique(problems)) from None


def _read_bounded(path: Path) -> str:
    def fail(message: str) -> SpecError:
        return SpecError(problems=[SpecProblem(str(path), None, "", message)])

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise fail("not a regular file (a FIFO, device or socket is never read)")
            if info.st_size > MAX_BYTES:
                raise fail(f"file is {info.st_size} bytes; a spec may be at most {MAX_BYTES} bytes")
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file (create one with `iconctl init`)") from None
    except IsADirectoryError:
        raise fail("is a directory, not a spec file") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:  # grew while we looked, or not a regular file
        raise fail(f"a spec may be at most {MAX_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})") from None


def _parse_yaml(text: str, filename: str) -> tuple[Any, dict[Loc, int]]:
    def fail(line: int | None, message: str, loc: Loc = ()) -> SpecError:
        return SpecError(problems=[SpecProblem(filename, line, _dotted(loc), message)])

    _check_depth(text, fail)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError:
        loader.dispose()
        raise _syntax_error(text, fail) from None
    if root is None:
        raise fail(1, "the file is empty; start from `iconctl init`")
    if not isinstance(root, yaml.MappingNode):
        raise fail(root.start_mark.line + 1, "the top level must be a mapping of fields")

    sizes: dict[int, int] = {}

    def expanded_size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise fail(node.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # guards against recursive aliases
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += expanded_size(key, depth + 1) + expanded_size(value, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += expanded_size(item, depth + 1)
        sizes[id(node)] = total
        return total

    if expanded_size(root, 0) > MAX_NODES:
        raise fail(None, f"the document expands to more than {MAX_NODES} nodes (alias bomb?)")

    lines: dict[Loc, int] = {}
    for loc, line in _walk(root, (), fail):
        lines.setdefault(loc, line)
    try:
        return loader.construct_document(root), lines
    except yaml.MarkedYAMLError as exc:  # an unknown !tag, a bad !!timestamp
        at = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise fail(at, f"YAML error: {exc.problem}") from None
    finally:
        loader.dispose()


def _check_depth(text: str, fail) -> None:  # noqa: ANN001
    """Refuse nesting deeper than MAX_DEPTH from the flat event stream, before anything that
    recurses (composing nodes, building objects) sees the document."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise fail(event.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml's own limit (far above ours)
            mark = exc.context_mark or exc.problem_mark
            line = mark.line + 1 if mark else None
            raise fail(line, f"nested deeper than {MAX_DEPTH} levels") from None
        raise _syntax_error(text, fail) from None
    except yaml.YAMLError:
        raise _syntax_error(text, fail) from None


def _syntax_error(text: str, fail) -> SpecError:  # noqa: ANN001
    """The error of the pure-Python parser, whose messages name more (the alias, the character)."""
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # a syntax error deep in the document: the short message will do
        return fail(None, "YAML syntax error")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = " ".join(filter(None, [exc.context, exc.problem]))
        return fail(line, f"YAML syntax error: {reason}")
    except yaml.YAMLError as exc:
        return fail(None, f"YAML error: {exc}")
    return fail(None, "YAML syntax error")


def _walk(node: yaml.Node, loc: Loc, fail) -> Iterator[tuple[Loc, int]]:  # noqa: ANN001
    yield loc, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise fail(key.start_mark.line + 1, "mapping keys must be plain names", loc)
            if key.value in seen:
                raise fail(key.start_mark.line + 1, "duplicate key", (*loc, key.value))
            seen.add(key.value)
            yield (*loc, key.value), key.start_mark.line + 1
            yield from _walk(value, (*loc, key.value), fail)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*loc, index), fail)


def _problem(filename: str, lines: dict[Loc, int], error: ErrorDetails) -> SpecProblem:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        loc = loc + cause.field
        message = str(cause)
    elif kind == "extra_forbidden":
        message = "unknown field" + _did_you_mean(loc)
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "value_error":
        message = str(cause) if cause else error["msg"].removeprefix("Value error, ")
    else:
        message = error["msg"]
        value = error.get("input")
        if kind.startswith(("literal", "int", "string", "bool", "greater", "less", "too_")) and (
            isinstance(value, (int, float, str, bool)) and not isinstance(value, dict)
        ):
            message += f" (got {value!r})"
    return SpecProblem(filename, _line_of(lines, loc), _dotted(loc), message)


def _line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of ``loc``, or of its nearest ancestor present in the file."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _did_you_mean(loc: Loc) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return (
        f" (did you mean {close[0]!r}?)"
        if close
        else f" (allowed: {', '.join(model.model_fields)})"
    )


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that describes the mapping at ``loc``, following field annotations."""
    current: Any = Spec
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = [a for a in get_args(current) if a is not Ellipsis]
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] down to the one non-None type."""
    if get_origin(annotation) in (tuple, list):
        return annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if args and get_origin(annotation) is not None and len(args) == 1:
        return args[0]
    return annotation


def _unique(problems: list[SpecProblem]) -> list[SpecProblem]:
    return list(dict.fromkeys(problems))
