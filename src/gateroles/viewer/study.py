"""The study's viewer: every shown model's gates on a few held-out sequences (`viewer`).

One job reads the checkpoints, from which it makes each shown model's gate file in turn, read
and removed before the next (`extraction.extract_run`: the sequences, their events, and every
unit's sort scores over all extracted sequences; the workflow's gate files are temporary, and
reading them would keep every shown cell's on disk until the end of the study), and draws the
runs
(`interventions.forward` on the shown sequences at each chosen checkpoint, and the C3
perturbations, built by `causal.measure.conditions` as the causal analysis builds them), and
the per-cell C3 tables for the perturbations' scores over the study's sequences.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from gateroles import interventions, storage
from gateroles.analyses.causal import CLAMP, EVENT, INTERCHANGE, measured_roles
from gateroles.analyses.causal.measure import Data, as_plain_cell, conditions, event_response
from gateroles.analyses.roles.measure import memory_score, memory_state
from gateroles.architectures import spec
from gateroles.extraction import extract_run
from gateroles.gatefile import GateFile
from gateroles.models import models_from_payload
from gateroles.study import Run
from gateroles.viewer import Settings
from gateroles.viewer.page import Builder, plain

CONDITION_WORDS = {EVENT: "at every {event} event",
                   "lag-matched quiet": "at quiet steps lag-matched to the {event} events"}


def choose_sequences(factors: dict, meta: dict, mask: np.ndarray, n: int) -> np.ndarray:
    """The `n` sequences to show (indices, sorted): those where the most kinds of thing happen
    (each event role, each behaviour scored, each context: e.g. a RESET that erases and one on
    an empty memory), ties to the earlier sequence. Depends only on the data, so every model
    of one task and seed shows the same sequences."""
    marks = [factors[f] for f in meta["events"].values()]
    marks += [np.asarray(factors[f]) & mask for f in meta.get("behaviours", {}).values()]
    marks += [factors[f] for pair in meta.get("contexts", {}).values() for f in pair]
    kinds = (np.sum([np.asarray(m).astype(bool).any(axis=1) for m in marks], axis=0)
             if marks else np.zeros(mask.shape[0]))
    order = np.lexsort((np.arange(mask.shape[0]), -kinds))
    return np.sort(order[:n])


def token_labels(meta: dict, tokens: np.ndarray, inputs: np.ndarray, factors: dict
                 ) -> list[list[str]]:
    """Short labels of the input tokens, `[n][T]`: S<value> store, R reset, Q query, A arm,
    T target, a middle dot for a distractor; adding: the value (marked ones are the task's
    store events); charlm: the character."""
    task = meta["task"]
    n, t_len = tokens.shape
    if task == "adding":
        return [[f"{v:.2f}".lstrip("0") for v in row] for row in inputs[..., 0]]
    if task == "charlm":
        from gateroles.tasks import CHARLM_VOCAB

        shown = {"\n": "⏎", "\t": "⇥", " ": "␣"}
        return [[shown.get(CHARLM_VOCAB[t], CHARLM_VOCAB[t]) if t < len(CHARLM_VOCAB) else "?"
                 for t in row] for row in tokens]
    names = {"is_store": None, "is_reset": "R", "is_query": "Q", "is_arm": "A",
             "is_target": "T"}
    labels = np.full((n, t_len), "·", dtype=object)
    for factor, word in names.items():
        if factor in factors:
            at = np.asarray(factors[factor]).astype(bool)
            labels[at] = [f"S{t}" for t in tokens[at]] if word is None else word
    return labels.tolist()


def class_names(meta: dict) -> list[str] | None:
    """The target classes' names (memory tasks: the values, then ∅ for EMPTY), or None."""
    if meta["kind"] != "classification":
        return None
    names = [str(k) for k in range(int(meta["n_outputs"]))]
    if meta.get("memory") == "memory":
        names[-1] = "∅"
    return names


