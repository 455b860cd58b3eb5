"""Pydantic validation errors → checker findings with a code, a plain message and a position.

Pydantic's error locations mix keys of the document with labels of union members (the tags
of conditions, `each`/`condition` for `due`, `float`/`int` for numbers).  `resolve` walks the
model's types beside the location to tell them apart, which yields the path in the document
(for the line and column) and the model that owns the key (for "allowed keys are …").
Branch failures of one union are merged into one finding.  Pure.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag
from pydantic_core import ErrorDetails

from interlock.agreement.findings import Sink
from interlock.agreement.model import CONDITION_KEYS, Agreement
from interlock.agreement.yamlsource import Path

CONDITION_MODELS = frozenset(
    {"Opened", "Verified", "Delivered", "StageComplete", "Breached", "At", "After", "AllOf", "AnyOf"}
)
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "timedelta_type": "a duration such as 72h",
}


@dataclass(frozen=True)
class Located:
    """A pydantic error placed in the document: its data `path` and the model owning the key."""

    error: ErrorDetails
    path: Path
    owner: type[BaseModel] | None
    via_union: bool


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _tag(tp: Any) -> str | None:
    if get_origin(tp) is Annotated:
        for meta in get_args(tp)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
    return None


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _pick(members: list[Any], label: str) -> Any:
    """The member of an untagged union that pydantic's `label` names (`float`, `dict[…]`, …)."""
    for member in members:
        origin = get_origin(_strip(member))
        if label.startswith("dict") and origin is dict:
            return member
        if label.startswith("list") and origin is list:
            return member
    plain = [m for m in members if get_origin(_strip(m)) not in (dict, list)]
    for member in plain:
        if getattr(_strip(member), "__name__", None) == label:
            return member
    return plain[0] if plain else None


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a mapping of `model` may hold, as written in the file (aliases)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def resolve(loc: Iterable[int | str]) -> tuple[Path, type[BaseModel] | None, bool]:
    """Pydantic `loc` → (document path, model owning the last key, passed an untagged union)."""
    tp: Any = Agreement
    path: list[str | int] = []
    owner: type[BaseModel] | None = None
    via_union = False
    for elem in loc:
        tp = _strip(tp)
        while _is_union(tp):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) != 1:
                break
            tp = _strip(members[0])
        if _is_union(tp):
            members = [m for m in get_args(tp) if m is not type(None)]
            tags = {_tag(m): m for m in members if _tag(m)}
            if tags:
                tp = tags.get(str(elem))
            else:
                via_union = True
                tp = _pick(members, str(elem))
            continue
        path.append(elem)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            tp = _field(tp, str(elem))
        elif get_origin(tp) is list:
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            tp = None
    return tuple(path), owner, via_union


def _at(data: Any, path: Path) -> Any:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _mixed_condition(loc: Located, sink: Sink) -> bool:
    """Whether the error is one of several condition forms written in one mapping."""
    if loc.owner is None or loc.owner.__name__ not in CONDITION_MODELS:
        return False
    mapping = _at(sink.data, loc.path[:-1])
    return isinstance(mapping, dict) and sum(k in mapping for k in CONDITION_KEYS) > 1


def _where(path: Path) -> str:
    """A short name for `path` inside its stage or obligation: `due.plus`, `verify.by[1]`."""
    rest = list(path)
    if rest[:1] == ["stages"] and len(rest) >= 2:
        rest = rest[2:]
        if rest[:1] == ["obligations"] and len(rest) >= 2:
            rest = rest[2:]
    text = ""
    for step in rest:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "this entry"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_type_error(kind: str) -> bool:
    return kind in _EXPECTED or kind.endswith(("_type", "_parsing"))


