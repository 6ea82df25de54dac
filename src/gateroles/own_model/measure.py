"""The role analyses of one user model (see the package docstring): tables from the model.

Every function takes what the lens recorded (`cache`: hook point -> `[N, T, X]`), the event
masks `{name: [N, T] bool}` and the quiet steps `[N, T]` (valid steps with no event), and
returns a tidy table; `measure(settings)` loads the files, runs the model and returns them all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from gateroles import gates, stats
from gateroles.analyses.roles.measure import change_terms
from gateroles.architectures import spec
from gateroles.lens import Lens, hook_name
from gateroles.own_model import Settings, import_object, load_arrays, load_model

RESPONSES = {stats.SUPPORTED: "rises", stats.CONTRADICTED: "drops",
             stats.INCONCLUSIVE: "no change shown", stats.INSUFFICIENT: "too few sequences",
             stats.UNTESTABLE: "does not move at all"}


def gate_points(lens: Lens, path: str) -> list[tuple[str, str]]:
    """(hook point, gate) for every gate of every layer and direction of submodule `path`."""
    module = lens.modules[path]
    rec, arch = gates.describe(module), gates.architecture(module)
    return [(hook_name(path, k, d, gate), gate) for k in range(rec.num_layers)
            for d in range(rec.directions) for gate in spec(arch).gates]


def state_points(lens: Lens, path: str) -> list[str]:
    """The hook point prefixes `<path>.l<k>.<dir>` of submodule `path`."""
    rec = gates.describe(lens.modules[path])
    return [hook_name(path, k, d, "")[:-1] for k in range(rec.num_layers)
            for d in range(rec.directions)]


def per_sequence_contrast(values: np.ndarray, at: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """`[N, T, X]` values -> `[N, X]`: each sequence's mean at `at` minus its mean at `rest`
    (`[N, T]` bool); NaN for a sequence lacking either kind of step."""
    at, rest = at.astype(np.float64), rest.astype(np.float64)
    n_at, n_rest = at.sum(1), rest.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_at = np.einsum("nt,ntx->nx", at, values) / n_at[:, None]
        mean_rest = np.einsum("nt,ntx->nx", rest, values) / n_rest[:, None]
    diff = mean_at - mean_rest
    diff[(n_at == 0) | (n_rest == 0)] = np.nan
    return diff


def _verdict_rows(values: np.ndarray, settings: stats.Settings) -> pd.DataFrame:
    """One row per row of `values` (`[rows, sequences]`, NaN = no value): the t-interval over
    sequences and the verdict that the mean is above zero (`supported`) or below it
    (`contradicted`), before Holm."""
    s = stats.t_summary(values, settings.confidence)
    verdicts = stats.directional_verdicts(values, +1, confidence=settings.confidence,
                                          min_seeds=settings.min_seeds)
    return pd.DataFrame({"n_sequences": s["n"].astype(int), "mean": s["mean"],
                         "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                         "cohens_dz": s["cohens_dz"], "p_value": s["p_greater"],
                         "p_opposite": s["p_less"], "verdict": verdicts})


def event_locking(cache, points: list[tuple[str, str]], events: dict, quiet: np.ndarray,
                  valid: np.ndarray, settings: Settings
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(`event_units`, `event_population`, `event_aligned`).

    Per gate (hook point) x event: each sequence's mean activation at the event's steps minus
    at its quiet steps, per unit (`event_units`, Holm across the units of one gate x event) and
    averaged over units (`event_population`, Holm across the gate x event rows, with the share
    of units that rise and drop); `event_aligned`: the mean over units aligned on the event,
    offsets -window..window, mean and t-interval over sequences.
    """
    st = settings.stats
    units, population, aligned = [], [], []
    for name, gate in points:
        act = cache[name].numpy().astype(np.float64)
        for event, mask in events.items():
            diff = per_sequence_contrast(act, mask & valid, quiet)  # [N, H]
            rows = _verdict_rows(diff.T, st).assign(point=name, gate=gate, event=event,
                                                    unit=np.arange(diff.shape[1]))
            rows = stats.adjust_verdicts(rows, st.confidence)
            units.append(rows)
            population.append(_verdict_rows(diff.mean(axis=1)[None], st).assign(
                point=name, gate=gate, event=event,
                share_rising=float((rows["verdict"] == stats.SUPPORTED).mean()),
                share_dropping=float((rows["verdict"] == stats.CONTRADICTED).mean())))
            aligned.append(_aligned(act.mean(axis=2), mask & valid, valid, settings).assign(
                point=name, gate=gate, event=event))
    units = pd.concat(units, ignore_index=True)
    population = stats.adjust_verdicts(pd.concat(population, ignore_index=True),
                                       st.confidence)
    for table in (units, population):
        table["response"] = table["verdict"].map(RESPONSES)
    first = ["point", "gate", "event"]
    return (_order(units, first + ["unit"]), _order(population, first),
            _order(pd.concat(aligned, ignore_index=True), first))


