"""What claim C6's gradient jobs read and write (gateroles.analyses.declare). Its cells: the
analysis cells and, where the grid trains them, the architectures C6 reads beyond them
(`EXTRA_ARCHS`: the tanh RNN, lstm_nfg and the highway's negative controls). C6 is one Holm
family: its aggregate adjusts its rows together with learnability's predictions, where the
config runs a learnability sweep."""

from gateroles.analyses.declare import CHECKPOINTS, GATES, Aggregate, Analysis, PerCell, unique
from gateroles.analyses.gradient_flow import EXTRA_ARCHS


def gradient_cells(grid):
    return unique(grid.analysis + tuple(c for c in grid.cells if c.arch in EXTRA_ARCHS))


JOBS = Analysis(
    name="gradient_flow",
    sections=("gradient_flow", "roles"),
    category="C6 gradient highway",
    per_cell=(PerCell(tables=("by_lag", "efold", "interval_lag", "interval_store"),
                      cells=gradient_cells, reads={**GATES, **CHECKPOINTS}),),
    aggregate=Aggregate(
        outputs={"by_lag": "gradient_by_lag", "efold": "gradient_efold", "summary": "c6_efold",
                 "interval_lag": "gradient_interval_lag",
                 "interval_store": "gradient_interval_store", "intervals": "c6_intervals",
                 "c6": "c6_verdicts"},
        tables={"learnability": ("learnability", "predictions")},
    ),
    figures={"c6_interval_gradients": ("interval_lag",), "c6_gradient_by_lag": ("by_lag",),
             "c6_gradient_paths": ("by_lag",)},
    report={"c6": "c6", "c6_efold": "summary", "c6_intervals": "intervals"},
)
