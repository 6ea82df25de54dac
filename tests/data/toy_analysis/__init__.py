"""A toy analysis (CONTRIBUTING.md, "How to add an analysis"): each sigmoid gate's mean
activation over the extracted sequences, at step 0 and trained. tests/test_extending.py copies
this folder into a project as `src/gateroles/analyses/gate_means/`, adds one line to
`gateroles/analyses/registry.py`, and runs it on a finished study."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls()
