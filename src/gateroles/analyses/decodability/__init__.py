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

from gateroles.settings import from_section, setting


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Linear probes with control tasks (claim C1 decodability;
    gateroles.analyses.decodability)."""

    n_sequences: int = setting(
        100, "Extracted sequences used by the probes (at most extraction.n_sequences; fewer = "
        "faster; 100 x 100 steps = 10,000 samples per probe).", minimum=5, maximum=100000)
    input_window: int = setting(
        3, "Input-only baseline features = the raw inputs at the last this many steps.",
        minimum=1, maximum=20)
    control_window: int = setting(
        3, "Control-task token type = the tuple of the last this many input tokens (continuous "
        "inputs in deciles). 1 is Hewitt & Liang's word type; with ~10 token types it is "
        "degenerate (see the report), hence 3.", minimum=1, maximum=20)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["decodability"])
