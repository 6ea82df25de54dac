"""Gradient norm by lag, path by path, for one model at step 0 and at its last checkpoint: on
the hold intervals (the C6 test) and from scored steps (descriptive).

One backward pass per (condition, total or direct) gives every lag of every pick: a batch row
is one pick (sequence n, step t_n), what is differentiated is the sum over rows of the target's
logit at t_n only (`target_score`), and the gradient with respect to an additive zero offset on
the state at step s of row n is d score_{t_n} / d(state_s) (rows are independent), at lag
t_n - s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from gateroles import interventions
from gateroles.analyses.gradient_flow import (
    ALL_UNITS,
    DIRECT_STATE,
    FLOOR,
    FREE,
    JACOBIAN,
    MEMORY_UNITS,
    Settings,
    keep_gate,
)
from gateroles.architectures import spec
from gateroles.study import Run


def choose_picks(mask: np.ndarray, max_lag: int, per_sequence: int, burn_in: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """(sequence index, scored step) of each batch row, and the largest lag K measured.

    The picks are scored steps t >= K + `burn_in` (so every pick sees every lag 0..K, and no
    state before step `burn_in`, where the sequence is still leaving its zero initial state,
    is measured), up to `per_sequence` distinct ones per sequence, drawn at random.
    K = `max_lag`, lowered when needed to the latest scored step of the data minus the
    burn-in (the burn-in itself lowered to that step when it is earlier).
    """
    scored = np.asarray(mask, dtype=bool)
    if not scored.any():
        raise ValueError("no scored step in the data: no loss to differentiate")
    latest = int(np.flatnonzero(scored.any(axis=0)).max())
    burn_in = min(int(burn_in), latest)
    k = min(int(max_lag), latest - burn_in)
    sequences, steps = [], []
    for n, row in enumerate(scored):
        candidates = np.flatnonzero(row[k + burn_in:]) + k + burn_in
        if candidates.size:
            chosen = np.sort(rng.choice(candidates, size=min(per_sequence, candidates.size),
                                        replace=False))
            sequences += [n] * len(chosen)
            steps += chosen.tolist()
    return np.asarray(sequences, dtype=np.int64), np.asarray(steps, dtype=np.int64), k


def target_score(outputs: torch.Tensor, targets, kind: str) -> torch.Tensor:
    """What is differentiated, summed over rows (`outputs` `[B, n_outputs]`, one step per
    row): the logit of each row's target class (classification), the prediction itself
    (regression). Not the loss: on a trained model it is near zero, and its gradient scales
    with how far from zero it is."""
    if kind == "classification":
        index = torch.as_tensor(np.asarray(targets), dtype=torch.long)[:, None]
        return outputs.gather(1, index).sum()
    return outputs[:, 0].sum()


def lagged(grad: torch.Tensor, steps: np.ndarray, max_lag: int) -> torch.Tensor:
    """`grad` `[B, T, H]` -> `[B, K + 1, H]` whose `[:, k]` is row b's gradient at step t_b - k."""
    index = torch.as_tensor(steps)[:, None] - torch.arange(max_lag + 1)[None, :]
    return grad[torch.arange(grad.shape[0])[:, None], index]


def full_gradients(model: nn.Module, inputs, targets, kind: str, steps: np.ndarray,
                   states: tuple[str, ...], clamp: dict | None = None, detach: bool = False,
                   keep_jacobian: float | None = None) -> dict[str, torch.Tensor]:
    """{state: d score_{t_b} / d(state_s) `[B, T', H]` for every step s <= the latest pick},
    one forward and one backward (`target_score`).

    `inputs` `[B, T, input_size]` and `targets` `[B]` are one row per pick (step `steps[b]`,
    `targets[b]` its target); the sequences are cut after the latest pick. `clamp`, `detach`
    (`detach_recurrent`) and `keep_jacobian` go to the differentiable twin.
    """
    x = torch.as_tensor(np.asarray(inputs)[:, :int(steps.max()) + 1], dtype=torch.float32)
    hidden = model.rnn.hidden_size
    offsets = {s: torch.zeros(x.shape[0], x.shape[1], hidden, requires_grad=True)
               for s in states}
    out = interventions.forward(model, x, clamp, differentiable=True, state_offsets=offsets,
                                detach_recurrent=detach, keep_jacobian=keep_jacobian)
    at_pick = out["outputs"][torch.arange(x.shape[0]), torch.as_tensor(steps)]
    grads = torch.autograd.grad(target_score(at_pick, targets, kind), list(offsets.values()))
    return dict(zip(states, grads, strict=True))


