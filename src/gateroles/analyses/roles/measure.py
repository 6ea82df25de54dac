"""C1 per checkpoint: who does the extra erasure at resets and who selects the write at stores
(shares in [0, 1], in the memory-carrying units), and the diagnostic context contrast."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles.analyses.roles import Settings
from gateroles.architectures import ROLE_GATES, SPECS
from gateroles.gatefile import with_held
from gateroles.study import Run


def previous(state: np.ndarray) -> np.ndarray:
    """`[N, T, H]` state at t-1 (zero before the first step)."""
    out = np.zeros_like(state)
    out[:, 1:] = state[:, :-1]
    return out


def change_terms(gates: dict[str, np.ndarray], arch: str, previous_state: np.ndarray | None = None
                 ) -> dict[str, np.ndarray]:
    """The two terms of each step's state change, `[N, T, H]` float64 each, and the state
    before the step (`previous`: `previous_state` when given, e.g. a lens's record of a model
    that starts from its own state, else the state one step back, 0 before the first step).

    LSTM family: `erase` = (f - 1) c_{t-1} (the forget term), `write` = i g (the input term);
    a gate the variant lacks is 1. GRU: `erase` = -(1 - z) h_{t-1}, `write` = (1 - z) n. The
    two add up to the state change exactly (tested).
    """
    spec = SPECS[arch]
    if spec.cell == "lstm":
        prev = (previous(gates["cell"].astype(np.float64)) if previous_state is None
                else np.asarray(previous_state, dtype=np.float64))
        f = gates["forget"].astype(np.float64) if "forget" in spec.gates else 1.0
        i = gates["input"].astype(np.float64) if "input" in spec.gates else 1.0
        return {"erase": (f - 1.0) * prev,
                "write": i * gates["cell_candidate"].astype(np.float64), "previous": prev}
    if spec.cell == "gru":
        prev = (previous(gates["hidden"].astype(np.float64)) if previous_state is None
                else np.asarray(previous_state, dtype=np.float64))
        keep = 1.0 - gates["update"].astype(np.float64)
        return {"erase": -keep * prev, "write": keep * gates["candidate"].astype(np.float64),
                "previous": prev}
    return {}


def erasure(terms: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """How much each term shrinks |state| (the erasure it does), per step and unit: the erase
    term always opposes the previous state (|erase| = (1 - f)|c_{t-1}|); the write term only
    where it points against it, at most the previous state's size."""
    prev = terms["previous"]
    against = np.maximum(0.0, -np.sign(prev) * terms["write"])
    return {"erase": np.abs(terms["erase"]), "write": np.minimum(against, np.abs(prev))}


def memory_state(gates: dict[str, np.ndarray], arch: str) -> np.ndarray:
    """The state the attribution splits: the cell (LSTM family) or the hidden state."""
    return gates["cell" if SPECS[arch].cell == "lstm" else "hidden"]


def memory_score(state: np.ndarray, memory: np.ndarray) -> np.ndarray:
    """Per unit `[H]`: how well its state carries the memory variable, the share of its
    variance explained by the variable (eta squared over its values; squared correlation for a
    continuous one); 0 for a unit that never varies."""
    x = state.reshape(-1, state.shape[-1]).astype(np.float64)
    m = memory.reshape(-1)
    total = x.var(axis=0)
    if np.issubdtype(m.dtype, np.integer):
        values, codes = np.unique(m, return_inverse=True)
        counts = np.bincount(codes, minlength=len(values))
        means = np.zeros((len(values), x.shape[1]))
        np.add.at(means, codes, x)
        means /= counts[:, None]
        explained = (counts[:, None] * (means - x.mean(axis=0)) ** 2).sum(axis=0) / len(m)
    else:
        centred = m - m.mean()
        cov = centred @ (x - x.mean(axis=0)) / len(m)
        explained = cov ** 2 / max(centred.var(), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, explained / total, 0.0)


