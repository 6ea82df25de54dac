"""Event-locked gate dynamics (claim C2): does a gate move at the events its role names?

Event-triggered average: a gate's activation averaged over units, at the steps where an event
occurs versus every other step, and aligned on the event over a window of steps around it.
The predictions (`architectures.ROLE_GATES`): LSTM, the forget gate drops at resets, the input
gate rises at stores, the output gate rises at queries; GRU (z near 1 keeps the state), the
update gate drops at resets and at stores, where the state must be overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.settings import from_section, setting


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Event-locked gate dynamics (claim C2; gateroles.analyses.event_locking)."""

    eta_window: int = setting(
        5, "Steps before and after an event in event-triggered averages.", minimum=0,
        maximum=50)
    unit_alpha: float = setting(
        0.025, "One-sided level at which a single unit's event response (t-test over "
        "sequences) counts as significant, for the share of units moving in the predicted "
        "direction.", exclusiveMinimum=0, maximum=0.5)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["event_locking"])
