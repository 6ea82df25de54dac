"""Statistics across seeds: t-intervals, directional verdicts, Holm adjustment, equivalence.

Seeds are the unit of replication. Every verdict rests on the per-seed values of one effect and
a Student-t interval over seeds (`confidence`, two-sided), with a one-sided p-value for the
predicted direction, so a verdict's false-"supported" rate under a null effect is
(1 - confidence) / 2 per prediction (2.5% at 0.95) when the per-seed effects are roughly
normal (checked by simulation in tests/test_stats.py, 5 and 10 seeds). Under a strongly
skewed null it is not: with centred-exponential effects (skewness 2) the rate is ~0.4%
toward the light tail and ~11% (5 seeds) / ~10% (10 seeds) toward the heavy one, against
~19% / ~12% for the former bootstrap rule; at skewness 0.5, ~1.6% and ~3.9%. No test of a
mean over 5 seeds is exact for every distribution. Below `min_seeds` finite seeds there is
no verdict (`insufficient seeds`).

The vocabulary of verdicts:

* `supported` / `contradicted` / `inconclusive` (`directional_verdict`, `change_from_init`,
  re-decided at the Holm-adjusted level by `adjust_verdicts`);
* `equivalent` / `not equivalent` / `not shown` (`equivalence`: a claim of no effect, e.g.
  "the gates are independent", needs an equivalence test with a stated margin);
* `insufficient seeds` (fewer than `min_seeds` finite seeds, from all of the above);
* `untestable` is decided by callers, where the measure cannot tell the hypotheses apart
  (e.g. every source at ceiling; `at_ceiling` helps). `adjust_verdicts` leaves such rows out
  of the Holm family.

`bootstrap_ci` (percentile bootstrap) stays for descriptive bands in figures; no verdict uses
it: over 5 seeds its one-sided false-positive rate is ~8% instead of 2.5%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import stdtr, stdtrit  # Student t cdf and quantile

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
INSUFFICIENT = "insufficient seeds"
UNTESTABLE = "untestable"
EQUIVALENT, NOT_EQUIVALENT, NOT_SHOWN = "equivalent", "not equivalent", "not shown"
# The verdicts of a directional test that was carried out (the rows a Holm family counts).
TESTED = (SUPPORTED, CONTRADICTED, INCONCLUSIVE)


def bootstrap_ci(values, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
                 ) -> tuple[float, float, float]:
    """Mean of `values` and its percentile bootstrap CI (NaNs dropped; NaN if none left).

    Descriptive only (figure bands): over few seeds the percentile bootstrap is too narrow, so
    verdicts use the t-interval (`mean_ci`, `directional_verdict`). With a single value the
    interval collapses onto it: one seed carries no spread.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(x.mean()), float(lo), float(hi)


