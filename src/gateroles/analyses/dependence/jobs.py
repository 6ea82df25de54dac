"""What claim C5's jobs read and write (gateroles.analyses.declare): the gates and, for the
mutual information, the sigmoid gates' logits of the analysis cells."""

from gateroles.analyses.declare import Aggregate, Analysis, PerCell

JOBS = Analysis(
    name="dependence",
    sections=("dependence",),
    category="C5 disentanglement",
    per_cell=(PerCell(tables=("gate_mi", "unit_factor", "disentanglement"),
                      cells=lambda grid: grid.analysis, logits=True, runtime=60),),
    aggregate=Aggregate(outputs={
        "gate_mi": "gate_mi", "unit_factor": "unit_factor_mi",
        "disentanglement": "disentanglement", "dependence": "c5_dependence",
        "disent_change": "c5_disentanglement", "c5": "c5_verdicts"}),
    figures={"c5_gate_mi": ("gate_mi",), "c5_disentanglement": ("disentanglement",),
             "c5_unit_factor_mi": ("unit_factor",)},
    report={"c5": "c5", "c5_dependence": "dependence", "c5_scores": "disent_change"},
)
