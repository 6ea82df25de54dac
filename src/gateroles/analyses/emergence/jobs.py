"""What claim C7's jobs read and write (gateroles.analyses.declare): the push each gate receives
at its events (a backward pass per checkpoint on the analysis cells and, where the grid trains
them, the swapped initial blocks: `every_checkpoint`; at step 0 and the end of the replayed
window only on the negative controls' cells) and over the replayed first steps of training."""

from gateroles.analyses.declare import CHECKPOINTS, GATES, Aggregate, Analysis, PerCell, unique
from gateroles.analyses.emergence import REPLAY_SECTIONS


def emergence_cells(grid):
    return unique(grid.analysis + tuple(c for c in grid.cells if c.init == "swap_forget_input"))


JOBS = Analysis(
    name="emergence",
    sections=("emergence", "roles"),
    category="C7 how roles are written",
    per_cell=(PerCell(
        tables=("push", "updates", "units", "outcome", "replay"),
        cells=emergence_cells,
        reads={**GATES, **CHECKPOINTS},
        flags={"every_checkpoint": lambda grid, cell: cell in emergence_cells(grid)},
        sections=REPLAY_SECTIONS,
    ),),
    aggregate=Aggregate(
        outputs={"push": "c7_push", "updates": "c7_updates", "units": "c7_units",
                 "fate": "c7_fate", "replay": "c7_replay", "controls": "c7_controls",
                 "holds": "c7_holds", "by_step": "c7_by_step", "c7": "c7_verdicts"},
        controls=("push", "updates", "replay"),
    ),
    figures={"c7_mechanism": ("push", "updates")},
    report={"c7": "c7", "c7_controls": "controls", "c7_replay": "replay",
            "c7_by_step": "by_step"},
)
