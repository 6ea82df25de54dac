"""Roles come from wiring, not initialisation (claim C4): three lines of evidence.

* **Variants** (`architectures`: `lstm_nfg`, `lstm_nig`, `lstm_nog`, `lstm_cifg`, `rnn`), each
  trained on the same data, seeds and budget as the full LSTM and compared with it seed by
  seed: which ability does each lose? The score is normalised, (score - chance) /
  (perfect - chance) (1 = perfect, 0 = the best constant predictor), so that tasks and metrics
  compare. Beside it, the measured importance ranking (mean drop per removed gate) next to
  Greff et al. 2017 and Jozefowicz et al. 2015, and the LSTM-GRU gap with and without a
  forget bias of 1.
* **The same initial weights in two positions.** The `lstm`/`swap_forget_input` run of a seed
  starts from the `lstm`/`default` run's weights with the forget and input blocks exchanged,
  and sees the same batches in the same order: the block that starts in the forget position
  of one run starts in the input position of the other. Does each block's role (C2: the
  forget gate drops at resets, the input gate rises at stores; C1: the erasing and writing
  terms) follow its position or its starting weights? Read from the `event_locking` and
  `roles` tables of the two cells.
* **Rewire and retrain.** Each trained `lstm`/`default` model with its forget and input blocks
  swapped (`interventions.swap_blocks`), then fine-tuned (`rewire`, `training.train` from the
  swapped weights, same data and batch order): the score right after the swap, the steps to
  solve again against those from step 0, and whether each position's gate takes on the
  statistics of its new position (the C2 effects at the fine-tuning checkpoints).
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
    memory_units: float  # roles' share of memory-carrying units (attribution after rewiring)
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