def memory_units(state: np.ndarray, memory: np.ndarray, share: float) -> np.ndarray:
    """Indices of the units whose state carries the memory variable best (`memory_score`),
    the top `share` of the units (at least one)."""
    eta2 = memory_score(state, memory)
    k = max(1, int(round(share * eta2.size)))
    return np.argsort(-eta2, kind="stable")[:k]


def _positive(x: float) -> float:
    return max(float(x), 0.0) if np.isfinite(x) else 0.0


def share_of(own: float, other: float) -> float:
    """own+ / (own+ + other+) in [0, 1] (x+ = max(x, 0)); NaN when neither is positive."""
    a, b = _positive(own), _positive(other)
    return a / (a + b) if a + b > 0 else np.nan


def erasure_share(terms: dict[str, np.ndarray], at: np.ndarray, quiet: np.ndarray) -> dict:
    """Who does the extra erasure at the event steps `at` (`[N, T]`), against `quiet` steps.

    Per term, the fraction of |state| it removes on a set of steps, sum(erased) / sum(|state
    before|) (`erasure`: the erase term always shrinks the state, the write term where it
    points against it); its *excess* at the event = that fraction at `at` minus at `quiet`
    (how much more it erases there than it always does); `share` = the forget (erase) term's
    share of the positive excesses, in [0, 1]: 1 when the forget term alone does the extra
    erasing, 0 when the input term does, NaN when nothing erases more at the event.
    """
    size = np.abs(terms["previous"])
    erased = erasure(terms)
    at, quiet = (np.broadcast_to(m[..., None], size.shape) for m in (at, quiet))

    def rate(part, where):
        total = size[where].sum()
        return part[where].sum() / total if total > 0 else np.nan

    excess = {name: rate(erased[name], at) - rate(erased[name], quiet)
              for name in ("erase", "write")}
    return {"own_excess": float(excess["erase"]), "other_excess": float(excess["write"]),
            "share": share_of(excess["erase"], excess["write"])}


def write_selectivity_share(gate: np.ndarray, candidate: np.ndarray, at: np.ndarray,
                            quiet: np.ndarray) -> dict:
    """How much of the write's selectivity for the event steps `at` the input gate provides.

    The write i * g is larger at stores than at quiet steps through two factors:
    `own_excess` = log(mean i at the event / mean i at quiet steps) (the gate opening) and
    `other_excess` = log(mean |g| at the event / at quiet steps) (the candidate alone);
    `share` = the gate's share of the positive ones, in [0, 1] (1: the gate alone selects
    when to write; 0: the candidate does; NaN: neither is larger at the event). A gate held
    constant (a negative control) has own_excess 0 exactly.
    """
    g = np.abs(np.asarray(candidate, dtype=np.float64))
    i = np.asarray(gate, dtype=np.float64)
    at, quiet = (np.broadcast_to(m[..., None], g.shape) for m in (at, quiet))

    def log_ratio(x):
        a, b = x[at].mean(), x[quiet].mean()
        return float(np.log(a / b)) if a > 0 and b > 0 else np.nan

    own, other = log_ratio(np.broadcast_to(i, g.shape)), log_ratio(g)
    return {"own_excess": own, "other_excess": other, "share": share_of(own, other)}


def quiet_steps(factors: dict[str, np.ndarray], meta: dict) -> np.ndarray:
    """`[N, T]` steps with no event of any role and no context token."""
    marks = [factors[f] for f in meta["events"].values()]
    marks += [factors[f] for pair in meta.get("contexts", {}).values() for f in pair]
    return ~np.any(np.asarray(marks, dtype=bool), axis=0) if marks else \
        np.ones(next(iter(factors.values())).shape, dtype=bool)


# Which gate's term each role's share measures (LSTM family): resets -> the forget term's
# share of the extra erasure; stores -> the input gate's share of the write's selectivity.
SHARES = {"reset": ("forget", "the input term"), "store": ("input", "the candidate")}