def _check_confidence(confidence: float) -> float:
    """The one-sided level alpha = (1 - confidence) / 2 of a two-sided `confidence` interval."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    return (1 - confidence) / 2


def t_summary(values, confidence: float = 0.95) -> dict[str, np.ndarray]:
    """The one-sample t statistics of the seeds along the last axis, vectorised over the rest.

    `values` is `[..., n_seeds]`; non-finite entries are dropped per row. Returns arrays of
    shape `values.shape[:-1]`: `n` (finite seeds), `mean`, `sd` (ddof 1), `se`, `t`
    (mean / se), `df` (n - 1), `ci_low`, `ci_high` (two-sided `confidence` t-interval),
    `p_greater` (one-sided p for a mean above 0), `p_less` (below 0) and `cohens_dz`
    (mean / sd).

    Degenerate rows, without warnings: no finite seed -> NaN everywhere; one seed -> the
    interval collapses onto it, sd, t, p and d are NaN; all seeds identical -> sd = 0, the
    interval collapses onto the value, t = +-inf and d = +-inf, with p = 1 / 2^n on its side
    (an exact sign test's floor: n seeds cannot show more; 1 on the other side), or, when the
    value is 0, t = 0 (p = 0.5 both sides) and d = NaN. `constant` flags those rows.
    """
    alpha = _check_confidence(confidence)
    x = np.atleast_1d(np.asarray(values, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _t_summary(x, alpha)


def _t_summary(x: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """`t_summary`'s arithmetic; 0/0 and x/0 are masked out or replaced below."""
    finite = np.isfinite(x)
    n = finite.sum(axis=-1)
    x0 = np.where(finite, x, 0.0)
    many, some = n >= 2, n >= 1
    mean = np.divide(x0.sum(axis=-1), n, out=np.full(n.shape, np.nan), where=some)
    # All finite seeds equal: sd exactly 0 (the mean of equal floats can be off by an ulp).
    constant = (np.where(finite, x, -np.inf).max(axis=-1, initial=-np.inf)
                == np.where(finite, x, np.inf).min(axis=-1, initial=np.inf)) & many
    dev = np.where(finite, x - mean[..., None], 0.0)
    var = np.divide((dev ** 2).sum(axis=-1), n - 1, out=np.full(n.shape, np.nan), where=many)
    sd = np.where(constant, 0.0, np.sqrt(var))
    se = np.divide(sd, np.sqrt(np.maximum(n, 1)), out=np.full(n.shape, np.nan), where=many)
    df = np.where(many, n - 1, np.nan)
    positive_se = many & (se > 0)
    t = np.divide(mean, se, out=np.full(n.shape, np.nan), where=positive_se)
    t = np.where(many & (se == 0), np.sign(mean) * np.inf, t)  # sign(0) * inf -> t = 0 below
    t = np.where(many & (se == 0) & (mean == 0), 0.0, t)
    # scipy.stats.t's sf/cdf/ppf call exactly these (same values, tested) but importing
    # scipy.stats costs every job that loads this module ~0.5 s.
    crit = np.where(many, stdtrit(np.where(many, df, 1), 1 - alpha), np.nan)
    half = np.where(positive_se, crit * se, 0.0)
    half = np.where(some, half, np.nan)
    p_greater = np.where(many, stdtr(np.where(many, df, 1), -np.where(many, t, 0.0)), np.nan)
    p_less = np.where(many, stdtr(np.where(many, df, 1), np.where(many, t, 0.0)), np.nan)
    # Every seed the same non-zero value: the t-test's p would be 0, but n seeds can show no
    # more than an exact sign test does, 1 / 2^n on their side (1 on the other).
    floor = np.where(many, 0.5 ** np.maximum(n, 1), np.nan)
    p_greater = np.where(constant & (mean > 0), floor, np.where(constant & (mean < 0), 1.0,
                                                                 p_greater))
    p_less = np.where(constant & (mean < 0), floor, np.where(constant & (mean > 0), 1.0,
                                                              p_less))
    dz = np.divide(mean, sd, out=np.full(n.shape, np.nan), where=many & (sd > 0))
    dz = np.where(many & (sd == 0) & (mean != 0), np.sign(mean) * np.inf, dz)
    return {"n": n, "mean": mean, "sd": sd, "se": se, "t": t, "df": df,
            "ci_low": mean - half, "ci_high": mean + half, "p_greater": p_greater,
            "p_less": p_less, "cohens_dz": dz, "constant": constant}


def _summary_1d(values, confidence: float) -> dict[str, float]:
    """`t_summary` of one set of seeds (any shape, flattened), as Python floats."""
    x = np.asarray(values, dtype=float).ravel()
    return {k: float(v) for k, v in t_summary(x, confidence).items()}


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of `values` and its two-sided `confidence` Student-t interval over seeds.

    NaNs dropped; one value -> the interval collapses onto it; none -> NaNs.
    """
    s = _summary_1d(values, confidence)
    return s["mean"], s["ci_low"], s["ci_high"]


def _check_direction(direction) -> int:
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    return int(direction)


def _check_min_seeds(min_seeds: int) -> int:
    if min_seeds < 2:
        raise ValueError(f"min_seeds must be at least 2 (a t-interval needs 2), got {min_seeds}")
    return int(min_seeds)


def _decide(p_predicted, p_opposite, n, alpha: float, min_seeds: int, no_effect=False
            ) -> np.ndarray:
    """Verdict strings from the one-sided p-values for and against the predicted direction.

    `no_effect` marks rows where every seed is exactly 0: the measure did not move at all, so
    it cannot tell the hypotheses apart (`untestable`), e.g. two models both at the ceiling.
    """
    p_predicted, p_opposite = np.asarray(p_predicted), np.asarray(p_opposite)
    verdict = np.full(np.shape(p_predicted), INCONCLUSIVE, dtype=object)
    verdict[p_predicted < alpha] = SUPPORTED
    verdict[p_opposite < alpha] = CONTRADICTED
    verdict[np.broadcast_to(np.asarray(no_effect, dtype=bool), verdict.shape)] = UNTESTABLE
    verdict[np.asarray(n) < min_seeds] = INSUFFICIENT
    return verdict


def _no_effect(s: dict) -> np.ndarray:
    """Rows of a `t_summary` whose seeds are all exactly 0."""
    return np.asarray(s["constant"], dtype=bool) & (np.asarray(s["mean"]) == 0)


def directional_verdicts(values, direction: int, *, confidence: float = 0.95,
                         min_seeds: int = 5) -> np.ndarray:
    """`directional_verdict`'s verdict for every row of `values` ([..., n_seeds]) at once.

    The same rule as `directional_verdict` (it calls this), vectorised for simulations.
    """
    direction = _check_direction(direction)
    s = t_summary(values, confidence)
    forward, backward = ((s["p_greater"], s["p_less"]) if direction > 0
                         else (s["p_less"], s["p_greater"]))
    return _decide(forward, backward, s["n"], _check_confidence(confidence),
                   _check_min_seeds(min_seeds), _no_effect(s))


def directional_verdict(values, direction: int, n_boot: int | None = None,
                        confidence: float = 0.95, seed: int | None = None, *,
                        min_seeds: int = 5) -> dict:
    """Does the effect have the predicted sign? Per-seed effects in, `direction` +1 or -1.

    A one-sample t-test over the finite seeds: `supported` when the two-sided `confidence`
    t-interval excludes zero on the predicted side (equivalently, the one-sided `p_value`
    for the predicted direction is below (1 - confidence) / 2); `contradicted` when it
    excludes zero on the other side (`p_opposite` below it); otherwise `inconclusive`;
    `insufficient seeds` when fewer than `min_seeds` seeds are finite (the statistics are
    still reported from 2 seeds on). All seeds equal: a degenerate interval at the value,
    a non-zero value gets the sign test's p = 1 / 2^n on its side (supported or contradicted
    from 6 seeds on at 0.95, never from 5), and all zeros are `untestable` (nothing moved).

    `n_boot` and `seed` are ignored: they belong to the former bootstrap rule and stay in
    their old positions only so that calls `directional_verdict(x, d, n_boot, confidence)`
    keep working.

    Returns a dict: `verdict`, `mean`, `ci_low`, `ci_high`, `sd`, `cohens_dz` (mean / sd of
    the per-seed values), `t`, `df`, `p_value` (one-sided, predicted direction),
    `p_opposite` (one-sided, the other direction), `n_seeds` (finite seeds),
    `seeds_agreeing` (seeds whose value has the predicted sign), `direction`, `confidence`.
    """
    del n_boot, seed  # legacy arguments of the bootstrap rule
    direction = _check_direction(direction)
    x = np.asarray(values, dtype=float).ravel()
    s = _summary_1d(x, confidence)
    forward, backward = ((s["p_greater"], s["p_less"]) if direction > 0
                         else (s["p_less"], s["p_greater"]))
    verdict = _decide(forward, backward, s["n"], _check_confidence(confidence),
                      _check_min_seeds(min_seeds), bool(s["constant"]) and s["mean"] == 0)
    finite = x[np.isfinite(x)]
    return {"verdict": str(verdict), "mean": float(s["mean"]), "ci_low": float(s["ci_low"]),
            "ci_high": float(s["ci_high"]), "sd": float(s["sd"]),
            "cohens_dz": float(s["cohens_dz"]), "t": float(s["t"]), "df": float(s["df"]),
            "p_value": float(forward), "p_opposite": float(backward), "n_seeds": int(s["n"]),
            "seeds_agreeing": int(np.sum(np.sign(finite) == direction)),
            "direction": direction, "confidence": float(confidence)}


def holm(p_values) -> np.ndarray | pd.Series:
    """Holm-Bonferroni adjusted p-values, in the order given.

    NaN stays NaN and does not count toward the number of tests m. The k-th smallest of the
    m p-values becomes max over j <= k of min(1, (m - j + 1) p_(j)); rejecting where the
    adjusted p is below alpha controls the family-wise error rate at alpha. A pandas Series
    comes back as a Series with the same index, anything else as a float array.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError("holm expects a 1-D sequence of p-values")
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    if m:
        order = tested[np.argsort(p[tested], kind="stable")]
        scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
        out[order] = np.maximum.accumulate(scaled)
    if isinstance(p_values, pd.Series):
        return pd.Series(out, index=p_values.index, name=p_values.name)
    return out


