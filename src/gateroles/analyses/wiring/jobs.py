"""What claim C4's jobs read and write (gateroles.analyses.declare): every C4 model scored
behaviour by behaviour (the reference LSTM and each variant), the rewired models (each trained
lstm / default model of a C4 task with its forget and input blocks swapped, fine-tuned, and
fine-tuned again with the moved blocks frozen: trained and extracted by workflow/rules/
rewire.smk) against their originals, and, with `wiring.two_positions`, claim C2's contrast of
the same initial blocks in two positions. The C4 cells themselves are trained and extracted
with the grid (study.cells adds them)."""

from gateroles.analyses.declare import (
    CHECKPOINTS,
    GATES,
    Aggregate,
    Analysis,
    Figure,
    PerCell,
    Reads,
)
from gateroles.study import Cell


def tasks(grid):
    return grid.config["wiring"]["tasks"]


def rewire_cells(grid):
    if not grid.config["wiring"]["rewire"]["enabled"]:
        return ()
    return tuple(Cell(task, "lstm", "default") for task in tasks(grid))


def behaviour_cells(grid):
    """The models scored behaviour by behaviour: the reference LSTM and every variant."""
    return tuple(Cell(task, arch, "default") for task in tasks(grid)
                 for arch in ["lstm", *grid.config["wiring"]["architectures"]])


def position_cells(grid):
    if not grid.config["wiring"]["two_positions"]:
        return ()
    return tuple(Cell(task, "lstm", init) for task in tasks(grid)
                 for init in ("default", "swap_forget_input"))


# The rewired models' files beside the original's (per seed).
REWIRED = {"gates": "rewire/gates.npz", "frozen_gates": "rewire/frozen_gates.npz",
           "original": "gates.npz", "scores": "rewire/scores.csv", "test": "rewire/test.json",
           "train_log": "rewire/train_log.csv", "frozen_log": "rewire/frozen_log.csv",
           "scratch_log": "train_log.csv"}

JOBS = Analysis(
    name="wiring",
    sections=("wiring", "roles", "training"),
    category="C4 roles come from wiring",
    enabled=lambda grid: bool(tasks(grid)),
    per_cell=(
        PerCell(rule="behaviours", module="behaviour", tables=("behaviours", "writing"),
                cells=behaviour_cells, reads={**GATES, **CHECKPOINTS}, runtime=10),
        PerCell(rule="wiring", tables=("rewire_scores", "rewire_curve", "rewire_effects",
                                       "rewire_distance"),
                cells=rewire_cells, reads=REWIRED),
    ),
    aggregate=Aggregate(
        outputs={"scores": "c4_scores", "variants": "c4_variants", "behaviours": "c4_behaviours",
                 "behaviour_summary": "c4_behaviour_summary", "writing": "c4_writing",
                 "ranking": "c4_ranking", "gap": "c4_gap", "positions": "c4_positions",
                 "rewire_summary": "c4_rewire_summary", "rewire": "c4_rewire",
                 "curves": "c4_curves", "c4": "c4_verdicts"},
        reads={"contrast": Reads("event_locking", "contrast", position_cells)},
    ),
    figures={"c4_variants": ("scores",), "c4_behaviours": ("behaviours", "writing"),
             "c4_rewire": ("rewire", "curves"),
             "c4_two_positions": Figure(("positions",), when=lambda grid: bool(
                 position_cells(grid)))},
    report={"c4": "c4", "c4_summary": "variants", "c4_behaviour_summary": "behaviour_summary",
            "c4_ranking": "ranking", "c4_gap": "gap", "c4_rewire_summary": "rewire_summary"},
)
