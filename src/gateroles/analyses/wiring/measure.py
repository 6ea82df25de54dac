"""One rewired model (claim C4): its scores during fine-tuning, and how far each swapped
position's statistics are from the original trained model's at that position.

Reads what the `rewire` job wrote for one seed (test score per fine-tuning checkpoint, the
fine-tuning log, the frozen-blocks control's log, test.json), the gate files of the
fine-tuning checkpoints, of the control's last checkpoint and of the original trained model,
and the original run's training log (training from step 0, the same seed and batches).
The statistics are C2's event effects (`event_locking.measure.event_tables`: each gate's mean
activation at an event minus elsewhere, window 0), measured on the same test sequences in
every gate file. Gates are named by position (the module's rows), so `forget` at fine-tuning
step 0 is the trained input block in the forget position.

The **distance** of a position at a checkpoint: the sum over the task's events of |its event
effect - the original trained model's effect at the same position|. Right after the swap it
is how far the moved block's statistics are from its new position's; the aggregate turns its
shrinking into a fraction (`aggregate.rewire_fractions`).
"""

from __future__ import annotations

import pandas as pd

from gateroles import storage
from gateroles.analyses.event_locking.measure import event_tables
from gateroles.analyses.wiring import Settings
from gateroles.gatefile import GateFile
from gateroles.study import Run

EFFECT = "event effect"
POSITIONS = ("forget", "input")  # the swapped positions
# The runs whose statistics and validation curves are compared (`run` / `kind` columns).
TUNED, FROZEN, ORIGINAL = "fine-tuned", "moved blocks frozen", "original"
SCRATCH = "from step 0"
# test.json fields of the rewired run carried into `rewire_scores` (renamed where the
# aggregate's `solved` and run columns would clash: `solved` there is the original model's).
TEST_FIELDS = {"metric": "metric", "chance": "chance", "threshold": "threshold",
               "test_score_original": "score_original", "test_score_swapped": "score_swapped",
               "test_score": "score_final", "solved": "solved_again",
               "steps": "rewire_steps", "steps_to_solve": "steps_to_solve_again",
               "test_score_frozen": "score_frozen",
               "steps_to_solve_frozen": "steps_to_solve_frozen"}
EFFECT_COLUMNS = ["run", "step", "gate", "event", "value"]
DISTANCE_COLUMNS = ["run", "step", "position", "distance", "n_events"]


def position_effects(gates: dict, factors: dict, meta: dict, arch: str) -> pd.DataFrame:
    """`gate, event, value`: the event effect of every sigmoid gate at every event."""
    contrast, _ = event_tables(gates, factors, meta["events"], arch, window=0)
    return contrast[["gate", "event", "difference"]].rename(columns={"difference": "value"})


def distances(effects: pd.DataFrame, original: pd.DataFrame) -> pd.DataFrame:
    """Per run, step and swapped position: the sum over events of |effect - the original
    model's effect at the same position and event| (`DISTANCE_COLUMNS`)."""
    here = effects[effects["gate"].isin(POSITIONS)]
    both = here.merge(original[["gate", "event", "value"]].rename(columns={"value": "target"}),
                      on=["gate", "event"], how="inner")
    both = both.assign(gap=(both["value"] - both["target"]).abs())
    out = (both.groupby(["run", "step", "gate"], as_index=False)
           .agg(distance=("gap", "sum"), n_events=("gap", "size")))
    return out.rename(columns={"gate": "position"})[DISTANCE_COLUMNS]


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`rewire_scores` (test score per fine-tuning checkpoint, with the run's test.json
    fields), `rewire_curve` (validation score every `eval_every` steps: fine-tuned, with the
    moved blocks frozen, and the original run from step 0), `rewire_effects` (event effects
    per run and checkpoint) and `rewire_distance` (each swapped position's distance from the
    original model's statistics)."""
    gates = inputs.gates
    test = storage.read_json(inputs.paths["test"])
    final = {"final_step": gates.final_step}
    scores = storage.read_csv(inputs.paths["scores"])[["step", "test_score", "test_loss"]]
    scores = scores.rename(columns={"test_score": "score", "test_loss": "loss"})
    scores = scores.assign(**{name: test.get(key) for key, name in TEST_FIELDS.items()},
                           **final)
    curves = [storage.read_csv(inputs.paths[path])[["step", "val_score"]].assign(kind=kind)
              for path, kind in (("train_log", TUNED), ("frozen_log", FROZEN),
                                 ("scratch_log", SCRATCH))]
    curve = pd.concat(curves, ignore_index=True)[["kind", "step", "val_score"]].assign(**final)
    frozen, original = GateFile(inputs.paths["frozen_gates"]), GateFile(inputs.paths["original"])
    sources = [(TUNED, gates, step) for step in gates.steps]
    sources += [(FROZEN, frozen, frozen.final_step), (ORIGINAL, original, original.final_step)]
    effects = pd.concat([position_effects(g.gates(step), g.factors, g.meta, run.arch)
                         .assign(run=name, step=step) for name, g, step in sources],
                        ignore_index=True)[EFFECT_COLUMNS]
    reference = effects[effects["run"] == ORIGINAL]
    distance = distances(effects[effects["run"] != ORIGINAL], reference)
    return {"rewire_scores": scores, "rewire_curve": curve,
            "rewire_effects": effects.assign(**final),
            "rewire_distance": distance.assign(**final)}
