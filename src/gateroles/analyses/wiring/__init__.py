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

from gateroles.settings import from_section, setting


@dataclass(frozen=True, kw_only=True)
class Rewire:
    """Rewire and retrain: each trained lstm / default model of `tasks` with its forget and
    input blocks swapped, fine-tuned on the same data in the same batch order."""

    enabled: bool = setting(True, "Run the rewiring.")
    steps: int = setting(
        200, "Fine-tuning steps, the same for every seed and task, for the rewired model and "
        "for its control with the moved blocks frozen; at most half of every wiring task's "
        "LSTM training budget (training.steps; checked when the config is read), so that "
        "relearning can fail to beat training from step 0, which is compared over the same "
        "steps (its own training log).", minimum=1)
    first_checkpoint: int = setting(
        25, "Fine-tuning checkpoints: step 0 (just after the swap), this step, then doubling, "
        "and the last step (the frozen-blocks control keeps its last step only).", minimum=1)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Claim C4, roles come from wiring (gateroles.analyses.wiring). Its cells are added to the
    study grid (deduplicated) and trained on study.seeds; training, extraction, event_locking,
    roles, saturation and this analysis run on them."""

    tasks: tuple[str, ...] = setting(
        (), "Tasks (each one of study.tasks) on which every variant of `architectures` is "
        "trained (default init) beside the reference lstm / default, with the "
        "swap_forget_input arm (two_positions) and the rewiring (rewire). Empty: no C4 "
        "analysis.", items={"$ref": "#/definitions/task"}, uniqueItems=True)
    architectures: tuple[str, ...] = setting(
        ("lstm_nfg", "lstm_nig", "lstm_nog", "lstm_cifg", "rnn"),
        "Variants compared with the full LSTM, paired by seed.", uniqueItems=True,
        items={"enum": ["lstm_nfg", "lstm_nig", "lstm_nog", "lstm_cifg", "rnn"]})
    two_positions: bool = setting(
        False, "The same initial blocks in two positions: an lstm / swap_forget_input run "
        "beside every lstm / default run of `tasks`. A symmetry demonstration, shown as sanity "
        "checks and never counted: with i.i.d. initialisation the forget and input blocks are "
        "exchangeable, so the swapped run is distributed as a default run and 'the role "
        "follows the position' cannot fail unless C2 does. Off by default (it trains, extracts "
        "and analyses one more cell per task); on at paper scale.")
    forget_bias_tasks: tuple[str, ...] = setting(
        (), "Tasks (each one of study.tasks) with lstm / forget_bias_1 and gru / default beside "
        "lstm / default: the LSTM-GRU gap with and without a forget bias of 1 (Jozefowicz et "
        "al. 2015).", items={"$ref": "#/definitions/task"}, uniqueItems=True)
    equivalence_margin: float = setting(
        0.02, "Margin for 'the coupled input-forget variant costs little': the per-seed "
        "difference from the LSTM in normalised score ((score - chance) / (perfect - chance), "
        "1 = perfect, 0 = chance) must lie within +-this (TOST over seeds); otherwise 'not "
        "shown' or 'not equivalent'.", exclusiveMinimum=0, maximum=1)
    all_analyses: bool = setting(
        False, "Run and decide every per-model analysis (roles, decodability, event_locking, "
        "causal, dependence, saturation, gradient_flow) on the C4 cells too, as part of their "
        "claims; false: on the main grid only, so the C4 cells do not enlarge the other "
        "claims' Holm families (C4 reads event_locking and roles of the swap_forget_input arm "
        "itself; gradient_flow also runs on the rnn and lstm_nfg cells, claim C6's variants "
        "without a cell highway).")
    rewire: Rewire = setting(Rewire(), Rewire.__doc__)
    memory_units: float  # share of units taken as memory-carrying (`roles`' setting)
    eval_every: int  # training's validation interval (steps to solve are multiples of it)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["wiring"], memory_units=config["roles"]["memory_units"],
                            eval_every=config["training"]["eval_every"])
