"""What claim C1's role tests read and write (gateroles.analyses.declare): the gates of the
analysis cells and of the negative controls' cells."""

from gateroles.analyses.declare import Aggregate, Analysis, PerCell

JOBS = Analysis(
    name="roles",
    sections=("roles",),
    category="C1 role tests",
    per_cell=(PerCell(tables=("shares", "context"), cells=lambda grid: grid.analysis),),
    aggregate=Aggregate(
        outputs={"shares": "c1_shares", "context": "c1_context", "c1_roles": "c1_roles"},
        controls=("shares", "context"),
    ),
    figures={"c1_attribution": ("shares",), "c1_context": ("context",)},
    report={"c1_roles": "c1_roles"},
)
