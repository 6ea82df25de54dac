"""What claim C1's probes read and write (gateroles.analyses.declare)."""

from gateroles.analyses.declare import Aggregate, Analysis, PerCell

JOBS = Analysis(
    name="decodability",
    sections=("decodability",),
    category="C1 probes",
    per_cell=(PerCell(tables=("probes",), cells=lambda grid: grid.analysis, runtime=60),),
    aggregate=Aggregate(outputs={"probes": "probes", "ranking": "c1_ranking",
                                 "c1": "c1_verdicts", "controls": "c1_controls"}),
    figures={"c1_selectivity_heatmap": ("probes",), "c1_emergence": ("probes",),
             "c1_task_vs_control": ("probes",)},
    report={"c1": "c1", "c1_ranking": "ranking", "c1_controls": "controls", "probes": "probes"},
)
