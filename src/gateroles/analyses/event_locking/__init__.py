"""Event-locked gate dynamics (claim C2): does a gate move at the events its role names?

Event-triggered average: a gate's activation averaged over units, at the steps where an event
occurs versus every other step, and aligned on the event over a window of steps around it.
The predictions (`architectures.ROLE_GATES`): LSTM, the forget gate drops at resets, the input
gate rises at stores, the output gate rises at queries; GRU (z near 1 keeps the state), the
update gate drops at resets and at stores, where the state must be overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    eta_window: int  # steps before and after an event in the aligned averages
    unit_alpha: float  # one-sided level at which a unit's event response counts as significant

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(**config["events"])