def checkpoint_choice(steps: list[int], n: int) -> list[int]:
    """Step 0, the last step and evenly spaced checkpoints between, `n` in all (or every one)."""
    steps = sorted(steps)
    if n >= len(steps):
        return steps
    if n == 1:
        return [steps[-1]]
    picks = np.unique(np.rint(np.linspace(0, len(steps) - 1, n)).astype(int))
    return [steps[k] for k in picks]


def predictions(outputs: np.ndarray, mask: np.ndarray, kind: str) -> list[list]:
    """Per sequence the model's answer at each scored step (a class, or the regression value)."""
    values = outputs.argmax(-1) if kind == "classification" else outputs[..., 0]
    return [plain(values[k][mask[k]]) for k in range(mask.shape[0])]


def sort_scores(builder: Builder, gates: dict, arch: str, factors: dict, meta: dict) -> dict:
    """Per-unit sort scores over every extracted sequence at one checkpoint: `memory` (eta
    squared of the memory state by the task's memory variable) and `response` (role -> array ->
    |mean at the role's events - mean elsewhere|), each `Builder.score`."""
    scores = {}
    memory = meta.get("memory")
    if memory in factors and spec(arch).cell in ("lstm", "gru", "rnn"):
        scores["memory"] = builder.score(memory_score(memory_state(gates, arch),
                                                      factors[memory]))
    response = {}
    for role, factor in meta["events"].items():
        events = np.asarray(factors[factor]).astype(bool)
        if events.any() and (~events).any():
            response[role] = {name: builder.score(event_response(values, events))
                              for name, values in gates.items()}
    scores["response"] = response
    return scores


def _study_scores(matrix: pd.DataFrame | None, seed: int, step: int) -> dict:
    """(intervention, gate, event, condition, behaviour) -> the C3 table's row of this model."""
    if matrix is None or matrix.empty:
        return {}
    rows = matrix[(matrix["seed"] == seed) & (matrix["step"] == step)]
    keys = ["intervention", "gate", "event", "condition", "behaviour"]
    return {tuple(r[k] for k in keys): r for _, r in rows.iterrows()}


def _label(c: dict, arch: str) -> str:
    where = CONDITION_WORDS.get(c["condition"], c["condition"]).format(event=c["event"])
    if c["intervention"] == CLAMP:
        return f"{c['gate']} clamped to {c['value']:g} {where} (role-off clamp, sanity check)"
    if c["intervention"] == INTERCHANGE:
        what = "control" if c["condition"] != EVENT else "matched interchange"
        return (f"{c['gate']} {where} replaced by its own value at the nearest quiet step "
                f"({what})")
    return f"{c['intervention']} {c['gate']} {where}"


def _scores(data: Data, c: dict, base: np.ndarray, errors: np.ndarray, n: int,
            study: dict) -> list[dict]:
    """Per behaviour the score before and after the perturbation: per shown sequence, over
    the shown sequences, and over the study's sequences (the C3 table)."""
    out = []
    for behaviour in c["behaviours"]:
        scored = data.behaviours[behaviour][:n]
        per_seq = []
        for k in range(n):
            here = scored[k]
            per_seq.append([data.score(base[k][here].mean()), data.score(errors[k][here].mean())]
                           if here.any() else None)
        row = study.get((c["intervention"], c["gate"], c["event"], c["condition"], behaviour))
        out.append({"behaviour": behaviour, "metric": data.metric,
                    "seqs": [plain(p) if p is not None else None for p in per_seq],
                    "shown": plain([data.score(base[:n][scored].mean()),
                                    data.score(errors[:n][scored].mean())])
                    if scored.any() else None,
                    "study": None if row is None else plain(
                        [row["base_score"], row["score"], row["n_scored"]])})
    return out


