"""Claim C5 per model: are the gates statistically independent, and are they disentangled?

Two different questions (a coupled gate pair f = 1 - i is maximally *dependent* yet can be
perfectly *specialised*):

* **Dependence between gates.** Mutual information (binned, quantile bins, Miller-Madow;
  `gateroles.information`) between two gate types of the *same unit index* (LSTM
  forget-input, forget-output, input-output; GRU reset-update), on the activations and on the
  pre-activations (logits), for a sweep of bin counts. Sigmoid gates saturate and binned MI
  then drops for reasons unrelated to learning (Saxe et al. 2018); the logits do not
  saturate, and quantile bins are rank-based, so MI on logits is the saturation-free reading.
  Summaries per checkpoint: `same_unit` = mean over units j of MI(a_j, b_j); `shifted_unit`
  = mean of MI(a_j, b_{j+1}) (different units: the baseline that any two units of one network
  share through their common input); `population` = MI of the two gates' population means;
  `same_unit_given_input` = mean of I(a_j; b_j | current input type): every gate is a function
  of the same (x_t, h_{t-1}), so much of the dependence is the shared input token; what is
  left flows through the shared recurrent state; `shifted_unit_given_input` is its baseline
  (different units given the input: what any two units share through the state).
  A permutation null for "above zero": the sequences of gate b are shuffled against those of
  gate a (time within a sequence kept, so autocorrelation and any dependence on the position
  in the sequence stay in the null, which makes it conservative).
* **Disentanglement.** Codes = the units of every sigmoid gate (one column per unit per
  gate), factors = the task's discrete variables (continuous ones, e.g. the adding task's
  partial sum, are left out). MIG and modularity (no fitting) on all steps; DCI and SAP fit
  on one half of the sequences and scored on the other half (split by sequence, never by
  step), on a subsample of steps from each half.
* **Unit x variable MI**: every gate unit against every discrete variable (the heatmap).

**The negative control** of every test against a permutation null (`held_out`): the first
draw of the null is held out as `null_draw`, a value where the structure is absent by
construction (gate b's sequences shuffled against gate a's; the factors' sequences shuffled
against the codes), and `null_mean`, `null_q95` and `p_value` come from the remaining draws.
The aggregate runs each test on `null_draw - null_mean` too, where it must not come out
supported. No extra permutation: the null is one draw smaller (with a single draw there is
nothing to hold out, and `null_draw` is NaN).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from gateroles import disentanglement, probes
from gateroles.analyses.dependence import Settings
from gateroles.architectures import SIGMOID_GATES
from gateroles.disentanglement import NullResult
from gateroles.information import conditional_paired_mi, discretize, paired_mi
from gateroles.study import Run

# Pairs of sigmoid gates of one architecture, in a fixed order (forget-input, forget-output,
# input-output; reset-update); a variant has the pairs of the gates it keeps.
_PAIR_ORDER = ("forget", "input", "output", "reset", "update")
GATE_PAIRS = {arch: tuple(itertools.combinations(
    sorted(gates, key=_PAIR_ORDER.index), 2)) for arch, gates in SIGMOID_GATES.items()}
REPRESENTATIONS = ("activation", "logit")


def held_out(result: NullResult) -> dict:
    """`result.summary()` with the null's first draw held out as `null_draw` (the negative
    control: the score where the structure is absent by construction) and `null_mean`,
    `null_q95`, `p_value` and `n_permutations` from the remaining draws. A null of one draw
    has none to spare: `null_draw` is NaN and the summary is that draw's."""
    if result.null.size < 2:
        return {**result.summary(), "null_draw": np.nan}
    rest = NullResult(result.observed, result.null[1:])
    return {**rest.summary(), "null_draw": float(result.null[0])}


def _flat(x: np.ndarray) -> np.ndarray:
    """`[N, T, H]` -> `[N * T, H]` float32 (inputs may be float16)."""
    return x.reshape(-1, x.shape[-1]).astype(np.float32)


