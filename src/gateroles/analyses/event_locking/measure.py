"""Event-triggered averages of every sigmoid gate, at every checkpoint of one model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles.analyses.event_locking import Settings
from gateroles.architectures import SIGMOID_GATES
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
    for gate in SIGMOID_GATES[arch]:
        signal = population_mean(gates[gate])
        for role, factor in event_roles.items():
            events = factors[factor]
            contrast.append({"gate": gate, "event": role, **event_contrast(signal, events)})
            curve = event_aligned(signal, events, window)
            aligned += [{"gate": gate, "event": role, "offset": int(o), "value": float(v)}
                        for o, v in zip(offsets, curve, strict=True)]
    return pd.DataFrame(contrast), pd.DataFrame(aligned)


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """`contrast` and `aligned` rows of every checkpoint (columns `step`, `final_step`)."""
    gates = inputs.gates
    factors = gates.factors
    contrast, aligned = [], []
    for step in gates.steps:
        c, a = event_tables(gates.gates(step), factors, gates.meta["events"], run.arch,
                            settings.eta_window)
        contrast.append(c.assign(step=step))
        aligned.append(a.assign(step=step))
    final = {"final_step": gates.final_step}
    return {"contrast": pd.concat(contrast, ignore_index=True).assign(**final),
            "aligned": pd.concat(aligned, ignore_index=True).assign(**final)}