def perturbed_runs(model, data: Data, arch: str, n: int) -> tuple[list[dict], list[dict]]:
    """The C3 perturbations of `model` (`causal.measure.conditions`, every role `arch` has,
    the sanity clamps included) on `data`'s sequences: (conditions, runs), each run
    `interventions.forward` on the same batch as the free run (so both agree exactly before
    the first perturbed step), kept for the first `n` sequences."""
    runner = as_plain_cell(model)
    free = interventions.forward(runner, data.inputs)
    found = conditions(data, arch, measured_roles(arch, False), free, sanity=True)
    runs = [interventions.forward(runner, data.inputs, c["clamp"]) if c["clamp"] else free
            for c in found]
    return found, [{k: v[:n] for k, v in r.items()} for r in runs]


def add_model(builder: Builder, run: Run, gates: GateFile, payload: dict, rows: np.ndarray,
              seqs: str, settings: Settings, perturb: bool, matrix: pd.DataFrame | None,
              note: str) -> None:
    """One model's runs (every chosen checkpoint) and, with `perturb`, its C3 perturbations at
    the last checkpoint."""
    models = models_from_payload(payload)
    names = list(spec(run.arch).outputs)
    entry = builder.model(run.columns, seqs, run.arch, names, payload["meta"]["hidden_size"],
                          note)
    meta, factors = gates.meta, gates.factors
    data = Data(gates.inputs[rows], gates.targets[rows], gates.mask[rows],
                {k: v[rows] for k, v in factors.items()}, meta)
    n_perturbed = min(settings.perturbed_sequences, len(rows))
    for step in checkpoint_choice([s for s in gates.steps if s in models], settings.checkpoints):
        free = interventions.forward(models[step], data.inputs)
        found, perturbed = ([], [])
        if perturb and step == gates.final_step and n_perturbed:
            found, perturbed = perturbed_runs(models[step], data, run.arch, n_perturbed)
        label = f"step {step}" + (" (initial)" if step == 0 else
                                  " (last)" if step == gates.final_step else "")
        entry["runs"].append(builder.run(
            label, {name: free[name] for name in names}, run.arch, step=step,
            perturbed=perturbed, outputs=predictions(free["outputs"], data.mask, data.kind),
            scores=sort_scores(builder, gates.gates(step), run.arch, factors, meta)))
        if not found:
            continue
        free_run = entry["runs"][-1]
        base = data.errors(free["outputs"])
        study = _study_scores(matrix, run.seed, step)
        for c, out in zip(found, perturbed, strict=True):
            where = c["where"][:n_perturbed]
            source = np.broadcast_to(data.source[:n_perturbed], where.shape)
            builder.perturbation(
                free_run, {name: out[name] for name in names}, names,
                label=_label(c, run.arch), intervention=c["intervention"], gate=c["gate"],
                event=c["event"], condition=c["condition"],
                value=None if not np.isfinite(c["value"]) else float(c["value"]),
                size=None if not np.isfinite(c["size"]) else float(f"{c['size']:.4g}"),
                changes=c["clamp"] is not None,
                where=[np.flatnonzero(w).tolist() for w in where],
                source=([source[k][where[k]].tolist() for k in range(n_perturbed)]
                        if c["intervention"] == INTERCHANGE else None),
                out=predictions(out["outputs"], data.mask[:n_perturbed], data.kind),
                scores=_scores(data, c, base, data.errors(out["outputs"][:n_perturbed],
                                                          slice(0, n_perturbed)),
                               n_perturbed, study))


def _note(runs_table: pd.DataFrame | None, run: Run) -> str:
    """'solved, test accuracy 1.000' from the runs table."""
    if runs_table is None:
        return ""
    hit = runs_table[(runs_table["task"] == run.task) & (runs_table["arch"] == run.arch)
                     & (runs_table["init"] == run.init) & (runs_table["seed"] == run.seed)]
    if hit.empty:
        return ""
    r = hit.iloc[0]
    return (f"{'solved' if bool(r['solved']) else 'not solved'}, test {r['metric']} "
            f"{float(r['test_score']):.3f}")


