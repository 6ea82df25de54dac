"""A toy analysis (CONTRIBUTING.md, "How to add an analysis"): each sigmoid gate's mean
activation over the first sequences of the gate file, at every checkpoint. tests/test_extending.py
copies this folder into a project as `src/gateroles/analyses/gate_means/`, adds one line to
`gateroles/analyses/registry.py`, and runs it on a finished study."""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.settings import from_section, setting


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Each gate's mean activation (the toy analysis of tests/data/toy_analysis)."""

    n_sequences: int = setting(8, "Sequences of the gate file averaged over.", minimum=1)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["gate_means"])
