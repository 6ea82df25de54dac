"""Role tests (claim C1): measures that a gate's input weights alone cannot produce.

Every gate is `sigmoid(W x + U h + b)`, so any gate decodes any function of the current token
from step 0 on (`decodability`). Two measures can tell a role from a reading of the input:

* **Attribution of each state change to the gate terms.** LSTM:
  `c_t - c_{t-1} = (f_t - 1) c_{t-1} + i_t g_t`: a forget term (what the forget gate removes)
  and an input term (what the input gate writes). In the memory-carrying units (chosen on one
  half of the sequences, measured on the other), the forget term's share of the change at
  resets (who erases) and the input term's share at stores (who writes), each against the same
  share at every other step. GRU (PyTorch's convention): `h_t - h_{t-1} = (1 - z_t)(n_t -
  h_{t-1})`, split into the erasing part `-(1 - z_t) h_{t-1}` and the writing part
  `(1 - z_t) n_t`, both gated by the update gate.
* **Context dependence.** The same token in different states (`tasks.CONTEXTS`): the role
  gate at a RESET that must erase (memory holds a value; an armed RESET) against the same
  token where it must not (memory already empty; an unarmed RESET), at a STORE_k that changes
  the memory against one that does not. A gate that only reads its input responds to both
  alike; a gate that learned its role responds to the one that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.settings import from_section, setting


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Role tests of claim C1: attribution of state changes and context dependence
    (gateroles.analyses.roles)."""

    memory_units: float = setting(
        0.25, "Share of units taken as memory-carrying (those whose state carries the task's "
        "memory variable best, chosen on the even-numbered test sequences; the attribution is "
        "measured on the odd ones).", exclusiveMinimum=0, maximum=1)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["roles"])