def adjust_verdicts(rows, confidence: float = 0.95, by: str | Sequence[str] | None = None):
    """Holm-adjust the directional verdicts of the predictions of one claim, and re-decide them.

    `rows`: a DataFrame with one row per prediction, or an iterable of dicts, with at least
    the columns `verdict`, `p_value` and `p_opposite` of `directional_verdict` /
    `change_from_init`. `by`: columns whose every combination is its own family (e.g.
    `["task", "arch", "init"]` for "the predictions of one claim in one arm"); None: all
    rows are one family.

    Within a family, the rows actually tested (verdict supported / contradicted /
    inconclusive; not `insufficient seeds`, `untestable` or anything else) are Holm-adjusted
    in each direction: `p_adjusted` = Holm of `p_value`, `p_opposite_adjusted` = Holm of
    `p_opposite`. With alpha = (1 - confidence) / 2, a row is `supported` iff
    `p_adjusted` < alpha, `contradicted` iff `p_opposite_adjusted` < alpha, otherwise
    `inconclusive`; so the chance of any false "supported" in a family is at most alpha
    (likewise "contradicted"). Untested rows keep their verdict and get NaN adjusted
    p-values. The verdict before adjustment is kept in `verdict_unadjusted` (kept as is if
    already there, so adjusting twice changes nothing); `ci_low`/`ci_high` stay the
    unadjusted intervals.

    Returns a new DataFrame for a DataFrame, else a list of new dicts; the input is not
    modified. E.g. `c2 = stats.adjust_verdicts(c2, confidence, by=["task", "arch", "init"])`.
    """
    alpha = _check_confidence(confidence)
    as_frame = isinstance(rows, pd.DataFrame)
    frame = rows.copy() if as_frame else pd.DataFrame(list(rows))
    if "verdict_unadjusted" not in frame.columns:
        frame["verdict_unadjusted"] = frame["verdict"] if len(frame) else pd.Series(dtype=object)
    if len(frame) == 0:
        frame["p_adjusted"] = pd.Series(dtype=float)
        frame["p_opposite_adjusted"] = pd.Series(dtype=float)
        return frame if as_frame else []
    tested = frame["verdict_unadjusted"].isin(TESTED).to_numpy()
    p = np.where(tested, frame["p_value"].to_numpy(dtype=float), np.nan)
    q = np.where(tested, frame["p_opposite"].to_numpy(dtype=float), np.nan)
    if by is None:
        families = [np.arange(len(frame))]
    else:
        keys = [by] if isinstance(by, str) else list(by)
        families = list(frame.groupby(keys, sort=False, dropna=False).indices.values())
    p_adj, q_adj = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
    for family in families:
        p_adj[family] = holm(p[family])
        q_adj[family] = holm(q[family])
    verdict = frame["verdict_unadjusted"].to_numpy(dtype=object).copy()
    verdict[tested] = INCONCLUSIVE
    verdict[tested & (p_adj < alpha)] = SUPPORTED
    verdict[tested & (q_adj < alpha)] = CONTRADICTED
    frame["verdict"] = verdict
    frame["p_adjusted"] = p_adj
    frame["p_opposite_adjusted"] = q_adj
    return frame if as_frame else frame.to_dict("records")


