"""Dependence and disentanglement (claim C5): are the gates' functions independent?

Two different questions (a coupled gate pair f = 1 - i is maximally *dependent* yet can be
perfectly *specialised*): mutual information between gate types of the same unit, against a
sequence-shuffle permutation null and baselines (different units; given the current input);
and disentanglement scores (MIG, modularity, DCI, SAP) with gate units as codes and task
variables as factors. Estimators: `gateroles.information` (MI) and
`gateroles.disentanglement` (scores).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.settings import from_section, setting


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Claim C5: MI between gates, unit x variable MI and disentanglement metrics
    (gateroles.analyses.dependence)."""

    n_sequences: int = setting(
        100, "Extracted sequences used (at most extraction.n_sequences). 100 x 100 steps = 10k "
        "samples: enough for 32 bins (joint cells <= N/10).", minimum=2, maximum=100000)
    bins: tuple[int, ...] = setting(
        (8, 16, 32), "Bin sweep (quantile bins) for MI between gates at step 0 and the last "
        "step; saturation lowers binned MI by itself (Saxe et al. 2018).",
        items={"type": "integer", "minimum": 2, "maximum": 256}, minItems=1)
    main_bins: int = setting(
        16, "Bins for MI tracked at every checkpoint, for the permutation null and for the "
        "unit x variable MI.", minimum=2, maximum=256)
    n_permutations: int = setting(
        20, "Sequence-shuffle permutations of the null for 'MI above zero' (at step 0 and the "
        "last step).", minimum=0, maximum=10000)
    fit_samples: int = setting(
        500, "Steps sampled from each half of the sequences (fit half, score half) for DCI and "
        "SAP.", minimum=50, maximum=1000000)
    dci_estimators: int = setting(
        10, "Trees per gradient-boosted classifier in DCI (100 = disentanglement_lib; fewer "
        "underestimate informativeness and run faster).", minimum=1, maximum=1000)
    sap_standardize: bool = setting(
        False, "z-score each code before SAP's linear SVMs (false = disentanglement_lib; its "
        "C = 0.01 penalises the intercept, so a code in a narrow band away from 0 cannot be "
        "thresholded).")
    null_permutations: int = setting(
        20, "Shuffled-factor permutations (factor sequences permuted against the codes) of the "
        "MIG and modularity nulls, at step 0 and the last step.", minimum=1, maximum=10000)
    fitted_null_permutations: int = setting(
        1, "The same for DCI and SAP, which refit every classifier per permutation (the "
        "default's one permutation gives each seed a null value; the verdicts average over "
        "seeds).", minimum=1, maximum=1000)
    independence_margin: float = setting(
        0.02, "Equivalence margin (nats) for 'the gates are independent': the excess of "
        "same-unit MI over its permutation null must lie within +-this (TOST over seeds).",
        exclusiveMinimum=0, maximum=10)
    fitted_every_checkpoint: bool = setting(
        False, "DCI and SAP at every checkpoint (slow) instead of step 0 and the last step "
        "only.")

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["dependence"])
