"""Tasks and training: which models learned their task (the runs table every verdict reads),
each task's chance level and threshold, and every seed's training curve."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls()
