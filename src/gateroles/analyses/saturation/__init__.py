"""Gate saturation (Karpathy et al. 2015): per unit, the fraction of steps a sigmoid gate spends
below `low` (left-saturated) and above `high` (right-saturated), at every checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.settings import from_section, setting


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Gate saturation per unit (gateroles.analyses.saturation)."""

    low: float = setting(0.1, "A gate is left-saturated below this value.",
                         exclusiveMinimum=0, exclusiveMaximum=0.5)
    high: float = setting(0.9, "A gate is right-saturated above this value.",
                          exclusiveMinimum=0.5, exclusiveMaximum=1)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["saturation"])
