"""Decodability (claim C1, first line of evidence): which task variables each gate carries.

At every checkpoint, a linear ridge probe from each source (all units of one gate, the cell and
hidden states, and an input-only window) to every task variable, with grouped nested CV and a
control task (Hewitt & Liang 2019); selectivity = task score - control score. The probing
machinery is `gateroles.probes`. Decodability says what a gate *carries*, not what it *does*:
every gate is `sigmoid(W x + U h + b)`, so any gate decodes any function of the current token
through its input weights, from step 0 on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    n_sequences: int  # extracted sequences used by the probes
    input_window: int  # input-only baseline: the raw inputs of the last this many steps
    control_window: int  # control task's token type: the tuple of the last this many tokens

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(**config["probes"])
