"""What claim C2's jobs read and write (gateroles.analyses.declare): the gates of the analysis
cells and the negative controls' cells (and of any cell another analysis reads C2 tables of)."""

from gateroles.analyses.declare import Aggregate, Analysis, PerCell

JOBS = Analysis(
    name="event_locking",
    sections=("event_locking",),
    category="C2 event-locked dynamics",
    per_cell=(PerCell(tables=("contrast", "aligned", "units"), cells=lambda grid: grid.analysis),),
    aggregate=Aggregate(
        outputs={"contrast": "eta_contrast", "aligned": "eta_aligned", "units": "eta_units",
                 "c2": "c2_verdicts"},
        controls=("contrast", "units"),
    ),
    figures={"event_averages": ("aligned",)},
    report={"c2": "c2"},
)