def _order(table: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    return table[first + [c for c in table.columns if c not in first]]


def _aligned(signal: np.ndarray, at: np.ndarray, valid: np.ndarray, settings: Settings
             ) -> pd.DataFrame:
    """`signal [N, T]` around the steps `at`: per offset, each sequence's mean over its
    events, then the mean and t-interval over sequences."""
    n, t_len = signal.shape
    rows = []
    for offset in range(-settings.window, settings.window + 1):
        shifted = np.full((n, t_len), np.nan)
        source = slice(max(0, offset), t_len + min(0, offset))
        target = slice(max(0, -offset), t_len - max(0, offset))
        shifted[:, target] = np.where(valid[:, source], signal[:, source], np.nan)
        with np.errstate(invalid="ignore"):
            here = np.where(at, shifted, np.nan)
            counts = np.isfinite(here).sum(1)
            per_sequence = np.where(counts > 0, np.nansum(here, 1) / np.maximum(counts, 1),
                                    np.nan)
        s = stats.t_summary(per_sequence, settings.confidence)
        rows.append({"offset": offset, "mean": float(s["mean"]), "ci_low": float(s["ci_low"]),
                     "ci_high": float(s["ci_high"]), "n_sequences": int(s["n"])})
    return pd.DataFrame(rows)


def matched_quiet(events: np.ndarray, quiet: np.ndarray, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The interchanges of one event: (event steps, their donors, control steps, their
    donors), each `[N, T]`: a donor array holds, at each step it replaces, the step whose
    activation replaces it (-1 elsewhere).

    In each sequence every event step takes a quiet step of the same sequence as its donor
    (drawn without replacement while the sequence has enough, then again); the control
    replaces as many quiet steps (at most all of them), each by another quiet step where the
    sequence has one. A sequence without quiet steps gets no interchange.
    """
    n, t_len = events.shape
    donors, control, control_donors = (np.full((n, t_len), -1) for _ in range(3))
    at = events & False
    for k in range(n):
        steps, calm = np.flatnonzero(events[k]), np.flatnonzero(quiet[k])
        if not len(steps) or not len(calm):
            continue
        at[k, steps] = True
        donors[k, steps] = _draw(calm, len(steps), rng)
        targets = rng.permutation(calm)[:len(steps)]
        control[k, targets] = 1
        for t in targets:
            others = calm[calm != t]
            control_donors[k, t] = rng.choice(others) if len(others) else t
    return at, donors, control == 1, control_donors


def _draw(pool: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` items of `pool`, without replacement as long as the pool lasts."""
    repeats = -(-count // len(pool))
    return np.concatenate([rng.permutation(pool) for _ in range(repeats)])[:count]


def _interchange(clean: torch.Tensor, where: np.ndarray, donors: np.ndarray):
    """A lens clamp: at `where` (`[N, T]`) each sequence's gate takes its own clean activation
    at the donor step."""
    index = torch.as_tensor(np.where(where, donors, 0))
    value = clean.gather(1, index[..., None].expand(-1, -1, clean.shape[2]))
    return torch.as_tensor(where)[..., None], value


def perturbation(lens: Lens, model_inputs: dict, cache, points: list[tuple[str, str]],
                 events: dict, quiet: np.ndarray, behaviour, clean_scores: dict,
                 settings: Settings) -> pd.DataFrame:
    """The matched perturbation matrix: gate x event x behaviour.

    Per sequence: damage = clean score - score with the interchange at the event's steps,
    minus the same at the matched control (quiet) steps; the verdict says whether the event
    interchange damages the behaviour more than the control (t over sequences, Holm across
    the matrix). `damage_event` and `damage_control` are the two means beside it.
    """
    rng = np.random.default_rng(settings.seed)
    rows = []
    for event, mask in events.items():
        at, donors, control, control_donors = matched_quiet(mask, quiet, rng)
        for name, gate in points:
            clean = cache[name]
            scores = {}
            for condition, where, donor in (("event", at, donors),
                                            ("control", control, control_donors)):
                out = lens.run_with_hooks(**model_inputs, clamps={
                    name: _interchange(clean, where, donor)})
                scores[condition] = _scores(behaviour(out, model_inputs))
            has = at.any(axis=1)
            for b, base in clean_scores.items():
                damage = {c: np.where(has, base - s[b], np.nan) for c, s in scores.items()}
                row = _verdict_rows((damage["event"] - damage["control"])[None],
                                    settings.stats).iloc[0].to_dict()
                rows.append({"point": name, "gate": gate, "event": event, "behaviour": b,
                             "n_interchanged": int(at.sum()),
                             "damage_event": float(np.nanmean(damage["event"])),
                             "damage_control": float(np.nanmean(damage["control"])), **row})
    table = stats.adjust_verdicts(pd.DataFrame(rows), settings.confidence)
    return table


def _scores(scores: dict) -> dict[str, np.ndarray]:
    if not isinstance(scores, dict) or not scores:
        raise TypeError("the behaviour function must return {name: [N] scores}, got "
                        f"{type(scores).__name__}")
    return {name: np.asarray(torch.as_tensor(v).detach(), dtype=np.float64).reshape(-1)
            for name, v in scores.items()}


def attribution(cache, prefixes: list[str], arch: str, events: dict, quiet: np.ndarray,
                valid: np.ndarray, settings: Settings) -> tuple[pd.DataFrame, float]:
    """The erasing term's share of each state change, at each event against quiet steps.

    Per layer x direction (`prefixes`) and event: per sequence, `share = sum |erase| /
    (sum |erase| + sum |write|)` over the event's steps and all units, the same over its quiet
    steps, and their difference (t over sequences, Holm across the rows; `supported` = the
    erasing term's share is higher at the event). Returns the table and the largest
    |erase + write - (state - previous)| seen (the decomposition is exact: ~1e-7).
    """
    state = "cell" if spec(arch).cell == "lstm" else "hidden"
    names = [g for g in spec(arch).gates] + [state]
    rows, worst = [], 0.0
    if spec(arch).cell not in ("lstm", "gru"):
        return pd.DataFrame(rows), worst
    for prefix in prefixes:
        acts = {g: cache[f"{prefix}.{g}"].numpy() for g in names}
        terms = change_terms(acts, arch, cache[f"{prefix}.{state}_previous"].numpy())
        change = acts[state].astype(np.float64) - terms["previous"]
        worst = max(worst, float(np.abs(terms["erase"] + terms["write"] - change).max()))
        size = {k: np.abs(terms[k]).sum(axis=2) for k in ("erase", "write")}  # [N, T]
        for event, mask in events.items():
            shares = {}
            for label, where in (("event", mask & valid), ("quiet", quiet)):
                erase = (size["erase"] * where).sum(1)
                total = erase + (size["write"] * where).sum(1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    shares[label] = np.where(where.any(1) & (total > 0), erase / total, np.nan)
            row = _verdict_rows((shares["event"] - shares["quiet"])[None],
                                settings.stats).iloc[0].to_dict()
            summaries = {label: stats.t_summary(v, settings.confidence)
                         for label, v in shares.items()}
            rows.append({"point": prefix, "event": event, "term": "erase",
                         **{f"share_{label}{key}": float(s[stat]) for label, s in
                            summaries.items() for key, stat in (("", "mean"),
                                                                ("_ci_low", "ci_low"),
                                                                ("_ci_high", "ci_high"))},
                         **row})
    return stats.adjust_verdicts(pd.DataFrame(rows), settings.confidence), worst


def load_events(path: str, shape: tuple[int, int]) -> tuple[dict, np.ndarray]:
    """({event: [N, T] bool}, valid [N, T] bool) from an events file; a clear error when a
    mask is not boolean or not `shape` (the analysed module's N sequences x T steps)."""
    arrays = {name: value.numpy() for name, value in load_arrays(path).items()}
    for name, value in arrays.items():
        if value.dtype != np.bool_ or value.shape != shape:
            raise ValueError(f"{path}: {name!r} is {value.dtype} {list(value.shape)}; every "
                             f"event mask must be boolean [N, T] = {list(shape)} (the "
                             f"sequences x steps of the analysed module)")
    valid = arrays.pop("valid", np.ones(shape, dtype=bool))
    if not arrays:
        raise ValueError(f"{path} has no event mask (only {sorted(arrays) or 'nothing'})")
    return arrays, valid


def measure(settings: Settings) -> dict:
    """Every table of the user model, and a `summary` dict (what was analysed)."""
    model = load_model(settings)
    model_inputs = load_arrays(settings.inputs)
    behaviour = import_object(settings.behaviour)
    lens = Lens(model, settings.module or None)
    if len(lens.modules) != 1:
        raise ValueError(f"the model has recurrent submodules {list(lens.modules)}: name the "
                         f"one to analyse as user_model.module")
    path = next(iter(lens.modules))
    lens = Lens(model, path)
    out, cache = lens.run_with_cache(**model_inputs)
    clean_scores = _scores(behaviour(out, model_inputs))
    points = gate_points(lens, path)
    n, t_len = cache[points[0][0]].shape[:2]
    events, valid = load_events(settings.events, (n, t_len))
    quiet = valid & ~np.any(list(events.values()), axis=0)
    units, population, aligned = event_locking(cache, points, events, quiet, valid, settings)
    matrix = perturbation(lens, model_inputs, cache, points, events, quiet, behaviour,
                          clean_scores, settings)
    arch = gates.architecture(lens.modules[path])
    shares, worst = attribution(cache, state_points(lens, path), arch, events, quiet, valid,
                                settings)
    summary = {"name": settings.name, "factory": settings.factory, "module": path,
               "module_type": type(lens.modules[path]).__name__, "architecture": arch,
               "hook_points": [p for p, _ in points], "n_sequences": int(n), "n_steps": int(t_len),
               "events": {e: int((m & valid).sum()) for e, m in events.items()},
               "quiet_steps": int(quiet.sum()), "valid_steps": int(valid.sum()),
               "behaviours": {b: float(np.nanmean(v)) for b, v in clean_scores.items()},
               "decomposition_error": worst, "confidence": settings.confidence,
               "min_sequences": settings.min_sequences}
    return {"event_units": units, "event_population": population, "event_aligned": aligned,
            "perturbation": matrix, "attribution": shares, "summary": summary}


TABLES = ("event_units", "event_population", "event_aligned", "perturbation", "attribution")


def write(config: dict, outputs: dict) -> None:
    """The workflow's `user_model_measure` job: every table (CSV) and the summary (JSON)."""
    from gateroles import storage

    result = measure(Settings.from_config(config))
    for name in TABLES:
        storage.write_csv(result[name], outputs[name])
    storage.write_json(result["summary"], outputs["summary"])