def share_rows(gates: dict[str, np.ndarray], factors: dict[str, np.ndarray], meta: dict,
               arch: str, share: float) -> list[dict]:
    """The C1 attribution shares of one checkpoint, in the memory-carrying units (chosen on
    the even-numbered sequences, measured on the odd ones): at resets, the forget term's
    share of the extra erasure (`erasure_share`); at stores, the input gate's share of the
    write's selectivity (`write_selectivity_share`). LSTM family only (the GRU's erasing and
    writing parts are both gated by z: no gate-vs-gate split). `gates` must hold the removed
    gates as their constant (`gatefile.with_held`)."""
    memory = meta.get("memory")
    if SPECS[arch].cell != "lstm" or memory not in factors:
        return []
    select, measure = slice(0, None, 2), slice(1, None, 2)
    units = memory_units(memory_state(gates, arch)[select], factors[memory][select], share)
    quiet = quiet_steps(factors, meta)[measure]
    rows = []
    for role, (gate, other) in SHARES.items():
        factor = meta["events"].get(role)
        if factor is None:
            continue
        at = factors[factor][measure].astype(bool)
        if not at.any() or not quiet.any():
            continue
        if role == "reset":
            terms = {name: value[measure][..., units]
                     for name, value in change_terms(gates, arch).items()}
            result = erasure_share(terms, at, quiet)
        else:
            result = write_selectivity_share(gates[gate][measure][..., units],
                                             gates["cell_candidate"][measure][..., units],
                                             at, quiet)
        rows.append({"event": role, "gate": gate, "other": other, **result,
                     "n_events": int(at.sum()), "n_units": len(units)})
    return rows


def memory_context_rows(gates: dict[str, np.ndarray], factors: dict[str, np.ndarray],
                        meta: dict, arch: str, task: str, share: float) -> list[dict]:
    """The diagnostic context contrast (`tasks.ROLE_CONTEXTS`): the role gate's mean
    activation, over the memory-carrying units (chosen on the even sequences), where its token
    must act against the same token where it must not, on the odd sequences."""
    from gateroles.tasks import ROLE_CONTEXTS

    memory = meta.get("memory")
    if memory not in factors:
        return []
    roles = ROLE_GATES[arch] | {event: pair for event, pair in ROLE_GATES[SPECS[arch].cell]
                                .items() if pair[0] in SPECS[arch].held}
    select, measure = slice(0, None, 2), slice(1, None, 2)
    units = memory_units(memory_state(gates, arch)[select], factors[memory][select], share)
    rows = []
    for role, (acting, inert) in ROLE_CONTEXTS.get(task, {}).items():
        if role not in roles:
            continue
        gate = roles[role][0]
        mean = np.asarray(gates[gate][measure][..., units], dtype=np.float64).mean(axis=-1)
        at_acting = factors[acting][measure].astype(bool)
        at_inert = factors[inert][measure].astype(bool)
        if not at_acting.any() or not at_inert.any():
            continue
        rows.append({"event": role, "gate": gate, "acting": float(mean[at_acting].mean()),
                     "inert": float(mean[at_inert].mean()),
                     "difference": float(mean[at_acting].mean() - mean[at_inert].mean()),
                     "n_acting": int(at_acting.sum()), "n_inert": int(at_inert.sum()),
                     "n_units": len(units)})
    return rows


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`shares` and `context` rows of every checkpoint (with `step`, `final_step`); a removed
    gate is measured as the constant it is (`gatefile.with_held`), so a negative control's
    rows are those of the gate it holds."""
    gates = inputs.gates
    factors, meta = gates.factors, gates.meta
    shares, context = [], []
    for step in gates.steps:
        acts = with_held(gates.gates(step), run.arch)
        shares += [{**r, "step": step} for r in share_rows(
            acts, factors, meta, run.arch, settings.memory_units)]
        context += [{**r, "step": step} for r in memory_context_rows(
            acts, factors, meta, run.arch, run.task, settings.memory_units)]
    columns = {"shares": ["event", "gate", "other", "own_excess", "other_excess", "share",
                          "n_events", "n_units", "step"],
               "context": ["event", "gate", "acting", "inert", "difference", "n_acting",
                           "n_inert", "n_units", "step"]}
    tables = {"shares": shares, "context": context}
    return {name: pd.DataFrame(rows, columns=columns[name]).assign(final_step=gates.final_step)
            for name, rows in tables.items()}
