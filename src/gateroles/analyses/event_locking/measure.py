"""Event-triggered averages of every sigmoid gate, at every checkpoint of one model.

A gate the architecture removed (a negative control's held gate, constant 1) is measured as the
constant it is (`architectures.measured_gates`), so its rows exist and say it does not move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles.analyses.event_locking import Settings
from gateroles.architectures import measured_gates
from gateroles.gatefile import with_held
from gateroles.study import Run


def population_mean(activation: np.ndarray) -> np.ndarray:
    """`[N, T, H]` -> `[N, T]` mean over units, in float64 (inputs may be float16)."""
    return activation.mean(axis=-1, dtype=np.float64)


def event_contrast(signal: np.ndarray, events: np.ndarray) -> dict[str, float]:
    """Mean of `signal [N, T]` at event steps vs the other steps, and the standardised effect.

    `cohens_d` is the difference divided by the pooled standard deviation of the two groups of
    steps; NaN when either group is empty.
    """
    events = events.astype(bool)
    at, rest = signal[events], signal[~events]
    if at.size == 0 or rest.size == 0:
        return {"at_event": np.nan, "rest": np.nan, "difference": np.nan, "cohens_d": np.nan,
                "n_events": int(at.size)}
    diff = at.mean() - rest.mean()
    pooled = np.sqrt(((at.size - 1) * at.var(ddof=1 if at.size > 1 else 0)
                      + (rest.size - 1) * rest.var(ddof=1 if rest.size > 1 else 0))
                     / max(at.size + rest.size - 2, 1))
    return {"at_event": float(at.mean()), "rest": float(rest.mean()), "difference": float(diff),
            "cohens_d": float(diff / pooled) if pooled > 0 else np.nan, "n_events": int(at.size)}


def event_aligned(signal: np.ndarray, events: np.ndarray, window: int) -> np.ndarray:
    """Mean of `signal [N, T]` at offsets -window..window around each event (NaN if none)."""
    n_seq, t_len = signal.shape
    seq, step = np.nonzero(events.astype(bool))
    offsets = np.arange(-window, window + 1)
    times = step[:, None] + offsets[None, :]  # [n_events, 2W+1]
    valid = (times >= 0) & (times < t_len)
    values = np.where(valid, signal[seq[:, None], np.clip(times, 0, t_len - 1)], 0.0)
    counts = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, values.sum(axis=0) / counts, np.nan)


def event_tables(gates: dict[str, np.ndarray], factors: dict[str, np.ndarray],
                 event_roles: dict[str, str], arch: str, window: int
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contrast and aligned time-course rows for every sigmoid gate x event role."""
    contrast, aligned = [], []
    offsets = np.arange(-window, window + 1)
    if not measured_gates(arch):  # the tanh RNN has no gates
        return (pd.DataFrame(columns=["gate", "event", "at_event", "rest", "difference",
                                      "cohens_d", "n_events"]),
                pd.DataFrame(columns=["gate", "event", "offset", "value"]))
    for gate in measured_gates(arch):
        signal = population_mean(gates[gate])
        for role, factor in event_roles.items():
            events = factors[factor]
            contrast.append({"gate": gate, "event": role, **event_contrast(signal, events)})
            curve = event_aligned(signal, events, window)
            aligned += [{"gate": gate, "event": role, "offset": int(o), "value": float(v)}
                        for o, v in zip(offsets, curve, strict=True)]
    return pd.DataFrame(contrast), pd.DataFrame(aligned)


def unit_responses(activation: np.ndarray, events: np.ndarray, alpha: float
                   ) -> dict[str, float]:
    """Per unit, is the event response significant, and in which direction?

    The unit's response in one sequence = its mean activation at the event steps minus at the
    other steps of that sequence; sequences are independent, so a one-sample t-test over the
    sequences that have both kinds of step gives each unit a one-sided p-value per direction.
    Returns the share of units significant (p < `alpha`) upward and downward. A mean over
    units (`event_contrast`) lets units moving in opposite directions cancel; this does not.
    """
    from scipy import stats as sps

    events = events.astype(bool)
    n_at, n_rest = events.sum(axis=1), (~events).sum(axis=1)
    keep = (n_at > 0) & (n_rest > 0)
    h = activation.shape[-1]
    if keep.sum() < 3:
        return {"share_up": np.nan, "share_down": np.nan, "n_units": h,
                "n_sequences": int(keep.sum())}
    act = activation[keep].astype(np.float64)
    ev = events[keep][..., None]
    at = (act * ev).sum(axis=1) / n_at[keep, None]
    rest = (act * ~ev).sum(axis=1) / n_rest[keep, None]
    diff = at - rest  # [n_sequences, H]
    mean, sd = diff.mean(axis=0), diff.std(axis=0, ddof=1)
    n = diff.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sd > 0, mean / (sd / np.sqrt(n)), np.sign(mean) * np.inf)
    p_up, p_down = sps.t.sf(t, n - 1), sps.t.cdf(t, n - 1)
    return {"share_up": float(np.mean(p_up < alpha)), "share_down": float(np.mean(p_down < alpha)),
            "n_units": h, "n_sequences": n}


def unit_table(gates: dict[str, np.ndarray], factors: dict[str, np.ndarray],
               event_roles: dict[str, str], arch: str, alpha: float) -> pd.DataFrame:
    """Share of units responding significantly up / down, every sigmoid gate x event role."""
    rows = [{"gate": gate, "event": role, **unit_responses(gates[gate], factors[factor], alpha)}
            for gate in measured_gates(arch) for role, factor in event_roles.items()]
    return pd.DataFrame(rows, columns=["gate", "event", "share_up", "share_down", "n_units",
                                       "n_sequences"])


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`contrast`, `aligned` and `units` rows of every checkpoint (with `step`, `final_step`)."""
    gates = inputs.gates
    factors, roles = gates.factors, gates.meta["events"]
    contrast, aligned, units = [], [], []
    for step in gates.steps:
        acts = with_held(gates.gates(step), run.arch)
        c, a = event_tables(acts, factors, roles, run.arch, settings.eta_window)
        contrast.append(c.assign(step=step))
        aligned.append(a.assign(step=step))
        units.append(unit_table(acts, factors, roles, run.arch, settings.unit_alpha)
                     .assign(step=step))
    final = {"final_step": gates.final_step}
    return {name: pd.concat(frames, ignore_index=True).assign(**final)
            for name, frames in (("contrast", contrast), ("aligned", aligned),
                                 ("units", units))}