def _paired(trained, initial) -> tuple[np.ndarray, np.ndarray]:
    """Pair trained and initial values by seed; drop pairs with a NaN on either side.

    Two pandas Series pair by index (seed), keeping `trained`'s order; anything else pairs by
    position and must have equal lengths.
    """
    if isinstance(trained, pd.Series) and isinstance(initial, pd.Series):
        if not (trained.index.is_unique and initial.index.is_unique):
            raise ValueError("change_from_init: seeds (the index) must be unique on each side")
        a = trained.to_numpy(dtype=float)
        b = initial.reindex(trained.index).to_numpy(dtype=float)
    else:
        a = np.asarray(trained, dtype=float).ravel()
        b = np.asarray(initial, dtype=float).ravel()
        if a.shape != b.shape:
            raise ValueError(f"change_from_init: {a.size} trained vs {b.size} initial values; "
                             "pass pandas Series indexed by seed to pair by seed")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def change_from_init(trained, initial, direction: int, *, confidence: float = 0.95,
                     min_seeds: int = 5) -> dict:
    """The verdict on a prediction: the per-seed change from initialisation, trained minus
    the same effect at step 0 of the same seed, in the predicted `direction`.

    Pairs by seed (pandas Series: by index; otherwise by position) and drops pairs with a
    NaN on either side. The main keys are `directional_verdict`'s, for the change: `verdict`,
    `mean`, `ci_low`, `ci_high`, `sd`, `cohens_dz`, `t`, `df`, `p_value`, `p_opposite`,
    `n_seeds`, `seeds_agreeing`, `direction`, `confidence` (so the result can go into
    `adjust_verdicts`). Beside it, over the same paired seeds, the trained effect alone and
    the effect at step 0: `trained_mean`, `trained_ci_low`, `trained_ci_high`,
    `trained_p_value`, `trained_verdict`, `trained_seeds_agreeing` and the same with
    `initial_` (the symmetry control: no preference before training).
    """
    a, b = _paired(trained, initial)
    out = directional_verdict(a - b, direction, confidence=confidence, min_seeds=min_seeds)
    for name, x in (("trained", a), ("initial", b)):
        side = directional_verdict(x, direction, confidence=confidence, min_seeds=min_seeds)
        for key in ("mean", "ci_low", "ci_high", "p_value", "verdict", "seeds_agreeing"):
            out[f"{name}_{key}"] = side[key]
    return out


