"""Where the memory lives and how strong the roles are, by hold length (claim C8).

On short holds with frequent events small trained nets can keep their memory in the
hidden-state loop, and the forget gate's role is then barely exercised. This analysis measures,
per model and per hold length (tasks `name@H`), where the memory lives, and asks whether the
roles sharpen as the hold grows.

**Where the memory lives** (`measure`, per model at step 0 and at its last checkpoint), on the
store-to-query intervals of the gate file's sequences (`tasks.hold_intervals`): those that
cross no erasing event (`keep`: the memory must be held) and those that cross one (`erase`),
with at least one step between store and query, on the odd-numbered sequences; in the
memory-carrying units (the share `roles.memory_units` of units whose state, the LSTM family's
cell or the GRU's hidden state, carries the task's memory variable best, chosen on the
even-numbered sequences: `roles.measure.memory_units`) and, beside them, in all units:

* the keep gate's *saturation* during holds: the share of (hold step, unit) where the keep
  gate (LSTM forget f, GRU update z in PyTorch's convention, z near 1 keeps the state) is above
  `saturation`, and its mean;
* the *product of keep gates across each interval's hold* (the steps strictly between store
  and query), in log10: the mean over intervals and units, the best unit's (the largest mean
  over intervals), and beside it H log10 0.5, a constant gate of 0.5 over the same steps. A
  keep gate that holds memory keeps the product near 1 (0) on `keep` intervals and cuts it on
  `erase` intervals.

A removed forget gate (`lstm_nfg`) is measured as the constant 1 it is; the tanh RNN has no
keep gate. The share of the query's gradient along the direct path, by lag, on the same
intervals is measured by `gradient_flow` (its `interval_store` and `interval_lag` tables, in
the same memory-carrying units) and summarised here by hold length.

**Role strength against hold length** (`aggregate`): the primary C1 and C3 measures of the
keep gate's role at resets, per model, read from their analyses' per-model tables: the
forget term's share of the extra erasure at resets (`roles`, LSTM family), the role gate's
armed-vs-unarmed RESET contrast on the memory units (`roles`, tasks with that context), and its
matched interchange at resets against the largest other gate's (`causal`). Per seed, the trend
is the least-squares slope of the measure against log2 H over the hold lengths that seed
solved (at least two): the change per doubling of the hold. The prediction "the role at resets
grows with hold length" is decided on the per-seed slope's change from step 0 (the interchange,
whose step-0 model is at chance, on the trained slope against 0), beside its negative control,
the same trend on the architecture that holds the gate constant in training
(`architectures.control_of`: `lstm_nfg`, `gru_fug`), where it must not come out supported.
"""

from __future__ import annotations

from dataclasses import dataclass

# Interval kinds (`tasks.hold_intervals`' crosses_erase 0 / 1) and the units a measure is over:
# the same names as `gradient_flow`'s.
from gateroles.analyses.gradient_flow import ALL_UNITS, ERASE, KEEP, MEMORY_UNITS, keep_gate
from gateroles.settings import from_section, setting

__all__ = ["ALL_UNITS", "ERASE", "KEEP", "MEMORY_UNITS", "KEEP_FLOOR", "Settings", "keep_gate"]

# A keep gate below this counts as this in the log10 products (float16 gate files hold no
# smaller positive value than ~6e-8).
KEEP_FLOOR = 1e-7


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where the memory lives and how strong the keep gate's role at resets is, by hold length
    (claim C8; gateroles.analyses.holds). The memory-carrying units are roles.memory_units."""

    saturation: float = setting(
        0.9, "A keep gate (LSTM forget, GRU update) above this counts as saturated during a "
        "hold (Karpathy et al. 2015: 0.9).", exclusiveMinimum=0, exclusiveMaximum=1)
    memory_units: float  # share of units taken as memory-carrying (`roles`' setting)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["holds"], memory_units=config["roles"]["memory_units"])