def gate_pair_rows(arrays: dict[str, np.ndarray], arch: str, bins: list[int], *,
                   n_permutations: int = 0, main_bins: int | None = None,
                   input_types: np.ndarray | None = None, binning: str = "quantile",
                   seed: int = 0) -> list[dict]:
    """Dependence between gate types of one checkpoint, one representation.

    `arrays`: gate -> `[N, T, H]` (activations or logits). One row per pair x bins x summary
    with `mi`; rows at `main_bins` also carry the permutation null (sequences of gate b
    shuffled against gate a) when `n_permutations` > 0: its first draw held out as
    `null_draw`, `null_mean`, `null_q95` and `p_value` from the others (`held_out`).
    With `input_types` `[N, T]` (the current input's type), the summary `same_unit_given_input`
    is I(a_j; b_j | input type) averaged over units: the dependence left once the shared
    current input is accounted for (what remains flows through the shared state h_{t-1}).
    `binning="uniform"` (equal-width bins) is there to show what saturation does to it.
    """
    rng = np.random.default_rng(seed)
    n_seq, t_len, _ = arrays[SIGMOID_GATES[arch][0]].shape
    perms = [rng.permutation(n_seq) for _ in range(n_permutations)]
    rows = []
    for b_count in bins:
        codes = {g: discretize(_flat(arrays[g]), b_count, binning) for g in SIGMOID_GATES[arch]}
        means = {g: discretize(arrays[g].astype(np.float32).mean(-1).reshape(-1, 1), b_count,
                               binning) for g in SIGMOID_GATES[arch]}
        for ga, gb in GATE_PAIRS[arch]:
            ca, cb, ma, mb = codes[ga], codes[gb], means[ga], means[gb]
            values = {"same_unit": paired_mi(ca, cb).mean(),
                      "shifted_unit": paired_mi(ca, np.roll(cb, 1, axis=1)).mean(),
                      "population": paired_mi(ma, mb)[0]}
            if input_types is not None:
                z = input_types.reshape(-1)
                values["same_unit_given_input"] = conditional_paired_mi(ca, cb, z).mean()
                values["shifted_unit_given_input"] = conditional_paired_mi(
                    ca, np.roll(cb, 1, axis=1), z).mean()
            null = {}
            if perms and b_count == main_bins:
                cb3, mb3 = cb.reshape(n_seq, t_len, -1), mb.reshape(n_seq, t_len, 1)
                null["same_unit"] = np.array([paired_mi(ca, cb3[p].reshape(ca.shape)).mean()
                                              for p in perms])
                null["population"] = np.array([paired_mi(ma, mb3[p].reshape(-1, 1))[0]
                                               for p in perms])
                if input_types is not None:
                    null["same_unit_given_input"] = np.array([conditional_paired_mi(
                        ca, cb3[p].reshape(ca.shape), z).mean() for p in perms])
            for summary, mi in values.items():
                row = {"pair": f"{ga}-{gb}", "bins": b_count, "summary": summary,
                       "mi": float(mi), "null_mean": np.nan, "null_q95": np.nan,
                       "p_value": np.nan, "null_draw": np.nan}
                if summary in null:
                    held = held_out(NullResult(float(mi), null[summary]))
                    row.update({k: held[k] for k in ("null_mean", "null_q95", "p_value",
                                                      "null_draw")})
                rows.append(row)
    return rows