def _tost(values, margin: float, confidence: float, min_seeds: int) -> dict[str, np.ndarray]:
    """TOST over the seeds along the last axis, vectorised over the rest (see `equivalence`)."""
    if not margin > 0:
        raise ValueError(f"margin must be positive, got {margin}")
    alpha = _check_confidence(confidence)
    min_seeds = _check_min_seeds(min_seeds)
    x = np.asarray(values, dtype=float)
    s = t_summary(x, confidence)
    # Shifting the data by +-margin turns each one-sided test into a test against zero:
    # H0 mean <= -margin is rejected on evidence that mean + margin > 0, and so on.
    p_lower = t_summary(x + margin, confidence)["p_greater"]
    p_upper = t_summary(x - margin, confidence)["p_less"]
    p = np.maximum(p_lower, p_upper)  # NaN (fewer than 2 seeds) propagates
    verdict = np.full(p.shape, NOT_SHOWN, dtype=object)
    verdict[(s["ci_low"] > margin) | (s["ci_high"] < -margin)] = NOT_EQUIVALENT
    verdict[p < alpha] = EQUIVALENT
    # Every seed the same value (e.g. both models at the ceiling): no spread to test against
    # the margin, and the measure could not have shown a difference.
    verdict[np.asarray(s["constant"], dtype=bool)] = UNTESTABLE
    verdict[s["n"] < min_seeds] = INSUFFICIENT
    return {**s, "p_value": p, "p_lower": p_lower, "p_upper": p_upper, "verdict": verdict}


def equivalence_verdicts(values, margin: float, *, confidence: float = 0.95,
                         min_seeds: int = 5) -> np.ndarray:
    """`equivalence`'s verdict for every row of `values` ([..., n_seeds]) at once."""
    return _tost(values, margin, confidence, min_seeds)["verdict"]


