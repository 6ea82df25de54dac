"""What claim C3's jobs read and write (gateroles.analyses.declare): matched interchanges and
unit ablation on the analysis cells (step 0 and trained) and on the negative controls' cells
(trained only: `control_only`), role-off clamps and weight-block swaps on the analysis cells."""

from gateroles.analyses.declare import CHECKPOINTS, GATES, Aggregate, Analysis, PerCell

JOBS = Analysis(
    name="causal",
    sections=("causal",),
    category="C3 causal roles",
    per_cell=(PerCell(
        tables=("matrix", "ablation", "ablation_null", "swaps"),
        cells=lambda grid: grid.tested,
        reads={**GATES, **CHECKPOINTS},
        flags={"control_only": lambda grid, cell: cell not in grid.analysis},
        runtime=30,
    ),),
    aggregate=Aggregate(outputs={
        "c3": "c3_verdicts", "matrix": "causal_matrix", "ablation": "causal_ablation",
        "ablation_models": "causal_ablation_models", "ablation_null": "causal_ablation_null",
        "swaps": "causal_swaps"}),
    figures={"causal_matrix": ("matrix",), "causal_null": ("ablation_models", "ablation_null")},
    report={"c3": "c3", "causal_ablation": "ablation", "causal_swaps": "swaps"},
)
