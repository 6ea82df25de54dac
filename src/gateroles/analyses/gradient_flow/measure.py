"""Gradient norm by lag, path by path, for one model at step 0 and at its last checkpoint.

One backward pass per (condition, total or direct) gives every lag of every pick: a batch row
is one (sequence n, scored step t_n) pick, the loss is the sum over rows of the task's loss at
t_n only, and the gradient with respect to an additive zero offset on the state at step s of
row n is dL_{t_n}/d(state_s) (rows are independent), at lag t_n - s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from gateroles import interventions
from gateroles.analyses.gradient_flow import CLAMPED, DIRECT_STATE, FREE, Settings, keep_gate
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


def step_loss(outputs: torch.Tensor, targets, kind: str) -> torch.Tensor:
    """The task's own loss at one step per row, summed over rows (`outputs` `[B, n_outputs]`):
    cross-entropy for classification, squared error for regression."""
    if kind == "classification":
        return nn.functional.cross_entropy(outputs, torch.as_tensor(targets, dtype=torch.long),
                                           reduction="sum")
    return ((outputs[:, 0] - torch.as_tensor(targets, dtype=torch.float32)) ** 2).sum()


def lagged(grad: torch.Tensor, steps: np.ndarray, max_lag: int) -> torch.Tensor:
    """`grad` `[B, T, H]` -> `[B, K + 1, H]` whose `[:, k]` is row b's gradient at step t_b - k."""
    index = torch.as_tensor(steps)[:, None] - torch.arange(max_lag + 1)[None, :]
    return grad[torch.arange(grad.shape[0])[:, None], index]


def state_gradients(model: nn.Module, inputs, targets, kind: str, steps: np.ndarray,
                    max_lag: int, states: tuple[str, ...], clamp: dict | None = None,
                    detach: bool = False) -> dict[str, torch.Tensor]:
    """{state: dL_{t_b}/d(state_{t_b - k}) `[B, K + 1, H]`}, one forward and one backward.

    `inputs` `[B, T, input_size]` and `targets` `[B]` are one row per pick (scored step
    `steps[b]`, `targets[b]` its target); the sequences are cut after the latest pick.
    `clamp` and `detach` (`detach_recurrent`) go to the differentiable twin.
    """
    x = torch.as_tensor(np.asarray(inputs)[:, :int(steps.max()) + 1], dtype=torch.float32)
    hidden = model.rnn.hidden_size
    offsets = {s: torch.zeros(x.shape[0], x.shape[1], hidden, requires_grad=True)
               for s in states}
    out = interventions.forward(model, x, clamp, differentiable=True, state_offsets=offsets,
                                detach_recurrent=detach)
    at_pick = out["outputs"][torch.arange(x.shape[0]), torch.as_tensor(steps)]
    grads = torch.autograd.grad(step_loss(at_pick, targets, kind), list(offsets.values()))
    return {s: lagged(g, steps, max_lag) for s, g in zip(states, grads, strict=True)}


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
    """E-folding lag of every (state, path) with a lag-0 value (total, direct; not via_h,
    which is 0 at lag 0), with its lag-0 norm, the largest lag measured and, for the direct
    path, `direct_share`: its share of the two paths' squared norms (`by_lag_rows`) averaged
    over lags 1..K, in [0, 1]."""
    rows = []
    for (state, path), curve in by_lag.groupby(["state", "path"], sort=False):
        if path == "via_h":
            continue
        curve = curve.sort_values("lag")
        lag, censored = efolding_lag(curve["norm"].to_numpy())
        share = curve.loc[curve["lag"] > 0, "share"]
        rows.append({"state": state, "path": path, "efold": lag, "censored": censored,
                     "norm_lag0": float(curve["norm"].iloc[0]),
                     "max_lag": int(curve["lag"].max()),
                     "direct_share": float(share.mean()) if path == "direct" and len(share)
                     else np.nan})
    return pd.DataFrame(rows)


def conditions(arch: str, clamp_value: float) -> dict[str, tuple[str, dict | None]]:
    """{condition: (clamped gate or '', clamp)}: free, and the keep gate (forget / update)
    clamped to `clamp_value` at every step where the architecture has one (`keep_gate`: a
    keep gate held constant in training too, the negative control's, where the clamp to its
    own value changes nothing)."""
    keep = keep_gate(arch)
    out = {FREE: ("", None)}
    if keep is not None:
        out[CLAMPED] = (keep, {keep: (True, float(clamp_value))})
    return out


def model_tables(model: nn.Module, arch: str, inputs, targets, kind: str, steps: np.ndarray,
                 max_lag: int, clamp_value: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`by_lag` and `efold` rows of one model under every condition. With the keep gate
    clamped to a constant a, the direct path is known (a^k times its lag-0 value, tested), so
    only the total is measured there: 3 passes for the LSTM family and the GRU, 1 for the RNN.
    """
    by_lag, efold = [], []
    for condition, (gate, clamp) in conditions(arch, clamp_value).items():
        rows = by_lag_rows(path_gradients(model, arch, inputs, targets, kind, steps, max_lag,
                                          clamp, direct=clamp is None))
        keys = {"condition": condition, "clamped_gate": gate,
                "clamp_value": clamp_value if clamp else np.nan}
        by_lag.append(rows.assign(**keys))
        efold.append(efold_rows(rows).assign(**keys))
    return pd.concat(by_lag, ignore_index=True), pd.concat(efold, ignore_index=True)


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`by_lag` and `efold` rows at step 0 and the last checkpoint (`step`, `final_step`)."""
    from gateroles.models import models_from_payload

    payload = inputs.checkpoints
    saved = sorted(payload["steps"], key=int)
    first, last = saved[0], saved[-1]
    models = models_from_payload({"meta": payload["meta"],
                                  "steps": {k: payload["steps"][k] for k in {first, last}}})
    data = inputs.gates
    n = min(settings.n_sequences, len(data.inputs))
    rng = np.random.default_rng(run.seed)
    seq, steps, max_lag = choose_picks(data.mask[:n], settings.max_lag,
                                       settings.picks_per_sequence, settings.burn_in, rng)
    x = np.asarray(data.inputs[seq], dtype=np.float32)
    targets = np.asarray(data.targets)[seq, steps]
    by_lag, efold = [], []
    for step, model in models.items():
        for param in model.parameters():
            param.requires_grad_(False)  # gradients w.r.t. the states only
        b, e = model_tables(model, run.arch, x, targets, data.meta["kind"], steps, max_lag,
                            settings.clamp_value)
        by_lag.append(b.assign(step=step))
        efold.append(e.assign(step=step))
    final = {"final_step": int(last)}
    return {"by_lag": pd.concat(by_lag, ignore_index=True).assign(**final),
            "efold": pd.concat(efold, ignore_index=True).assign(**final)}
