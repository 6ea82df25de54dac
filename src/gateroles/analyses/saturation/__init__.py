"""Gate saturation (Karpathy et al. 2015): per unit, the fraction of steps a sigmoid gate spends
below `low` (left-saturated) and above `high` (right-saturated), at every checkpoint."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    low: float  # a gate is left-saturated below this value
    high: float  # and right-saturated above this one

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(**config["saturation"])