def state_gradients(model: nn.Module, inputs, targets, kind: str, steps: np.ndarray,
                    max_lag: int, states: tuple[str, ...], clamp: dict | None = None,
                    detach: bool = False) -> dict[str, torch.Tensor]:
    """{state: d score_{t_b} / d(state_{t_b - k}) `[B, K + 1, H]`} (`full_gradients` by lag;
    every pick must be at step >= K)."""
    grads = full_gradients(model, inputs, targets, kind, steps, states, clamp, detach)
    return {s: lagged(g, steps, max_lag) for s, g in grads.items()}


def path_gradients(model: nn.Module, arch: str, inputs, targets, kind: str, steps: np.ndarray,
                   max_lag: int, clamp: dict | None = None, direct: bool = True
                   ) -> dict[tuple[str, str], torch.Tensor]:
    """{(state, path): `[B, K + 1, H]`}: every state's total gradient; for the state with a
    direct path (LSTM family: cell; GRU: hidden), unless `direct` is False, also `direct` (h
    detached where it enters a matrix product) and `via_h` = total - direct. Two passes with
    a direct path, else one."""
    s = spec(arch)
    total = state_gradients(model, inputs, targets, kind, steps, max_lag, s.states, clamp)
    out = {(state, "total"): g for state, g in total.items()}
    state = DIRECT_STATE[s.cell]
    if state is not None and direct:
        direct = state_gradients(model, inputs, targets, kind, steps, max_lag, (state,), clamp,
                                 detach=True)[state]
        out[(state, "direct")] = direct
        out[(state, "via_h")] = total[state] - direct
    return out


def by_lag_rows(vectors: dict[tuple[str, str], torch.Tensor]) -> pd.DataFrame:
    """Per (state, path, lag): the mean over picks of the L2 norm over units (`norm`), and
    `share`, the path's part of the squared norms of the state's two paths, sum ||path||^2 /
    sum (||direct||^2 + ||via_h||^2) over picks: in [0, 1], direct + via_h = 1 (1 for the
    total, and for a state measured without its direct path). A share of magnitudes, not a
    projection on the total: where the two paths point against each other and cancel, the
    total is small while each path's share stays what it carries."""
    frames = []
    for (state, path), grad in vectors.items():
        g = grad.double()
        share = np.ones(g.shape[1])
        if path != "total" and (state, "direct") in vectors and (state, "via_h") in vectors:
            energy = {p: (vectors[(state, p)].double() ** 2).sum(dim=(0, 2))
                      for p in ("direct", "via_h")}
            both = (energy["direct"] + energy["via_h"]).numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(both > 0, energy[path].numpy() / both, np.nan)
        norm = g.norm(dim=-1)
        frames.append(pd.DataFrame({
            "state": state, "path": path, "lag": np.arange(g.shape[1]),
            "norm": norm.mean(dim=0).numpy(), "norm_median": norm.median(dim=0).values.numpy(),
            "share": share, "n_picks": g.shape[0]}))
    return pd.concat(frames, ignore_index=True)


def efolding_lag(norms) -> tuple[float, bool]:
    """(e-folding lag, censored) of a mean-norm curve `norms[k]`, k = 0..K.

    The first lag at which the curve falls below `norms[0] / e`, interpolated linearly in log
    norm between that lag and the one before (exact for an exponential: exp(-k / tau) gives
    tau). Never below within K: `(K, True)` (censored: the true value is beyond K, so K is a
    lower bound). A non-positive or missing lag-0 value: NaN.
    """
    x = np.asarray(norms, dtype=float)
    if x.size == 0 or not np.isfinite(x[0]) or x[0] <= 0:
        return np.nan, False
    threshold = x[0] / np.e
    below = np.flatnonzero(x < threshold)
    if below.size == 0:
        return float(x.size - 1), True
    k = int(below[0])
    before, after = x[k - 1], x[k]
    if after <= 0:
        return float(k - 1), False
    fraction = (np.log(before) - np.log(threshold)) / (np.log(before) - np.log(after))
    return float(k - 1 + fraction), False


