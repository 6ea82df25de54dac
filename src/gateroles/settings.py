"""Each setting described once: in the typed `Settings` of the code that reads it.

A field declared with `setting(default, description, **allowed)` is a key of a config section:
its type is the field's annotation, and its default, allowed values (JSON-schema keywords:
`minimum`, `maximum`, `enum`, `items`, ...) and description are the arguments. The config
schema's section is made from these declarations when the schema is loaded (`section_schema`,
called by `gateroles.config.load_schema`), so the parse-time check, the typed settings and the
report, which renders the typed settings, cannot disagree. The section's description is the
class docstring. A field declared without `setting` is derived (another section's setting, a
per-cell flag) and filled in by the class's `from_config`.
"""

from __future__ import annotations

import typing
from dataclasses import field, fields, is_dataclass
from types import NoneType, UnionType

JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", NoneType: "null"}


def setting(default, description: str, **allowed):
    """A config key: its default, its description and the JSON-schema keywords that say which
    values are allowed (its type comes from the field's annotation)."""
    return field(default=default, metadata={"setting": {"description": description, **allowed}})


def declared(cls) -> list:
    """The fields of `cls` that are config keys (declared with `setting`)."""
    return [f for f in fields(cls) if "setting" in f.metadata]


def section_schema(cls) -> dict:
    """The JSON schema of the config section that `cls` reads: an object with one property per
    declared setting, each with its default, unknown keys rejected."""
    doc = cls.__dict__.get("__doc__") or ""
    if not doc or doc.startswith(f"{cls.__name__}("):  # dataclass's generated docstring
        raise TypeError(f"{cls.__module__}.{cls.__qualname__} needs a docstring: it is the "
                        "description of its config section")
    hints = typing.get_type_hints(cls)
    return {"description": " ".join(doc.split()), "type": "object",
            "additionalProperties": False, "default": {},
            "properties": {f.name: _property(f, hints[f.name]) for f in declared(cls)}}


def _property(f, annotation) -> dict:
    meta = dict(f.metadata["setting"])
    description = " ".join(meta.pop("description").split())
    if is_dataclass(annotation):  # a nested section
        return {**section_schema(annotation), "description": description}
    return {"description": description, **_json_type(annotation), **meta,
            "default": _plain(f.default)}


def _json_type(annotation) -> dict:
    """`int` -> {"type": "integer"}; `tuple[int, ...]` -> an array of integers; `int | None`
    -> {"type": ["integer", "null"]}."""
    if typing.get_origin(annotation) is tuple:
        return {"type": "array", "items": _json_type(typing.get_args(annotation)[0])}
    if isinstance(annotation, UnionType):
        return {"type": [JSON_TYPES[a] for a in typing.get_args(annotation)]}
    return {"type": JSON_TYPES[annotation]}


def _plain(value):
    """A default as the config holds it (a tuple as a list)."""
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def from_section(cls, section: dict, **derived):
    """`cls` from its validated config section (lists become tuples, nested sections their
    settings) and the derived fields given."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in declared(cls):
        value, kind = section[f.name], hints[f.name]
        if is_dataclass(kind):
            value = from_section(kind, value)
        elif typing.get_origin(kind) is tuple:
            value = tuple(value)
        values[f.name] = value
    return cls(**values, **derived)

