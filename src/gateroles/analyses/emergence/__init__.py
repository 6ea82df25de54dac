"""How a gate becomes its role (claim C7): the push each gate receives at its events.

Backpropagation gives each gate a gradient shaped by what its output multiplies. LSTM:
dL/df_t = dL/dc_t * c_{t-1}, dL/di_t = dL/dc_t * g_t, dL/do_t = dL/dh_t * tanh(c_t); GRU
(PyTorch's convention h = (1 - z) n + z h_{t-1}): dL/dz_t = dL/dh_t * (h_{t-1} - n_t). At a
RESET, where a stale memory causes the error, only the forget gate's gradient is proportional
to that memory. The account: the position decides which gate the error reaches, from the very
first updates, and the role follows. Its rival: roles are set by the input statistics alone,
so every gate gets the same push from the event token whatever its position.

Measures, per model (`measure`):

* **The push at the events** (every checkpoint of the analysis cells; on the negative
  controls step 0 and the last checkpoint within the replayed window, `early_checkpoint`): one
  forward and one backward pass of the explicit differentiable recurrence
  (`interventions.forward(..., differentiable=True)`) over the first `n_sequences` sequences of
  the gate file, the task's own loss summed over its scored steps. The gradient with respect to
  each sigmoid gate's pre-activation comes from the state gradients by the formulas above times
  the sigmoid's slope (`gate_gradients`; tested against autograd and finite differences). The
  *push* of a gate at an event is minus the role's direction times that gradient (positive:
  gradient descent moves the gate the way the role asks: closes f at resets, opens i at stores,
  opens o at queries; the GRU's z closes at resets and stores), averaged over units and event
  steps, minus the same at quiet steps matched in lag to the next scored step
  (`causal.measure.lag_matched`). Every gate is measured with the role's direction at that event,
  so the rival predicts equal pushes. All units: nothing is selected on the outcome.
* **The first updates** (`replay`): the first `early_steps` steps of the run's own training,
  replayed from step 0 with `training.train` (same seed: same initial weights, batches and
  Adam), recording after every step the gradient the optimiser used (after clipping) and the
  update Adam made to `weight_ih`, each projected on every event token's input direction
  (mean input at the event minus at quiet steps: the RESET token's column for one-hot inputs)
  block by block, signed toward the role. The replayed weights are compared with the saved
  checkpoint at that step where there is one (`replay` table).
* **Units** (for the prediction from early training): per unit, the role gates' summed early
  updates at each role event, the step-0 push, and how well the unit's state carries the
  memory variable at step 0 and at the end (`roles.measure.memory_score`; the memory-carrying
  units are the top `memory_units` share, as in C1).
* **Outcome**: claim C1's attribution shares (who erases at resets, who selects the write at
  stores; `roles.measure.share_rows`) at step 0 and at the last checkpoint, which the early
  pushes predict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateroles.architectures import ROLE_GATES, SPECS
from gateroles.settings import from_section, setting

# Event names in the plural, for the words of the tables and figures.
PLURAL = {"reset": "resets", "store": "stores", "query": "queries"}
# The config sections the replay of the first steps reads (the run's own training).
REPLAY_SECTIONS = ("data", "task_params", "training", "model")


def cell_roles(arch: str) -> dict[str, tuple[str, int]]:
    """Event role -> (role gate, direction) of `arch`'s fused cell: the gate whose position
    serves the event, kept where the architecture holds it constant (its push is then what
    the held gate receives: 0 for a removed one)."""
    return dict(ROLE_GATES[SPECS[arch].cell])


def early_checkpoint(steps, early_steps: int | None) -> int | None:
    """The last checkpoint after step 0 within the first `early_steps` steps (the end of the
    replayed window when it ends on a checkpoint), None where there is none."""
    inside = [int(s) for s in steps if 0 < int(s) <= (early_steps or 0)]
    return max(inside) if inside else None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Claim C7, how a gate becomes its role (gateroles.analyses.emergence): the gradient each
    gate receives at its events, at every checkpoint (one backward pass each) and over the
    replayed first steps of training, and whether the early pushes predict the trained
    roles."""

    n_sequences: int = setting(
        64, "Sequences of the gate file in each checkpoint's backward pass (the first ones; at "
        "most extraction.n_sequences). 64 x 100 steps hold ~300 resets in reset_recall.",
        minimum=1, maximum=100000)
    early_steps: int = setting(
        25, "The first steps of each run's training replayed from step 0 (the same initial "
        "weights, batches and Adam as the run) to record what each step's gradient and Adam's "
        "update did to the event tokens' weights: 'the first updates'. A cell whose budget is "
        "shorter is replayed whole. Where the window ends on a saved checkpoint (the default "
        "equals training.first_checkpoint) the replayed weights are compared with it.",
        minimum=1, maximum=100000)
    n_shuffles: int = setting(
        200, "Permutations of the units' memory labels in the shuffled baseline of 'early "
        "pushes predict the memory-carrying units' (its mean AUC is subtracted).", minimum=1,
        maximum=100000)
    memory_units: float  # share of units taken as memory-carrying (`roles`' setting)
    every_checkpoint: bool = True  # False on a negative-control cell: step 0 and the window's end
    replay: dict = field(default_factory=dict)  # the REPLAY_SECTIONS of the config

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(
            cls, config["emergence"], memory_units=config["roles"]["memory_units"],
            every_checkpoint=bool(config.get("every_checkpoint", True)),
            replay={name: config[name] for name in REPLAY_SECTIONS if name in config})