def discrete_factors(factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The integer-valued task variables (continuous ones, stored as floats, are left out)."""
    return {k: v for k, v in factors.items() if np.issubdtype(v.dtype, np.integer)}


def gate_codes(acts: dict[str, np.ndarray], arch: str) -> tuple[np.ndarray, list[tuple]]:
    """`[N * T, n_gates * H]` codes (every unit of every sigmoid gate) and (gate, unit) labels."""
    cols, labels = [], []
    for gate in SIGMOID_GATES[arch]:
        cols.append(_flat(acts[gate]))
        labels += [(gate, u) for u in range(acts[gate].shape[-1])]
    return np.concatenate(cols, axis=1), labels


def unit_factor_rows(acts: dict[str, np.ndarray], arch: str, factors: dict[str, np.ndarray],
                     bins: int) -> list[dict]:
    """MI (nats, quantile bins, Miller-Madow) of every gate unit with every discrete variable,
    and the variable's entropy (`factor_entropy`, the upper bound of that MI)."""
    from gateroles.information import mi_with_factor

    codes, labels = gate_codes(acts, arch)
    rows = []
    for name, values in factors.items():
        _, counts = np.unique(values, return_counts=True)
        if counts.size < 2:
            continue
        p = counts / counts.sum()
        entropy = float(-np.sum(p * np.log(p)))  # H(variable): the most any code can carry
        mi = mi_with_factor(codes, values.reshape(-1), bins=bins)
        rows += [{"gate": g, "unit": u, "factor": name, "mi": float(m),
                  "factor_entropy": entropy} for (g, u), m in zip(labels, mi, strict=True)]
    return rows


def sequence_halves(n_sequences: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of the sequence indices into a fitting half and a scoring half."""
    order = np.random.default_rng(seed).permutation(n_sequences)
    return np.sort(order[: n_sequences // 2]), np.sort(order[n_sequences // 2:])


def disentanglement_rows(acts: dict[str, np.ndarray], arch: str,
                         factors: dict[str, np.ndarray], *, fitted: bool, settings: Settings,
                         seed: int = 0) -> list[dict]:
    """MIG and modularity (every step), DCI and SAP (with `fitted`), each beside its null.

    Codes = every unit of every sigmoid gate; level `unit` scores single units, level `gate`
    the units of one gate type pooled as one code group (several units of one gate carrying
    one variable is not entanglement between gates; MIG and modularity only). With `fitted`
    (step 0 and the last step), every score gets its shuffled-factor null (the factors'
    sequences permuted against the codes': `null_draw` held out, `null_mean`, `null_q95`,
    `p_value` from the other draws, `held_out`); DCI and SAP
    are fit on one half of the sequences and scored on the other. Factors with a single value
    (in the sample, or in the fitting subsample for DCI and SAP) are dropped (`n_factors`).
    """
    codes, labels_ = gate_codes(acts, arch)
    groups = np.array([gate for gate, _ in labels_])
    names = [k for k, v in factors.items() if np.unique(v).size > 1]
    if not names or codes.shape[1] < 2:
        return []
    n_seq, t_len = factors[names[0]].shape
    labels = np.stack([factors[k].reshape(-1) for k in names], axis=1)
    levels = {"unit": None, **({"gate": groups} if len(set(groups)) > 1 else {})}
    rows = []
    for level, code_groups in levels.items():
        common = {"n_factors": len(names), "level": level}
        if not fitted:
            rows += [{"metric": "mig", "value": disentanglement.mig(
                          codes, labels, code_groups=code_groups), **common},
                     {"metric": "modularity", "value": disentanglement.modularity(
                          codes, labels, code_groups=code_groups), **common}]
            continue
        nulls = disentanglement.shuffled_factor_null(
            ["mig", "modularity"], codes, labels, n_seq, settings.null_permutations, seed,
            code_groups=code_groups)
        rows += [{"metric": name, **held_out(result), **common}
                 for name, result in nulls.items()]
    if not fitted:
        return rows
    rng = np.random.default_rng(seed)
    fit_seq, score_seq = sequence_halves(n_seq, seed)
    steps = np.arange(t_len)

    def sample(seqs):
        idx = (seqs[:, None] * t_len + steps[None, :]).ravel()
        return np.sort(rng.choice(idx, min(settings.fit_samples, idx.size), replace=False))

    fit, score = sample(fit_seq), sample(score_seq)
    keep = [k for k in range(len(names)) if np.unique(labels[fit, k]).size > 1]
    if not keep:
        return rows
    nulls = disentanglement.shuffled_factor_null(
        ["dci", "sap"], codes, labels[:, keep], n_seq, settings.fitted_null_permutations, seed,
        fit_index=fit, score_index=score, n_estimators=settings.dci_estimators,
        standardize=settings.sap_standardize)
    rows += [{"metric": name, **held_out(result), "n_factors": len(keep), "level": "unit"}
             for name, result in nulls.items()]
    return rows


def measure(inputs, run: Run, settings: Settings) -> dict[str, pd.DataFrame]:
    """The three C5 tables of one model: `gate_mi`, `unit_factor`, `disentanglement`.

    The first `n_sequences` sequences are used for MI between gates and with the variables.
    To bound the cost, the bin sweep, the permutation null, the unit x variable MI and the
    fitted metrics (DCI, SAP; unless `fitted_every_checkpoint`) are computed at step 0 and the
    last step only; the other checkpoints get MI between gates at `main_bins` bins, MIG and
    modularity. MI between gates given the input uses the current input's type per step
    (`probes.input_types`).
    """
    gates, arch, seed = inputs.gates, run.arch, run.seed
    if not SIGMOID_GATES[arch]:  # the tanh RNN has no gates
        return {name: pd.DataFrame(columns=["step", "final_step"])
                for name in ("gate_mi", "unit_factor", "disentanglement")}
    factors = gates.variables
    n_seq = min(settings.n_sequences, len(next(iter(factors.values()))))
    factors = {k: v[:n_seq] for k, v in discrete_factors(factors).items()}
    # Types from every extracted sequence (continuous inputs are binned over their range).
    input_types = probes.input_types(gates.inputs)[:n_seq]
    final = gates.final_step
    gate_rows, unit_rows, dis_rows = [], [], []
    for step in gates.steps:
        ends = step in (0, final)
        acts = {g: gates.gates(step)[g][:n_seq] for g in SIGMOID_GATES[arch]}
        reps = {"activation": acts}
        logits = gates.logits(step)
        if logits:
            reps["logit"] = {g: logits[g][:n_seq] for g in SIGMOID_GATES[arch]}
        # The bin sweep at the two ends (where the verdict compares); between them, one count.
        bins = list(settings.bins) if ends else [settings.main_bins]
        for rep, arrays in reps.items():
            gate_rows += [{**r, "representation": rep, "step": step} for r in gate_pair_rows(
                arrays, arch, bins, n_permutations=settings.n_permutations if ends else 0,
                main_bins=settings.main_bins, seed=seed, input_types=input_types)]
        if ends:
            # Equal-width bins on the activations: the estimator that saturation misleads.
            gate_rows += [{**r, "representation": "activation_equal_width", "step": step}
                          for r in gate_pair_rows(acts, arch, bins, binning="uniform")]
            unit_rows += [{**r, "step": step} for r in unit_factor_rows(
                acts, arch, factors, settings.main_bins)]
        fitted = ends or settings.fitted_every_checkpoint
        dis_rows += [{**r, "step": step} for r in disentanglement_rows(
            acts, arch, factors, fitted=fitted, settings=settings, seed=seed)]
    final_step = {"final_step": final}
    return {"gate_mi": pd.DataFrame(gate_rows).assign(**final_step),
            "unit_factor": pd.DataFrame(unit_rows).assign(**final_step),
            "disentanglement": pd.DataFrame(dis_rows).assign(**final_step)}