def equivalence(values, margin: float, confidence: float = 0.95, min_seeds: int = 5) -> dict:
    """TOST equivalence test over seeds: is the mean effect within (-margin, margin)?

    Two one-sided t-tests, H0: mean <= -margin and H0: mean >= margin, each at level
    alpha = (1 - confidence) / 2 (the same one-sided level as the directional verdicts);
    `equivalent` when both reject, i.e. when the (1 - 2 alpha) t-interval, which is the
    ordinary two-sided `confidence` interval, lies inside (-margin, margin). The test's size
    is at most alpha (2.5% at 0.95) when the true mean sits on either margin. (The usual
    "90% interval" TOST convention is alpha = 1 - confidence; this is stricter.)

    `not equivalent` when the interval lies entirely beyond one margin (the effect is shown
    to exceed it); `not shown` otherwise (e.g. a CI around 0 wider than the margin: absence
    of evidence is not evidence of no effect); `insufficient seeds` below `min_seeds`.
    All seeds equal: `untestable` (no spread: e.g. both models at the ceiling on every seed,
    where a difference could not have shown).

    Returns `verdict`, `mean`, `ci_low`, `ci_high` (the interval used), `margin`,
    `p_value` (TOST p = the larger of `p_lower` (H0: mean <= -margin) and `p_upper`
    (H0: mean >= margin)), `n_seeds`, `confidence`, `alpha`.
    """
    r = _tost(np.asarray(values, dtype=float).ravel(), margin, confidence, min_seeds)
    out = {"verdict": str(r["verdict"]), "margin": float(margin)}
    out.update({k: float(r[k]) for k in ("mean", "ci_low", "ci_high", "p_value", "p_lower",
                                          "p_upper")})
    return {**out, "n_seeds": int(r["n"]), "confidence": float(confidence),
            "alpha": _check_confidence(confidence)}


