"""Each setting described once: the typed settings declare their config sections' schema."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from gateroles import own_model, stats, training
from gateroles.config import load_schema, settings_sections, validate
from gateroles.settings import declared, from_section, section_schema, setting

SCHEMA = Path(__file__).resolve().parents[1] / "config" / "schema.yaml"


@dataclass(frozen=True, kw_only=True)
class Inner:
    """A nested part."""

    on: bool = setting(True, "Switch.")


@dataclass(frozen=True, kw_only=True)
class Toy:
    """A toy   section,
    over two lines."""

    k: int = setting(4, "Units.", minimum=1)
    ks: tuple[int, ...] = setting((1, 2), "Sizes.", minItems=1)
    names: tuple[str, ...] = setting((), "Tasks.", items={"$ref": "#/definitions/task"})
    rate: float = setting(0.5, "A rate.", exclusiveMaximum=1)
    seeds: int | None = setting(None, "Seeds.")
    inner: Inner = setting(Inner(), "The   nested part.")
    derived: float = 0.0  # not a config key


def test_a_section_schema_from_its_declarations():
    assert section_schema(Toy) == {
        "description": "A toy section, over two lines.", "type": "object",
        "additionalProperties": False, "default": {},
        "properties": {
            "k": {"description": "Units.", "type": "integer", "minimum": 1, "default": 4},
            "ks": {"description": "Sizes.", "type": "array", "items": {"type": "integer"},
                   "minItems": 1, "default": [1, 2]},
            "names": {"description": "Tasks.", "type": "array",
                      "items": {"$ref": "#/definitions/task"}, "default": []},
            "rate": {"description": "A rate.", "type": "number", "exclusiveMaximum": 1,
                     "default": 0.5},
            "seeds": {"description": "Seeds.", "type": ["integer", "null"], "default": None},
            "inner": {"description": "The nested part.", "type": "object",
                      "additionalProperties": False, "default": {},
                      "properties": {"on": {"description": "Switch.", "type": "boolean",
                                            "default": True}}}}}


def test_settings_from_their_section():
    section = {"k": 3, "ks": [5, 6], "names": ["a"], "rate": 0.1, "seeds": 2,
               "inner": {"on": False}}
    assert from_section(Toy, section, derived=1.5) == Toy(
        k=3, ks=(5, 6), names=("a",), rate=0.1, seeds=2, inner=Inner(on=False), derived=1.5)


def test_a_section_needs_its_description():
    @dataclass(frozen=True)
    class Bare:
        n: int = setting(1, "N.")

    with pytest.raises(TypeError, match="docstring"):
        section_schema(Bare)


def test_each_analysis_with_settings_has_a_section_of_its_name():
    sections = settings_sections()
    assert {"causal", "decodability", "dependence", "emergence", "event_locking",
            "gradient_flow", "holds", "learnability", "roles", "saturation", "wiring",
            "viewer"} == set(sections)
    assert "training" not in sections  # the analysis has no settings; `training` is the study's


@pytest.mark.parametrize("name", sorted(settings_sections()))
def test_defaults_are_allowed_values_and_each_section_reads_its_own(name):
    """Every declared default passes its own schema, and the settings read from a config of
    defaults under the section's name are those defaults."""
    cls = settings_sections()[name]
    for key, prop in load_schema(SCHEMA)["properties"][name]["properties"].items():
        assert not list(Draft7Validator(prop).iter_errors(prop["default"])), (name, key)
    read = cls.from_config(validate({}, SCHEMA))
    for f in declared(cls):
        assert getattr(read, f.name) == f.default, (name, f.name)


@pytest.mark.parametrize("cls,section,extra", [(stats.Settings, "analysis", set()),
                                               (own_model.Settings, "user_model", set()),
                                               (training.DataSettings, "data", {"task_params"})])
def test_settings_of_sections_the_schema_file_describes_hold_its_keys(cls, section, extra):
    """Sections read by code that must not load at parse time (scipy, torch) stay in
    config/schema.yaml; their typed settings have exactly its keys and its defaults."""
    schema = load_schema(SCHEMA)["properties"][section]
    props = schema["properties"]
    assert {f.name for f in fields(cls)} - extra == set(props)
    for f in fields(cls):
        if f.default is not MISSING:
            assert f.default == props[f.name]["default"], (section, f.name)
