"""One rewired model (claim C4): its scores during fine-tuning and each position's statistics.

Reads what the `rewire` job wrote for one seed (test score per fine-tuning checkpoint,
training log, test.json) and the gate file of its fine-tuning checkpoints, and measures, at
every checkpoint, the same statistics the C2 and C1 analyses measure on any model
(`event_locking.measure.event_tables`: each gate's mean activation at an event minus
elsewhere; `roles.measure.attribution_rows`: the erasing and writing terms' share of the state
change at resets and stores). Gates are named by position (the module's rows), so
`forget` at fine-tuning step 0 is the trained input block in the forget position.
"""

from __future__ import annotations

import pandas as pd

from gateroles import storage
from gateroles.analyses.event_locking.measure import event_tables
from gateroles.analyses.roles.measure import attribution_rows
from gateroles.analyses.wiring import Settings
from gateroles.study import Run

EFFECT, ATTRIBUTION = "event effect", "term share contrast"
# The position whose gate owns each term of the LSTM's state change.
TERM_POSITION = {"erase": "forget", "write": "input"}
# test.json fields of the rewired run carried into `rewire_scores` (renamed where the
# aggregate's `solved` and run columns would clash: `solved` there is the original model's).
TEST_FIELDS = {"metric": "metric", "chance": "chance", "threshold": "threshold",
               "test_score_original": "score_original", "test_score_swapped": "score_swapped",
               "test_score": "score_final", "solved": "solved_again",
               "steps": "rewire_steps", "steps_to_solve": "steps_to_solve_again"}


def position_effects(gates: dict, factors: dict, meta: dict, arch: str, memory_units: float
                     ) -> list[dict]:
    """Tidy rows `measure, gate, event, value` of one checkpoint: the event effect of every
    sigmoid gate at every event, and the term share contrast (at the event minus elsewhere) of
    the erasing (forget position) and writing (input position) terms."""
    contrast, _ = event_tables(gates, factors, meta["events"], arch, window=0)
    rows = [{"measure": EFFECT, "gate": r.gate, "event": r.event, "value": r.difference}
            for r in contrast.itertuples()]
    for r in attribution_rows(gates, factors, meta, arch, memory_units):
        rows.append({"measure": ATTRIBUTION, "gate": TERM_POSITION[r["term"]],
                     "event": r["event"], "value": r["share_at_event"] - r["share_elsewhere"]})
    return rows


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`rewire_scores` (test score per fine-tuning checkpoint, with the run's test.json
    fields), `rewire_curve` (the fine-tuning log: validation score every `eval_every` steps)
    and `rewire_effects` (tidy position statistics per checkpoint)."""
    gates = inputs.gates
    test = storage.read_json(inputs.paths["test"])
    final = {"final_step": gates.final_step}
    scores = storage.read_csv(inputs.paths["scores"])[["step", "test_score", "test_loss"]]
    scores = scores.rename(columns={"test_score": "score", "test_loss": "loss"})
    scores = scores.assign(**{name: test[key] for key, name in TEST_FIELDS.items()}, **final)
    curve = storage.read_csv(inputs.paths["train_log"])[["step", "train_loss", "val_loss",
                                                    "val_score"]].assign(**final)
    effects = [dict(row, step=step) for step in gates.steps
               for row in position_effects(gates.gates(step), gates.factors, gates.meta,
                                           run.arch, settings.memory_units)]
    columns = ["measure", "gate", "event", "value", "step"]
    return {"rewire_scores": scores, "rewire_curve": curve,
            "rewire_effects": pd.DataFrame(effects, columns=columns).assign(**final)}