def at_ceiling(values, bound: float, tol: float) -> bool:
    """Whether every finite value lies within `tol` of `bound` (and at least one is finite).

    For callers deciding `untestable`: when every source (or both sides of a contrast) is at
    the measure's ceiling (or floor), the measure cannot tell them apart, and the row's
    verdict should be `UNTESTABLE` rather than the t-test's `inconclusive`.
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    return bool(x.size > 0 and np.all(np.abs(x - bound) <= tol))


# What a verdict row is (`test`): a **primary** prediction is one that a competing account
# predicts differently ("gates only read their input", "erasure goes through the input term",
# "any gate in any position would do"); only primary predictions decide a claim. A **sanity**
# check could not have failed under those accounts (a clamp that blinds the network, a swap
# that breaks any trained net, a symmetry that guarantees the result): it runs and is shown
# apart, never counted.
PRIMARY, SANITY = "primary", "sanity"
CHANGE = "change from step 0"
# The columns of every analysis's verdict table (one row per prediction), in this order.
# `decided_on` says which effect the verdict tests (the change from step 0 unless the row says
# why not); `rival` what the competing account predicts; `control` names the negative control
# (the same test where the role is absent by construction) and `control_*` its result;
# `counted`: a primary prediction whose negative control ran and did not come out supported
# (a test that also passes on its control is not a test, and one without a control has not
# shown that it can fail).
VERDICT_COLUMNS = [
    "claim", "evidence", "prediction", "task", "arch", "init", "direction",
    "trained", "trained_ci_low", "trained_ci_high",
    "initial", "initial_ci_low", "initial_ci_high",
    "change", "change_ci_low", "change_ci_high", "cohens_dz", "p_value", "p_opposite",
    "n_seeds", "seeds_agreeing", "n_unsolved", "verdict", "test", "decided_on", "rival",
    "control", "control_change", "control_ci_low", "control_ci_high", "control_n_seeds",
    "control_seeds_agreeing", "control_verdict", "counted", "note"]
_KEYS = ("claim", "evidence", "prediction", "note", "rival")


def _row(r: dict, direction: int, keys: dict, decided_on: str, test: str) -> dict:
    """A verdict row from a `change_from_init` result `r` and the identifying `keys`."""
    if test not in (PRIMARY, SANITY):
        raise ValueError(f"test must be {PRIMARY!r} or {SANITY!r}, got {test!r}")
    row = {key: keys.get(key, "") for key in _KEYS}
    row.update({key: keys[key] for key in ("task", "arch", "init")})
    if "role_gate" in keys:  # which gate's role the row tests (`attach_controls`); not a column
        row["role_gate"] = keys["role_gate"]
    row.update({
        "direction": int(direction),
        "trained": r["trained_mean"], "trained_ci_low": r["trained_ci_low"],
        "trained_ci_high": r["trained_ci_high"],
        "initial": r["initial_mean"], "initial_ci_low": r["initial_ci_low"],
        "initial_ci_high": r["initial_ci_high"],
        "change": r["mean"], "change_ci_low": r["ci_low"], "change_ci_high": r["ci_high"],
        "cohens_dz": r["cohens_dz"], "p_value": r["p_value"], "p_opposite": r["p_opposite"],
        "n_seeds": r["n_seeds"], "seeds_agreeing": r["seeds_agreeing"],
        "n_unsolved": int(keys.get("n_unsolved", 0)), "verdict": r["verdict"], "test": test,
        "decided_on": decided_on, "control": "", "control_change": np.nan,
        "control_ci_low": np.nan, "control_ci_high": np.nan, "control_n_seeds": 0,
        "control_seeds_agreeing": 0, "control_verdict": "", "counted": False})
    return row


def prediction_row(trained, initial, direction: int, settings: Settings, *,
                   test: str = PRIMARY, **keys) -> dict:
    """One prediction's verdict row (`VERDICT_COLUMNS`), decided on the per-seed change from
    initialisation (`change_from_init`), with the trained effect and the effect at step 0
    beside it. `trained` and `initial` are per-seed values (pandas Series indexed by seed);
    `keys` fills the identifying columns (claim, evidence, prediction, task, arch, init,
    n_unsolved, note, rival); `test`: `PRIMARY` or `SANITY`. Attach the negative control of a
    primary prediction with `with_control`."""
    r = change_from_init(trained, initial, direction, confidence=settings.confidence,
                         min_seeds=settings.min_seeds)
    return _row(r, direction, keys, CHANGE, test)


def reference_row(trained, reference: float, direction: int, settings: Settings, *,
                  initial=None, why: str, test: str = PRIMARY, **keys) -> dict:
    """A verdict row decided on the trained values against a fixed `reference` (e.g. a share
    against one half, or a difference against 0 where no step-0 version exists), not on the
    change from step 0; `why` says why (it goes into `decided_on`). `initial` (per-seed values
    at step 0), when given, is shown beside it; the `change` columns hold trained - reference.
    """
    values = trained if isinstance(trained, pd.Series) else pd.Series(np.asarray(trained,
                                                                                 dtype=float))
    r = change_from_init(values, pd.Series(float(reference), index=values.index), direction,
                         confidence=settings.confidence, min_seeds=settings.min_seeds)
    for key in ("mean", "ci_low", "ci_high"):
        r[f"initial_{key}"] = np.nan
    if initial is not None:
        r["initial_mean"], r["initial_ci_low"], r["initial_ci_high"] = mean_ci(
            initial, settings.confidence)
    return _row(r, direction, keys, f"trained vs {reference:g}: {why}", test)


def with_control(row: dict, control: dict | None, name: str) -> dict:
    """`row` (a primary prediction) with its negative control beside it: `control` is the
    same prediction's row computed where the role is absent by construction (`name` says
    where, e.g. "lstm_nfg: no forget gate"); None when the configuration did not run it."""
    out = dict(row, control=name if control is not None else f"{name} (not run)")
    if control is not None:
        out.update(control_change=control["change"], control_ci_low=control["change_ci_low"],
                   control_ci_high=control["change_ci_high"],
                   control_n_seeds=control["n_seeds"],
                   control_seeds_agreeing=control["seeds_agreeing"],
                   control_verdict=control["verdict"])
    return out


def attach_controls(rows: list[dict], control_rows: list[dict]) -> list[dict]:
    """Every row of `rows` with its negative control from `control_rows`: the row of the same
    prediction and task on the control architecture of the row's gate
    (`architectures.control_of(arch, row["role_gate"])`, default init). A row without a
    `role_gate`, or whose architecture has no control, gets none ("no control for this
    architecture"). `control_rows` are the same predictions computed on the control cells."""
    from gateroles.architectures import SPECS, control_of

    controls = {(r["task"], r["arch"], r["prediction"]): r for r in control_rows}
    out = []
    for row in rows:
        arch = control_of(row["arch"], row.get("role_gate", ""))
        if arch is None:
            out.append(dict(row, control="no control for this architecture"))
            continue
        held = SPECS[arch].held[row["role_gate"]]
        name = f"{arch} ({row['role_gate']} held at {held:g} in training)"
        out.append(with_control(row, controls.get((row["task"], arch, row["prediction"])),
                                name))
    return out


# Verdicts of a negative control that show the test can fail there.
CONTROL_FAILS = (INCONCLUSIVE, CONTRADICTED, UNTESTABLE)


def counted(table: pd.DataFrame) -> pd.Series:
    """Which rows decide their claim: primary predictions whose negative control ran (enough
    seeds) and did not come out supported."""
    if table.empty:
        return pd.Series(dtype=bool)
    return (table["test"] == PRIMARY) & table["control_verdict"].isin(CONTROL_FAILS)


# The Holm families of a verdict table: each claim's counted primary predictions are one (the
# sanity checks and the uncounted primaries are families of their own, so neither changes the
# counted ones).
FAMILIES = ["claim", "test", "counted"]


def prediction_table(rows) -> pd.DataFrame:
    """Rows of `prediction_row` / `reference_row` (dicts, or a frame of them) as a table
    (`VERDICT_COLUMNS`) with `counted` set and the verdicts *before* Holm: the rows an
    analysis hands to the one that writes its claim's verdict table (`join_verdicts`)."""
    table = pd.DataFrame(rows, columns=VERDICT_COLUMNS)
    if len(table):
        table["counted"] = counted(table)
    return table


def verdict_table(rows, settings: Settings) -> pd.DataFrame:
    """Rows of `prediction_row` / `reference_row` as a table with `counted` set, Holm-adjusted
    within each claim's counted primary predictions (`FAMILIES`: one family per claim; the
    sanity checks and the uncounted primaries are adjusted within their own families, so
    neither changes the counted ones): `p_adjusted`, `verdict` re-decided at the adjusted
    level, `verdict_unadjusted` kept. A negative control is judged unadjusted: the stricter
    choice, since a control that passes drops its prediction."""
    table = prediction_table(rows)
    if table.empty:
        return table.assign(p_adjusted=[], p_opposite_adjusted=[], verdict_unadjusted=[])
    return adjust_verdicts(table, settings.confidence, by=FAMILIES)


def join_verdicts(tables: Sequence[pd.DataFrame | None], settings: Settings) -> pd.DataFrame:
    """One verdict table from the rows of several analyses (`prediction_table`s, or verdict
    tables already adjusted; None: none), adjusted as `verdict_table` does over their union:
    a claim decided by more than one analysis is still one Holm family. A row adjusted before
    is re-decided from its verdict before Holm (`verdict_unadjusted`), so joining adjusted
    tables is valid."""
    frames = []
    for table in tables:
        if table is None or table.empty:
            continue
        if "verdict_unadjusted" in table.columns:
            table = table.assign(verdict=table["verdict_unadjusted"])
        frames.append(table.reindex(columns=VERDICT_COLUMNS))
    return verdict_table(pd.concat(frames, ignore_index=True) if frames else [], settings)


@dataclass(frozen=True)
class Settings:
    """The `analysis` section: how intervals and verdicts across seeds are computed."""

    bootstrap_samples: int  # resamples of the descriptive bootstrap bands (figures, tables)
    confidence: float
    min_seeds: int  # fewer solved seeds than this: "insufficient seeds", no verdict

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(**config["analysis"])
