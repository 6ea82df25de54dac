"""Roles come from wiring, not initialisation (claim C4): variants as double dissociations,
selective writing, the same initial blocks in two positions, rewiring.

* **Variants** (`architectures`: `lstm_nfg`, `lstm_nig`, `lstm_nog`, `lstm_cifg`, `rnn`), each
  trained on the same data, seeds and budget as the full LSTM and compared with it seed by
  seed, **behaviour by behaviour** (`behaviour`: one forward pass per checkpoint; the task's
  behaviours, e.g. answers after a RESET vs after a STORE): removing a gate should hurt the
  behaviours its position serves more than the others, and not so on the crossed variant (the
  other half of the double dissociation, the negative control). Without an input gate the
  cell still writes (i = 1): the prediction is the loss of *selective* writing (the write
  term's share at stores against quiet steps, in the memory units). Overall scores, steps to
  solve, the published rankings and the LSTM-GRU gap with a forget bias of 1 are descriptive.
* **The same initial weights in two positions** (`two_positions`: the `lstm` /
  `swap_forget_input` run starts from the default run's weights with the forget and input
  blocks exchanged, on the same batches). With i.i.d. initialisation the blocks are
  exchangeable, so "the role follows the position" follows from symmetry: shown as a sanity
  check, off in the default study.
* **Rewire and retrain.** Each trained `lstm` / default model with its forget and input blocks
  swapped (`interventions.swap_blocks`), fine-tuned (`rewire`: at most half the task's
  training budget), and fine-tuned again with the moved blocks frozen (the control): does it
  relearn faster than training from step 0 (its own run's log, the same steps), and what
  fraction of the distance to its new positions' statistics (the original model's C2 event
  effects at those positions) do the moved blocks close (`measure`)?
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    tasks: tuple[str, ...]  # tasks with the variants, the two-positions arm and rewiring
    architectures: tuple[str, ...]  # variants compared with lstm / default
    two_positions: bool  # the lstm / swap_forget_input arm
    forget_bias_tasks: tuple[str, ...]  # lstm / forget_bias_1 and gru / default beside lstm
    equivalence_margin: float  # TOST margin, normalised score, "coupling costs little"
    all_analyses: bool  # decodability and dependence on these cells too
    rewire: bool  # rewire and retrain
    rewire_steps: int  # fine-tuning budget
    rewire_first_checkpoint: int  # fine-tuning checkpoints: 0, this, doubling, the last
    memory_units: float  # share of units chosen as memory-carrying (write selectivity)
    eval_every: int  # training's validation interval (steps to solve are multiples of it)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        w = config["wiring"]
        return cls(tasks=tuple(w["tasks"]), architectures=tuple(w["architectures"]),
                   two_positions=w["two_positions"],
                   forget_bias_tasks=tuple(w["forget_bias_tasks"]),
                   equivalence_margin=w["equivalence_margin"], all_analyses=w["all_analyses"],
                   rewire=w["rewire"]["enabled"], rewire_steps=w["rewire"]["steps"],
                   rewire_first_checkpoint=w["rewire"]["first_checkpoint"],
                   memory_units=config["roles"]["memory_units"],
                   eval_every=config["training"]["eval_every"])
