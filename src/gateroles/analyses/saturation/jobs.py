"""What the saturation analysis's jobs read and write (gateroles.analyses.declare)."""

from gateroles.analyses.declare import Aggregate, Analysis, PerCell

JOBS = Analysis(
    name="saturation",
    sections=("saturation",),
    category="Saturation",
    per_cell=(PerCell(tables=("saturation",), cells=lambda grid: grid.analysis),),
    aggregate=Aggregate(outputs={"saturation": "saturation", "summary": "saturation_summary"}),
    figures={"saturation": ("saturation",)},
    report={"saturation_summary": "summary"},
)
