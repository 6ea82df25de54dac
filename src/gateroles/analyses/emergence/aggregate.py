"""C7 across seeds: which gate the error pushes at each event, from the first updates, and
whether the early pushes predict the trained roles.

Primary predictions (solved seeds; each with the competing account's prediction, `RIVALS`,
beside it; the counted ones are one Holm family, claim C7):

* **The first push** (`PUSH`): at step 0, the role gate's push at its event (toward its role,
  event minus lag-matched quiet steps) against the push each other sigmoid gate receives there
  in the same direction, as a share in [0, 1] (`push_share`): above one half. The rival
  (every gate gets the same push from the event token) predicts one half. Decided on step 0
  against one half (the push before any training is what the account predicts; the share at
  the last checkpoint is shown beside it). Negative control: the architecture without the role
  gate (`GRADIENT_CONTROLS`: `lstm_nfg` / `lstm_nig` / `lstm_nog`; the position gone, its
  gradient is 0). The GRU has none: `gru_fug` holds z at 0.5 but keeps its position, where the
  gradient arrives all the same, so its rows are shown and not counted.
* **The first updates** (`UPDATES`): the same share for what the event token's weights
  received over the first `early_steps` steps of training (replayed): the summed gradient and
  Adam's summed updates, projected on the token's input direction; above one half. The first
  step's share is shown as the value at step 0. Negative control: the gate held constant in
  training (`architectures.CONTROLS`: its weights never move).
* **Early pushes predict the trained roles** (`PREDICTS`): per unit, the role gates' summed
  early updates at the reset and store events predict the memory-carrying units at the end
  (AUC minus the mean AUC of `n_shuffles` shuffles of the units; the step-0 push's AUC beside
  it); per seed, whether the first updates' share (above one half or not) predicts whether
  the role gate ends up doing most of its role (claim C1's attribution share at the last
  checkpoint above one half), minus the agreement expected from the seeds' marginals. Both
  above 0; negative control: the same prediction from another seed's early pushes (units and
  seeds are not paired across models, so it must fail).

Sanity checks: the same first-push and first-update shares on the swapped initial blocks
(`lstm` / `swap_forget_input`, where the study trains it): with i.i.d. initialisation the
blocks are exchangeable, so the push following the position there follows from the default
run by symmetry. Descriptive (`controls` table): where the push goes on each control
architecture (e.g. `lstm_nfg`: which gate takes the closing push at resets), and across hold
lengths (`holds`: tasks named `name@H`) the per-seed slope of the first updates' share on
log H, decided against 0 where two or more hold lengths ran (shown; no control).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import stats, tasks
from gateroles.analyses.emergence import PLURAL, cell_roles, early_checkpoint
from gateroles.architectures import SPECS
from gateroles.study import CELL_KEYS

CLAIM = "C7"
PUSH = "the first push at the events (step 0)"
PUSH_EARLY = "the push at the events after the first steps"
UPDATES = "the first updates of the event token's weights"
PREDICTS = "early pushes predict the trained roles"
VERBS = {(-1, "reset"): "closing", (-1, "store"): "closing", (+1, "store"): "opening",
         (+1, "query"): "opening", (-1, "query"): "closing"}
RIVALS = {PUSH: "roles are set by the input statistics alone: every gate gets the same push "
                "from the event token whatever its position (a share of one half)",
          UPDATES: "every gate block's weight from the event token moves alike (a share of "
                   "one half)",
          "units": "early pushes carry no information on which units will carry memory (AUC "
                   "at the shuffled baseline)",
          "gates": "the first updates do not predict which gate ends up doing the role "
                   "(agreement at the shuffled baseline)"}
PUSH_WHY = ("the share at step 0 vs 0.5: the first push is measured before any training, so "
            "there is no step-0 value to subtract; the share at the last checkpoint is shown as "
            "'trained'")
PUSH_EARLY_WHY = ("the share at step {step} vs 0.5: the rival predicts one half; the shares "
                  "at step 0 and at the last checkpoint are shown as 'step 0' and 'trained'")
UPDATES_WHY = ("the share over the first {steps} steps vs 0.5: the rival predicts one half; the "
               "first step's share is shown as 'step 0'")
UNITS_WHY = ("AUC minus the shuffled baseline's mean AUC, vs 0; the same from the step-0 "
             "push shown as 'step 0'")
GATES_WHY = ("agreement minus the agreement expected from the seeds' marginals, vs 0; the same "
             "from the first push (step 0) shown as 'step 0'")
SYMMETRY = ("with i.i.d. initialisation the forget and input blocks are exchangeable: given the "
            "default run, the push following the position in the swapped run follows by "
            "symmetry")
# The negative control of the first push, per (cell, role gate): the variant without that
# gate's position (its gradient is 0 there). A gate held at a constant keeps its position, so
# it receives the push all the same: not a control of this test.
GRADIENT_CONTROLS = {("lstm", "forget"): "lstm_nfg", ("lstm", "input"): "lstm_nig",
                     ("lstm", "output"): "lstm_nog"}
NO_GRADIENT_CONTROL = ("no control: the GRU has no variant without its update gate (gru_fug "
                       "holds z at 0.5 but keeps its position, where the gradient arrives)")
OTHER_SEED = "another seed's early pushes (units and seeds are not paired across models)"
KINDS = {"gradient": "summed gradient", "update": "Adam's updates"}


def pair_share(own: float, other: float, own_size: float, other_size: float) -> float:
    """The role gate's share of the push toward the role against one other gate, in [0, 1]:
    (1 + (own+ - other+) / (own_size + other_size)) / 2, where `own` and `other` are the two
    pushes toward the role averaged over units (x+ = max(x, 0): a gate pushed away from the
    role gets none of the push toward it) and the sizes are the mean size of each unit's push
    (|own| <= own_size). 1: only the role gate is pushed, every unit toward the role; one half
    where neither is pushed toward the role more than the other (a gate held constant, pushed
    by nothing, against gates pushed away from the role included); NaN where one is missing.
    share(a, b) = 1 - share(b, a), so under exchangeable gates its expectation is one half;
    it has no point masses where the two pushes differ in sign, so over seeds the verdict
    rule keeps its false 'supported' rate (checked by simulation in the tests)."""
    values = np.array([own, other, own_size, other_size], dtype=float)
    if not np.all(np.isfinite(values)):
        return np.nan
    total = own_size + other_size
    if total <= 0:
        return 0.5
    return float(np.clip(0.5 + 0.5 * (max(own, 0.0) - max(other, 0.0)) / total, 0, 1))


def push_share(values: pd.Series, sizes: pd.Series, role_gate: str) -> float:
    """The role gate's share of the push toward the role: the mean over the other gates of
    `pair_share` (pushes `values`, their per-unit sizes `sizes`, both indexed by gate).

    Pairwise, not against the mean of the others: a mean of several gates varies less than
    one gate, so under exchangeable gates (the rival) a share of the mean would not be one
    half; each pairwise share is, so their mean is too."""
    if role_gate not in values.index:
        return np.nan
    shares = [pair_share(values[role_gate], values[gate], sizes[role_gate], sizes[gate])
              for gate in values.index if gate != role_gate]
    return float(np.mean(shares)) if shares else np.nan


def _solved(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["solved"].astype(bool)] if len(table) else table


def _unsolved(table: pd.DataFrame, cell: tuple) -> int:
    if table.empty:
        return 0
    here = (table[CELL_KEYS] == pd.Series(cell, index=CELL_KEYS)).all(axis=1)
    return int(table.loc[here & ~table["solved"].astype(bool), "seed"].nunique())


def _roles(arch: str) -> dict[str, tuple[str, int]]:
    return cell_roles(arch)


def shares_by_seed(table: pd.DataFrame, value: str, size: str, keys: list[str]
                   ) -> pd.DataFrame:
    """Per `keys` x seed x event: the role gate's share of the push (`push_share`) from the
    table's `value` (push, mean over units) and `size` (mean size per unit) columns, one row
    per gate."""
    columns = keys + ["seed", "event", "gate", "share", "own", "others"]
    rows = []
    for key, group in table.groupby(keys + ["seed", "event"], sort=True):
        arch, event = key[keys.index("arch")], key[-1]
        if event not in _roles(arch):
            continue
        gate = _roles(arch)[event][0]
        per_gate = group.set_index("gate")
        rows.append({**dict(zip(keys + ["seed", "event"], key, strict=True)), "gate": gate,
                     "share": push_share(per_gate[value], per_gate[size], gate),
                     "own": float(per_gate[value].get(gate, np.nan)),
                     "others": float(per_gate[value].drop(gate, errors="ignore").mean())})
    return pd.DataFrame(rows, columns=columns)


def push_table(push: pd.DataFrame, early_steps: int | None = None) -> pd.DataFrame:
    """Per cell x seed x event: the push's share at step 0 (`initial`), at the last checkpoint
    within the first `early_steps` steps (`early`, with its step `early_step`) and at the last
    checkpoint (`trained`); NaN where that checkpoint was not measured."""
    columns = CELL_KEYS + ["seed", "event", "gate", "initial", "early", "early_step", "trained"]
    if push.empty:
        return pd.DataFrame(columns=columns)
    keys = CELL_KEYS + ["seed", "event"]
    out = shares_by_seed(push[push["step"] == 0], "push", "magnitude", CELL_KEYS).rename(
        columns={"share": "initial"}).drop(columns=["own", "others"])
    last = shares_by_seed(push[push["step"] == push["final_step"]], "push", "magnitude",
                          CELL_KEYS)
    out = out.join(last.set_index(keys)["share"].rename("trained"), on=keys)
    early = early_checkpoint(push["step"].unique(), early_steps)
    out["early_step"] = early if early is not None else np.nan
    if early is not None:
        shares = shares_by_seed(push[push["step"] == early], "push", "magnitude", CELL_KEYS)
        out = out.join(shares.set_index(keys)["share"].rename("early"), on=keys)
    else:
        out["early"] = np.nan
    return out[columns]


def update_table(updates: pd.DataFrame) -> pd.DataFrame:
    """Per cell x seed x event x kind: the share over the whole replayed window (`early`, from
    the last step's running sums) and of the first step alone (`first`)."""
    columns = CELL_KEYS + ["kind", "seed", "event", "gate", "early", "first", "own", "others"]
    if updates.empty:
        return pd.DataFrame(columns=columns)
    keys = CELL_KEYS + ["kind"]
    last = updates["step"] == updates.groupby(CELL_KEYS + ["seed"])["step"].transform("max")
    window = shares_by_seed(updates[last], "cumulative", "magnitude", keys)
    first = shares_by_seed(updates[updates["step"] == 1], "value", "step_magnitude", keys)
    out = window.rename(columns={"share": "early"})
    out["first"] = first.set_index(keys + ["seed", "event"])["share"].reindex(
        pd.MultiIndex.from_frame(out[keys + ["seed", "event"]])).to_numpy()
    return out[columns]


def _series(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame.set_index("seed")[column].astype(float)



def _early_against_other_seed(group: pd.DataFrame, settings, why: str, keys: dict) -> dict:
    """A prediction from the early pushes (`early`, step 0's `initial` beside it) against 0,
    with the same prediction from another seed's pushes (`other`) as its negative control."""
    row = stats.reference_row(_series(group, "early"), 0.0, +1, settings,
                              initial=_series(group, "initial"), why=why, **keys)
    control = stats.reference_row(_series(group, "other"), 0.0, +1, settings, why=why, **keys)
    return stats.with_control(row, control, OTHER_SEED)

def _verb(direction: int, event: str) -> str:
    return VERBS.get((direction, event), "its role")


def push_rows(push: pd.DataFrame, settings: stats.Settings, test: str = stats.PRIMARY,
              early_steps: int | None = None) -> list[dict]:
    """The push rows of every cell (solved seeds): at step 0 (`PUSH`) and at the last
    checkpoint within the first `early_steps` steps (`PUSH_EARLY`), each with the share at step
    0 and at the last checkpoint beside it."""
    table = push_table(_solved(push), early_steps)
    rows = []
    for (task, arch, init, event), group in table.groupby(CELL_KEYS + ["event"], sort=True):
        gate, direction = _roles(arch)[event]
        keys = {"test": test, "claim": CLAIM, "task": task, "arch": arch, "init": init,
                "role_gate": gate, "n_unsolved": _unsolved(push, (task, arch, init)),
                "rival": RIVALS[PUSH], "note": SYMMETRY if test == stats.SANITY else ""}
        what = (f"the error at {PLURAL.get(event, event)} pushes {gate} toward "
                f"{_verb(direction, event)} more than the other gates")
        lines = [("initial", PUSH, PUSH_WHY, f"at step 0 {what}")]
        step = group["early_step"].max()
        if np.isfinite(step) and group["early"].notna().any():
            lines.append(("early", PUSH_EARLY, PUSH_EARLY_WHY.format(step=int(step)),
                          f"by step {int(step)} {what}"))
        for column, evidence, why, prediction in lines:
            row = stats.reference_row(_series(group, column), 0.5, +1, settings, why=why,
                                      evidence=evidence, prediction=prediction, **keys)
            for name in ("trained", "initial"):
                row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = stats.mean_ci(
                    group[name].astype(float), settings.confidence)
            rows.append(row)
    return rows


def update_rows(updates: pd.DataFrame, settings: stats.Settings, test: str = stats.PRIMARY,
                steps: int | None = None) -> list[dict]:
    """The first-update rows of every cell, one per event and kind (summed gradient, Adam's
    updates)."""
    table = update_table(_solved(updates))
    rows = []
    for (task, arch, init, kind, event), group in table.groupby(
            CELL_KEYS + ["kind", "event"], sort=True):
        gate, direction = _roles(arch)[event]
        window = f"{steps}" if steps else "first"
        rows.append(stats.reference_row(
            _series(group, "early"), 0.5, +1, settings, initial=_series(group, "first"),
            why=UPDATES_WHY.format(steps=window), test=test, claim=CLAIM, evidence=UPDATES,
            task=task, arch=arch, init=init, role_gate=gate,
            n_unsolved=_unsolved(updates, (task, arch, init)), rival=RIVALS[UPDATES],
            note=SYMMETRY if test == stats.SANITY else "",
            prediction=f"over the first {window} steps the {gate} block's weight from the "
                       f"{event} token moves toward {_verb(direction, event)} more than the "
                       f"other blocks' ({KINDS[kind]})"))
    return rows


def _ranks(score: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(score)


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve of `score` for the binary `label` (ties count one half);
    NaN without both classes or with a non-finite score."""
    score, label = np.asarray(score, dtype=float), np.asarray(label, dtype=bool)
    if not np.all(np.isfinite(score)) or label.all() or not label.any():
        return np.nan
    n_pos, n_neg = label.sum(), (~label).sum()
    return float((_ranks(score)[label].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def shuffled_auc(score: np.ndarray, label: np.ndarray, n_shuffles: int, seed: int) -> float:
    """The mean AUC of `score` against `n_shuffles` random permutations of `label` (the
    shuffled baseline; 0.5 in expectation)."""
    score, label = np.asarray(score, dtype=float), np.asarray(label, dtype=bool)
    if not np.all(np.isfinite(score)) or label.all() or not label.any() or n_shuffles < 1:
        return np.nan
    rng = np.random.default_rng(seed)
    shuffled = label[rng.random((n_shuffles, label.size)).argsort(axis=1)]
    n_pos, n_neg = label.sum(), (~label).sum()
    sums = shuffled.astype(float) @ _ranks(score)
    return float(np.mean((sums - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)))


def unit_scores(units: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per model x unit: the role gates' summed `column` over the reset and store events
    (the memory roles), with the unit's memory label at the end."""
    memory = units[units["event"].isin(["reset", "store"])]
    if memory.empty:
        return pd.DataFrame(columns=CELL_KEYS + ["seed", "unit", "score", "memory_unit"])
    return (memory.groupby(CELL_KEYS + ["seed", "unit"], sort=True)
            .agg(score=(column, "sum"), memory_unit=("memory_unit", "first")).reset_index())


def unit_prediction(units: pd.DataFrame, n_shuffles: int) -> pd.DataFrame:
    """Per model: the AUC of the early updates (`early`) and of the step-0 push (`initial`)
    for the memory-carrying units at the end, each minus its shuffled baseline; and the same
    with the early updates of the cell's next seed (`other`: the negative control, units not
    being paired across models)."""
    columns = CELL_KEYS + ["seed", "early", "initial", "other"]
    if units.empty:
        return pd.DataFrame(columns=columns)
    scores = {"early": unit_scores(units, "early_update"),
              "initial": unit_scores(units, "initial_push")}
    out = []
    for cell, group in scores["early"].groupby(CELL_KEYS, sort=True):
        first = scores["initial"].merge(pd.DataFrame([cell], columns=CELL_KEYS))
        by_seed = {name: {seed: own.sort_values("unit") for seed, own in frame.groupby("seed")}
                   for name, frame in (("early", group), ("initial", first))}
        seeds = sorted(by_seed["early"])
        for k, seed in enumerate(seeds):
            label = by_seed["early"][seed]["memory_unit"].astype(float)
            if label.isna().any():
                continue
            label = label.astype(bool).to_numpy()
            row = {**dict(zip(CELL_KEYS, cell, strict=True)), "seed": seed}
            sources = {"early": by_seed["early"][seed], "initial": by_seed["initial"].get(seed),
                       "other": (by_seed["early"][seeds[(k + 1) % len(seeds)]]
                                 if len(seeds) > 1 else None)}
            for name, frame in sources.items():
                score = None if frame is None else frame["score"].to_numpy(dtype=float)
                row[name] = (np.nan if score is None or len(score) != len(label)
                             else auc(score, label) - shuffled_auc(score, label, n_shuffles,
                                                                   seed=int(seed)))
            out.append(row)
    return pd.DataFrame(out, columns=columns)


def unit_rows(units: pd.DataFrame, settings: stats.Settings, n_shuffles: int) -> list[dict]:
    """Per cell: the early pushes predict the memory-carrying units, beside its control."""
    table = unit_prediction(_solved(units), n_shuffles)
    rows = []
    for (task, arch, init), group in table.groupby(CELL_KEYS, sort=True):
        keys = {"claim": CLAIM, "evidence": PREDICTS, "task": task, "arch": arch,
                "init": init, "n_unsolved": _unsolved(units, (task, arch, init)),
                "rival": RIVALS["units"],
                "prediction": "the units whose role gates the first updates push most are "
                              "the memory-carrying units at the end"}
        rows.append(_early_against_other_seed(group, settings, UNITS_WHY, keys))
    return rows


def expected_agreement(predicted: np.ndarray, outcome: np.ndarray) -> float:
    """The agreement of binary predictions with binary outcomes expected when the predictions
    are shuffled across seeds: p q + (1 - p)(1 - q) from the two marginals."""
    p, q = float(np.mean(predicted)), float(np.mean(outcome))
    return p * q + (1 - p) * (1 - q)


def _agreement(correct: bool, predicted: np.ndarray, outcome: np.ndarray) -> float:
    """One seed's agreement minus the shuffled expectation, rounded so that a prediction no
    seed could fail reads exactly 0 (untestable), not a rounding error."""
    return round(float(correct) - expected_agreement(predicted, outcome), 12)


def gate_prediction(updates: pd.DataFrame, push: pd.DataFrame, outcome: pd.DataFrame
                    ) -> pd.DataFrame:
    """Per model x event with a C1 attribution share: does the first updates' share (Adam's,
    above one half) predict the role gate's trained share (above one half)? `early`, `initial`
    (the same from the first push at step 0) and `other` (the next seed's early prediction):
    agreement minus the agreement expected from the cell's marginals (shuffled seeds)."""
    columns = CELL_KEYS + ["seed", "event", "gate", "predicted", "outcome", "early",
                           "initial", "other"]
    if outcome.empty or updates.empty:
        return pd.DataFrame(columns=columns)
    early = update_table(updates)
    early = early[early["kind"] == "update"].set_index(CELL_KEYS + ["seed", "event"])["early"]
    first = push_table(push).set_index(CELL_KEYS + ["seed", "event"])["initial"]
    final = outcome[outcome["step"] == outcome["final_step"]]
    rows = []
    for (task, arch, init, event), group in final.groupby(CELL_KEYS + ["event"], sort=True):
        ahead = [early.get((task, arch, init, s, event), np.nan) for s in group["seed"]]
        group = group.assign(ahead=np.asarray(ahead, dtype=float)).sort_values("seed")
        # seeds with both a prediction and an outcome: the marginals are theirs
        group = group[np.isfinite(group["ahead"]) & np.isfinite(group["share"].astype(float))]
        if group.empty:
            continue
        seeds = group["seed"].tolist()
        got = (group["share"].astype(float) > 0.5).to_numpy()
        pred = (group["ahead"] > 0.5).to_numpy()
        at_zero = np.array([first.get((task, arch, init, s, event), np.nan) for s in seeds],
                           dtype=float)
        pred0 = at_zero > 0.5
        other = np.roll(pred, -1)  # the next seed's prediction
        for k, seed in enumerate(seeds):
            rows.append({"task": task, "arch": arch, "init": init, "seed": seed,
                         "event": event, "gate": group["gate"].iloc[k],
                         "predicted": bool(pred[k]), "outcome": bool(got[k]),
                         "early": _agreement(pred[k] == got[k], pred, got),
                         "initial": _agreement(pred0[k] == got[k], pred0, got)
                         if np.isfinite(at_zero[k]) else np.nan,
                         "other": _agreement(other[k] == got[k], other, got)
                         if len(seeds) > 1 else np.nan})
    return pd.DataFrame(rows, columns=columns)


def gate_rows(updates: pd.DataFrame, push: pd.DataFrame, outcome: pd.DataFrame,
              settings: stats.Settings) -> list[dict]:
    """Per cell x event: the first updates predict which gate ends up with the role."""
    table = gate_prediction(_solved(updates), _solved(push), _solved(outcome))
    rows = []
    for (task, arch, init, event, gate), group in table.groupby(
            CELL_KEYS + ["event", "gate"], sort=True):
        role = {"reset": "most of the extra erasure at resets",
                "store": "most of the write's selectivity at stores"}.get(event, event)
        keys = {"claim": CLAIM, "evidence": PREDICTS, "task": task, "arch": arch,
                "init": init, "n_unsolved": _unsolved(outcome, (task, arch, init)),
                "rival": RIVALS["gates"],
                "prediction": f"the first updates predict whether {gate} ends up doing {role} "
                              f"(C1's share)"}
        rows.append(_early_against_other_seed(group, settings, GATES_WHY, keys))
    return rows


def attach_gradient_controls(rows: list[dict], control_rows: list[dict]) -> list[dict]:
    """The first push's rows with their controls (`GRADIENT_CONTROLS`; the GRU has none)."""
    controls = {(r["task"], r["arch"], r["prediction"]): r for r in control_rows}
    out = []
    for row in rows:
        cell = SPECS[row["arch"]].cell
        arch = (GRADIENT_CONTROLS.get((cell, row["role_gate"]))
                if row["arch"] in ("lstm", "gru") and row["test"] == stats.PRIMARY else None)
        if arch is None:
            out.append(dict(row, control=NO_GRADIENT_CONTROL if cell == "gru"
                            else "no control for this architecture"))
            continue
        name = f"{arch} (no {row['role_gate']} gate: held at 1)"
        out.append(stats.with_control(row, controls.get((row["task"], arch,
                                                         row["prediction"])), name))
    return out


def push_by_step(push: pd.DataFrame, settings: stats.Settings) -> pd.DataFrame:
    """Descriptive: per cell x event x checkpoint, the role gate's share of the push (solved
    seeds), mean and t-interval over seeds: when the push starts to favour the role gate."""
    columns = CELL_KEYS + ["event", "gate", "step", "share", "ci_low", "ci_high", "n_seeds"]
    push = _solved(push)
    if push.empty:
        return pd.DataFrame(columns=columns)
    shares = shares_by_seed(push, "push", "magnitude", CELL_KEYS + ["step"])
    rows = []
    for key, group in shares.groupby(CELL_KEYS + ["event", "gate", "step"], sort=True):
        mean, lo, hi = stats.mean_ci(group["share"].to_numpy(dtype=float), settings.confidence)
        rows.append({**dict(zip(CELL_KEYS + ["event", "gate", "step"], key, strict=True)),
                     "share": mean, "ci_low": lo, "ci_high": hi,
                     "n_seeds": int(np.isfinite(group["share"].astype(float)).sum())})
    return pd.DataFrame(rows, columns=columns)


def _split(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows of the default-init cells and other arms, rows of the swapped initial blocks)."""
    if table.empty:
        return table, table
    swapped = table["init"] == "swap_forget_input"
    return table[~swapped], table[swapped]


def c7_verdicts(tables: dict[str, pd.DataFrame], settings: stats.Settings, n_shuffles: int,
                early_steps: int | None = None) -> pd.DataFrame:
    """Claim C7's verdict table: every prediction beside its negative control, and the rows
    across hold lengths (`hold_rows`; shown, not counted)."""
    push, swap_push = _split(tables["push"])
    updates, swap_updates = _split(tables["updates"])
    control_push = tables.get("control_push", push.iloc[:0])
    control_updates = tables.get("control_updates", updates.iloc[:0])
    rows = attach_gradient_controls(push_rows(push, settings, early_steps=early_steps),
                                    push_rows(control_push, settings, early_steps=early_steps))
    rows += stats.attach_controls(update_rows(updates, settings, steps=early_steps),
                                  update_rows(control_updates, settings, steps=early_steps))
    rows += unit_rows(_split(tables["units"])[0], settings, n_shuffles)
    rows += gate_rows(updates, push, _split(tables["outcome"])[0], settings)
    rows += push_rows(swap_push, settings, test=stats.SANITY, early_steps=early_steps)
    rows += update_rows(swap_updates, settings, test=stats.SANITY, steps=early_steps)
    rows += hold_rows(tables["updates"], settings)[1]
    return stats.verdict_table(rows, settings)


def where_the_push_goes(push: pd.DataFrame, updates: pd.DataFrame,
                        settings: stats.Settings) -> pd.DataFrame:
    """Descriptive, per cell x event x gate (solved seeds): the push at step 0 (gradient)
    and the window's summed Adam updates toward the event's role, mean and CI over seeds, and
    `part`, each gate's part of the positive pushes (push+ / the sum of the gates' pushes+,
    mean over seeds)."""
    columns = CELL_KEYS + ["event", "gate", "source", "mean", "ci_low", "ci_high", "part",
                           "n_seeds", "role_gate"]
    sources = (("step-0 gradient", push[push["step"] == 0] if len(push) else push, "push"),
               ("first updates (Adam)",
                updates[updates["kind"] == "update"] if len(updates) else updates, "value"))
    rows = []
    for source, table, value in sources:
        table = _solved(table)
        if table.empty:
            continue
        per_seed = (table.groupby(CELL_KEYS + ["event", "gate", "seed"], sort=True)[value]
                    .sum().reset_index())
        positive = per_seed[value].clip(lower=0)
        total = positive.groupby([per_seed[k] for k in CELL_KEYS + ["event", "seed"]]
                                 ).transform("sum")
        per_seed["part"] = (positive / total).where(total > 0)
        for key, group in per_seed.groupby(CELL_KEYS + ["event", "gate"], sort=True):
            mean, lo, hi = stats.mean_ci(group[value].to_numpy(), settings.confidence)
            role = _roles(key[1]).get(key[3], ("",))[0]
            rows.append({**dict(zip(CELL_KEYS + ["event", "gate"], key, strict=True)),
                         "source": source, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "part": float(group["part"].mean()), "n_seeds": len(group),
                         "role_gate": role == key[4]})
    return pd.DataFrame(rows, columns=columns)



def hold_rows(updates: pd.DataFrame, settings: stats.Settings) -> tuple[pd.DataFrame,
                                                                           list[dict]]:
    """Across hold lengths (tasks `name@H`): per family x arch x event x seed, the slope of the
    first updates' share (Adam) on log H, and a row deciding it against 0 (rival: the push
    toward the role does not depend on the hold length); shown, never counted (no control)."""
    table = update_table(_solved(updates))
    table = table[table["kind"] == "update"] if len(table) else table
    columns = ["family", "arch", "init", "event", "gate", "seed", "hold", "early"]
    if table.empty:
        return pd.DataFrame(columns=columns), []
    parsed = table["task"].map(tasks.hold_of)
    table = table.assign(family=[p[0] for p in parsed], hold=[p[1] for p in parsed])
    table = table[np.isfinite(table["hold"])]
    rows = []
    for (family, arch, init, event, gate), group in table.groupby(
            ["family", "arch", "init", "event", "gate"], sort=True):
        if group["hold"].nunique() < 2:
            continue
        slopes = {}
        for seed, own in group.groupby("seed"):
            own = own[np.isfinite(own["early"].astype(float))]
            if own["hold"].nunique() >= 2:
                slopes[seed] = float(np.polyfit(np.log(own["hold"]), own["early"], 1)[0])
        rows.append(stats.reference_row(
            pd.Series(slopes, dtype=float), 0.0, +1, settings,
            why="the per-seed slope on log H vs 0 (no step-0 version)", claim=CLAIM,
            evidence="the early push across hold lengths", task=f"{family}@H", arch=arch,
            init=init, rival="the push toward the role does not depend on the hold length",
            prediction=(f"the first updates push {gate} at {PLURAL[event]} more, the longer "
                        f"the hold"),
            note="shown, not counted: no negative control"))
    return table[columns], rows


def aggregate(tables, runs, settings, stats_settings: stats.Settings
              ) -> dict[str, pd.DataFrame]:
    verdicts = c7_verdicts(tables, stats_settings, settings.n_shuffles, settings.early_steps)
    controls = {name: tables.get(f"control_{name}", tables[name].iloc[:0])
                for name in ("push", "updates")}
    both = {name: pd.concat([tables[name], controls[name]], ignore_index=True)
            for name in ("push", "updates")}
    return {"push": both["push"], "updates": both["updates"],
            "units": unit_prediction(_solved(tables["units"]), settings.n_shuffles),
            "fate": gate_prediction(_solved(tables["updates"]), _solved(tables["push"]),
                                    _solved(tables["outcome"])),
            "replay": pd.concat([tables["replay"], tables.get("control_replay",
                                                              tables["replay"].iloc[:0])],
                                ignore_index=True),
            "controls": where_the_push_goes(both["push"], both["updates"], stats_settings),
            "holds": hold_rows(tables["updates"], stats_settings)[0],
            "by_step": push_by_step(tables["push"], stats_settings),
            "c7": verdicts}