def build(config: dict, models: list[dict], runs_table: str | None = None,
          scratch: str | None = None) -> dict:
    """The page's data for `models` (dicts: `run`, its `checkpoints` path, `perturb`,
    `causal`: the cell's C3 matrix table or None), in order; `config` has the sections the
    gate files are made with (`data`, `task_params`, `extraction`), one at a time in a
    temporary folder in `scratch` (the system's by default)."""
    settings = Settings.from_config(config)
    table = storage.read_csv(runs_table) if runs_table else None
    builder = Builder("Every gate on held-out sequences",
                      "the study's models, step 0 against trained, free against perturbed",
                      dims=["task", "arch", "init", "seed"], report="report.html",
                      notes=notes(config, settings))
    matrices: dict[str, pd.DataFrame] = {}
    chosen: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
    for m in models:
        with tempfile.TemporaryDirectory(prefix=".viewer-gates-", dir=scratch) as folder:
            path = str(Path(folder) / "gates.npz")
            extract_run(config, m["run"], checkpoints_path=m["checkpoints"], gates_path=path,
                        logits=False)
            _add(builder, m, GateFile(path), chosen, matrices, settings, table)
    return builder.finish()


def _add(builder: Builder, m: dict, gates: GateFile, chosen: dict, matrices: dict,
         settings: Settings, table: pd.DataFrame | None) -> None:
    """One model of `build` (`chosen`: the sequences shown per task and seed so far;
    `matrices`: the C3 tables read so far)."""
    run: Run = m["run"]
    key = (run.task, run.seed)
    if key not in chosen:
        rows = choose_sequences(gates.factors, gates.meta, gates.mask, settings.sequences)
        chosen[key] = rows, gates.tokens[rows]
        meta = gates.meta
        factors = {k: v[rows] for k, v in gates.factors.items()}
        builder.sequences(
            f"{run.task}/seed{run.seed}", label=f"{run.task}, seed {run.seed}",
            tokens=token_labels(meta, gates.tokens[rows], gates.inputs[rows], factors),
            events={role: factors[f] for role, f in meta["events"].items()},
            mask=gates.mask[rows], targets=gates.targets[rows],
            behaviours={b: np.asarray(factors[f]).astype(bool)
                        for b, f in meta.get("behaviours", {}).items()},
            classes=class_names(meta))
    rows, tokens = chosen[key]
    if not np.array_equal(gates.tokens[rows], tokens):
        raise ValueError(f"viewer: {m['checkpoints']} gives other sequences than the other "
                         f"models of {run.task}, seed {run.seed}")
    matrix = None
    if m.get("causal"):
        matrix = matrices.setdefault(m["causal"], storage.read_csv(m["causal"]))
    add_model(builder, run, gates, storage.load_torch(m["checkpoints"]), rows,
              f"{run.task}/seed{run.seed}", settings, bool(m.get("perturb")), matrix,
              _note(table, run))


def notes(config: dict, settings: Settings) -> list[str]:
    """What the page carries, in words (generated from the config)."""
    seeds = config["study"]["seeds"]
    main = ("every seed" if settings.seeds is None or settings.seeds >= len(seeds)
            else f"the first {settings.seeds} seeds")
    return [f"{settings.sequences} held-out sequences per task and seed (the same for every "
            f"architecture), {settings.checkpoints} checkpoints per model (step 0, the last "
            f"and evenly spaced ones between); {main} of the main grid, the first "
            f"{min(settings.other_seeds, len(seeds))} of the other cells (variants, negative "
            f"controls).",
            f"The C3 perturbations: the main grid's models at their last checkpoint, on the "
            f"first {settings.perturbed_sequences} shown sequence(s) of each task and seed; "
            f"'over the study' = the C3 table's score on every extracted sequence.",
            "Values are stored as 8-bit codes: gates in steps of 0.004, candidates and hidden "
            "states of 0.008, the cell of 1/255 of its largest |value|."]


def write(config: dict, models: list[dict], runs_table: str | None, path: str) -> None:
    """The workflow's `viewer` job."""
    from gateroles.viewer import page

    page.write(build(config, models, runs_table, scratch=str(Path(path).parent)), path)