def efold_rows(by_lag: pd.DataFrame) -> pd.DataFrame:
    """E-folding lag of every (state, path) counted from lag 1 (total, direct; not via_h), with
    its lag-0 norm, the largest lag measured and, for the direct path, `direct_share`: its share
    of the two paths' squared norms (`by_lag_rows`) averaged over lags 1..K, in [0, 1].

    From lag 1, not lag 0: at lag 0 the hidden state reaches the read-out directly, so its
    lag-0 norm is inflated and its e-folding from there is shortened for that reason alone."""
    rows = []
    for (state, path), curve in by_lag.groupby(["state", "path"], sort=False):
        if path == "via_h":
            continue
        curve = curve.sort_values("lag")
        lag, censored = efolding_lag(curve.loc[curve["lag"] >= 1, "norm"].to_numpy())
        share = curve.loc[curve["lag"] > 0, "share"]
        rows.append({"state": state, "path": path, "efold": lag, "censored": censored,
                     "norm_lag0": float(curve["norm"].iloc[0]),
                     "max_lag": int(curve["lag"].max()),
                     "direct_share": float(share.mean()) if path == "direct" and len(share)
                     else np.nan})
    return pd.DataFrame(rows)


def model_tables(model: nn.Module, arch: str, inputs, targets, kind: str, steps: np.ndarray,
                 max_lag: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`by_lag` and `efold` rows of one model from scored steps, gates free (descriptive):
    2 passes with a direct path (the LSTM family, the GRU), 1 for the tanh RNN."""
    rows = by_lag_rows(path_gradients(model, arch, inputs, targets, kind, steps, max_lag))
    return rows.assign(condition=FREE), efold_rows(rows).assign(condition=FREE)


# ----------------------------------------------------------------------- hold intervals

INTERVAL_LAG_COLUMNS = ["step", "kind", "condition", "state", "path", "units", "lag", "norm",
                        "share", "n_picks"]
INTERVAL_STORE_COLUMNS = ["step", "kind", "condition", "state", "path", "units", "log10_store",
                          "log10_lag1", "log10_lag0", "kept_decades", "share_store",
                          "store_lag", "n_picks", "n_units"]
# Lags shown per curve at most (all of them up to this many; evenly spaced beyond).
LAG_POINTS = 41


def interval_picks(factors: dict, events: dict, per_kind: int, rng: np.random.Generator
                   ) -> np.ndarray:
    """`[M, 4]` (sequence, store, query, crosses_erase) of the picked intervals: store-to-query
    intervals (`tasks.hold_intervals`) of the odd-numbered sequences (the even ones choose the
    memory units) with at least one step between store and query (so lag 1 is not the store),
    up to `per_kind` of each kind (keep, erase) at random, in (sequence, query) order."""
    from gateroles.tasks import hold_intervals

    intervals = hold_intervals(factors, events)
    usable = intervals[(intervals[:, 0] % 2 == 1) & (intervals[:, 2] - intervals[:, 1] >= 2)]
    chosen = []
    for crosses in (0, 1):
        rows = np.flatnonzero(usable[:, 3] == crosses)
        if rows.size:
            chosen.append(rng.choice(rows, size=min(per_kind, rows.size), replace=False))
    if not chosen:
        return np.zeros((0, 4), dtype=np.int64)
    return usable[np.sort(np.concatenate(chosen))]


def interval_gradients(model: nn.Module, arch: str, inputs, targets, kind: str,
                       queries: np.ndarray, clamp_value: float
                       ) -> dict[tuple[str, str, str], torch.Tensor]:
    """{(condition, state, path): d score_q / d(state_s) `[B, T', H]`} of one pick per row
    (query step `queries[b]`; `inputs`, `targets` one row per pick): free, every state's total
    and the direct state's `direct` and `via_h`; with the keep gate clamped to `clamp_value`
    inside the Jacobian only (`JACOBIAN`, where the architecture has a keep gate), the direct
    state's total. 3 passes with a keep gate, 2 with a direct path only (`lstm_nfg`), 1 for
    the tanh RNN."""
    s = spec(arch)
    out = {(FREE, state, "total"): g for state, g in full_gradients(
        model, inputs, targets, kind, queries, s.states).items()}
    state = DIRECT_STATE[s.cell]
    if state is None:
        return out
    direct = full_gradients(model, inputs, targets, kind, queries, (state,), detach=True)[state]
    out[(FREE, state, "direct")] = direct
    out[(FREE, state, "via_h")] = out[(FREE, state, "total")] - direct
    if keep_gate(arch) is not None:
        out[(JACOBIAN, state, "total")] = full_gradients(
            model, inputs, targets, kind, queries, (state,), keep_jacobian=clamp_value)[state]
    return out


def _log10(norm: torch.Tensor) -> np.ndarray:
    return np.log10(np.maximum(norm.numpy(), FLOOR))


def interval_rows(grads: dict[tuple[str, str, str], torch.Tensor], picks: np.ndarray,
                  units: dict[str, np.ndarray | slice]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`interval_lag` and `interval_store` rows (no `step`) of one model's interval gradients
    (`interval_gradients`, the rows of `picks`), per interval kind and units (`units`: name ->
    unit indices).

    By lag k from the query (up to each pick's store, k <= q - s; at most `LAG_POINTS` lags):
    the mean norm over the picks that reach lag k and the path's `share` of the direct and
    through-h paths' squared norms there. At the store, per pick, then averaged: log10 of the
    norm at the store, at lag 1 and at lag 0 (`FLOOR`), the decades kept from lag 1 to the
    store (`kept_decades`), and the direct path's share at the store."""
    queries, stores = picks[:, 2], picks[:, 1]
    reach = queries - stores  # the store's lag, per pick
    longest = int(reach.max())
    lags = np.arange(longest + 1)
    index = torch.as_tensor(np.maximum(queries[:, None] - lags[None, :], 0))
    valid = lags[None, :] <= reach[:, None]  # [B, L + 1]
    shown = np.unique(np.round(np.linspace(0, longest, min(longest + 1, LAG_POINTS)))
                      ).astype(int)
    rows_b = torch.arange(len(picks))[:, None]
    at_store = torch.as_tensor(reach)
    lag_frames, store_rows = [], []
    for unit_name, which in units.items():
        n_units = None
        lagged_g = {}
        for key, grad in grads.items():
            g = grad[..., which].double()[rows_b, index]  # [B, L + 1, units]
            g = torch.where(torch.as_tensor(valid)[..., None], g, torch.zeros((), dtype=g.dtype))
            lagged_g[key] = g
            n_units = g.shape[-1]
        energy = {key: (g ** 2).sum(dim=-1) for key, g in lagged_g.items()}  # [B, L + 1]
        for crosses, kind_name in ((0, "keep"), (1, "erase")):
            mine = picks[:, 3] == crosses
            if not mine.any():
                continue
            m = torch.as_tensor(mine)
            reach_m = valid[mine]
            count = reach_m.sum(axis=0)
            for (condition, state, path), g in lagged_g.items():
                norm = g[m].norm(dim=-1)  # [b, L + 1]
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(count > 0, norm.sum(dim=0).numpy() / np.maximum(count, 1),
                                    np.nan)
                share = np.ones(longest + 1)
                pair = {p: energy.get((condition, state, p)) for p in ("direct", "via_h")}
                store_share = np.nan
                if path != "total" and all(v is not None for v in pair.values()):
                    both = (pair["direct"] + pair["via_h"])[m]
                    own = energy[(condition, state, path)][m]
                    with np.errstate(invalid="ignore", divide="ignore"):
                        share = np.where(both.sum(dim=0).numpy() > 0,
                                         own.sum(dim=0).numpy() / both.sum(dim=0).numpy(),
                                         np.nan)
                    pick = torch.arange(int(m.sum()))
                    total_at = both[pick, at_store[m]].sum().item()
                    store_share = (own[pick, at_store[m]].sum().item() / total_at
                                   if total_at > 0 else np.nan)
                lag_frames.append(pd.DataFrame({
                    "kind": kind_name, "condition": condition, "state": state, "path": path,
                    "units": unit_name, "lag": shown, "norm": mean[shown],
                    "share": share[shown], "n_picks": count[shown]}))
                if path == "via_h":
                    continue  # 0 at lag 0; its share at the store is on the direct row
                pick = torch.arange(int(m.sum()))
                store = _log10(norm[pick, at_store[m]])
                lag1, lag0 = _log10(norm[:, 1]), _log10(norm[:, 0])
                store_rows.append({
                    "kind": kind_name, "condition": condition, "state": state, "path": path,
                    "units": unit_name, "log10_store": float(store.mean()),
                    "log10_lag1": float(lag1.mean()), "log10_lag0": float(lag0.mean()),
                    "kept_decades": float((store - lag1).mean()), "share_store": store_share,
                    "store_lag": float(reach[mine].mean()), "n_picks": int(mine.sum()),
                    "n_units": n_units})
    lag_table = (pd.concat(lag_frames, ignore_index=True) if lag_frames
                 else pd.DataFrame(columns=INTERVAL_LAG_COLUMNS[1:]))
    return lag_table, pd.DataFrame(store_rows, columns=INTERVAL_STORE_COLUMNS[1:])


def interval_units(gates, factors: dict, meta: dict, arch: str, share: float
                   ) -> dict[str, np.ndarray | slice]:
    """{units name: indices}: all units, and the memory-carrying ones chosen on the
    even-numbered sequences of one checkpoint's states (`roles.measure.memory_units`) where
    the task has a memory variable."""
    from gateroles.analyses.roles.measure import memory_state, memory_units

    units = {ALL_UNITS: slice(None)}
    memory = meta.get("memory")
    if memory in factors:
        units[MEMORY_UNITS] = memory_units(memory_state(gates, arch)[0::2],
                                           factors[memory][0::2], share)
    return units


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`by_lag` and `efold` rows from scored steps, `interval_lag` and `interval_store` rows on
    the hold intervals, at step 0 and the last checkpoint (`step`, `final_step`)."""
    from gateroles.models import models_from_payload

    payload = inputs.checkpoints
    saved = sorted(payload["steps"], key=int)
    first, last = saved[0], saved[-1]
    models = models_from_payload({"meta": payload["meta"],
                                  "steps": {k: payload["steps"][k] for k in {first, last}}})
    data = inputs.gates
    kind = data.meta["kind"]
    n = min(settings.n_sequences, len(data.inputs))
    rng = np.random.default_rng(run.seed)
    seq, steps, max_lag = choose_picks(data.mask[:n], settings.max_lag,
                                       settings.picks_per_sequence, settings.burn_in, rng)
    x = np.asarray(data.inputs[seq], dtype=np.float32)
    targets = np.asarray(data.targets)[seq, steps]
    factors = data.factors
    picks = interval_picks(factors, data.meta["events"], settings.interval_picks, rng)
    x_int = np.asarray(data.inputs[picks[:, 0]], dtype=np.float32)
    y_int = np.asarray(data.targets)[picks[:, 0], picks[:, 2]]
    tables = {name: [] for name in ("by_lag", "efold", "interval_lag", "interval_store")}
    for step, model in models.items():
        for param in model.parameters():
            param.requires_grad_(False)  # gradients w.r.t. the states only
        b, e = model_tables(model, run.arch, x, targets, kind, steps, max_lag)
        tables["by_lag"].append(b.assign(step=step))
        tables["efold"].append(e.assign(step=step))
        if len(picks):
            units = interval_units(data.gates(step), factors, data.meta, run.arch,
                                   settings.memory_units)
            grads = interval_gradients(model, run.arch, x_int, y_int, kind, picks[:, 2],
                                       settings.clamp_value)
            lag_rows, store_rows = interval_rows(grads, picks, units)
            tables["interval_lag"].append(lag_rows.assign(step=step))
            tables["interval_store"].append(store_rows.assign(step=step))
    empty = {"interval_lag": INTERVAL_LAG_COLUMNS, "interval_store": INTERVAL_STORE_COLUMNS}
    out = {}
    for name, frames in tables.items():
        table = (pd.concat(frames, ignore_index=True) if frames
                 else pd.DataFrame(columns=empty[name]))
        out[name] = table.assign(final_step=int(last))
    return out