def report_validation(errors: list[ErrorDetails], sink: Sink) -> None:
    """Turn pydantic's errors into findings on `sink`, one per place and problem."""
    located = [Located(e, *resolve(e["loc"])) for e in errors]
    deeper = {loc.path[:n] for loc in located for n in range(len(loc.path))}
    seen: set[Path] = set()
    for loc in located:
        kind = loc.error["type"]
        if kind == "extra_forbidden" and _mixed_condition(loc, sink):
            if loc.path[:-1] not in seen:
                seen.add(loc.path[:-1])
                forms = [k for k in _at(sink.data, loc.path[:-1]) if k in CONDITION_KEYS]
                message = (
                    f"a condition has exactly one form, but this one has {', '.join(forms)}; "
                    "combine conditions with {all: [...]} or {any: [...]}"
                )
                sink.error("bad-condition", message, loc.path[:-1])
            continue
        if _is_type_error(kind) and loc.via_union:
            if loc.path in deeper:  # another branch of the union got further: report that one
                continue
            if loc.path in seen:
                continue
            seen.add(loc.path)
            expected = sorted(
                {_EXPECTED.get(o.error["type"], "another type") for o in located if o.path == loc.path}
            )
            expected = ["a number" if "a whole number" in expected else e for e in expected]
            names = " or ".join(dict.fromkeys(expected))
            message = f"`{_where(loc.path)}` should be {names}, not {_show(loc.error['input'])}"
            sink.error("wrong-type", message, loc.path)
            continue
        _report_one(loc, sink)


def _report_one(loc: Located, sink: Sink) -> None:
    error, path = loc.error, loc.path
    kind, value, where = error["type"], error.get("input"), _where(path)
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        owner = loc.owner
        allowed = ", ".join(allowed_keys(owner)) if owner is not None else "none"
        sink.error("unknown-key", f"unknown key `{key}`; allowed keys here: {allowed}", path)
    elif kind == "missing":
        key = str(path[-1]) if path else "?"
        parent = path[:-1]
        ident = sink.id_at(parent)
        if len(parent) in (2, 4) and parent[0] == "stages" and ident:
            place = f"{'stage' if len(parent) == 2 else 'obligation'} `{ident}`"
        else:
            place = f"`{_where(parent)}`" if parent else "the document"
        sink.error("missing-key", f"`{key}` is required in {place}", parent)
    elif kind in ("bad-duration", "bad-timestamp", "bad-condition"):
        sink.error(kind, f"`{where}`: {error['msg']}", path)
    elif kind == "literal_error":
        _literal(path, value, str(ctx.get("expected", "")), loc, sink)
    elif _is_type_error(kind):
        if path == ():
            message = "the document should be a mapping that starts with `interlock: 1`, "
            sink.error("wrong-type", message + f"not {_show(value)}", path)
            return
        expected = _EXPECTED.get(kind, "another type")
        sink.error("wrong-type", f"`{where}` should be {expected}, not {_show(value)}", path)
    elif kind == "string_pattern_mismatch" and path and path[-1] == "ed25519":
        message = "`ed25519` must be the base64 of a 32-byte Ed25519 public key (44 characters)"
        sink.error("bad-public-key", message, path)
    elif kind == "string_pattern_mismatch":
        message = (
            f"`{where}` must start with a letter or digit and hold only letters, digits, "
            f"'.', '_' and '-', not {_show(value)}"
        )
        sink.error("bad-value", message, path)
    else:
        sink.error("bad-value", f"`{where}`: {error['msg']} (got {_show(value)})", path)


def _literal(path: Path, value: Any, expected: str, loc: Located, sink: Sink) -> None:
    if path == ("interlock",):
        message = f"this file is `interlock: {_show(value)}`; this program reads `interlock: 1`"
        sink.error("unsupported-version", message, path)
    elif expected == "'adopted'":
        message = (
            f"`{_where(path)}`: {_show(value)} is not a condition; write `adopted` or a mapping "
            f"with one of: {', '.join(CONDITION_KEYS)}"
        )
        sink.error("bad-condition", message, path)
    else:
        sink.error("bad-value", f"`{_where(path)}` must be {expected}, not {_show(value)}", path)

