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


@dataclass(frozen=True)
class Settings:
    n_sequences: int  # extracted sequences used
    bins: tuple[int, ...]  # bin sweep for MI between gates at step 0 and the end
    main_bins: int  # bins for MI tracked at every checkpoint, the null and unit x variable MI
    n_permutations: int  # sequence-shuffle permutations of the null
    fit_samples: int  # steps sampled from each half of the sequences for DCI and SAP
    dci_estimators: int  # trees per gradient-boosted classifier in DCI
    sap_standardize: bool  # z-score codes before SAP's SVMs (not the reference)
    null_permutations: int  # shuffled-factor permutations of MIG's and modularity's null
    fitted_null_permutations: int  # the same for DCI and SAP (each refits every classifier)
    fitted_every_checkpoint: bool  # DCI and SAP at every checkpoint, not just the two ends
    independence_margin: float  # nats: excess MI within +-this counts as independent (TOST)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        section = config["information"]
        return cls(**{**section, "bins": tuple(section["bins"])})
