"""What claim C8's jobs read and write (gateroles.analyses.declare). Where the memory lives:
every cell C6 measures whose task has store-to-query intervals (the gradient at the store comes
from gradient_flow's tables of the same cells). The role trends: the hold tasks' analysis cells
and negative controls, from roles' and causal's tables."""

from gateroles import tasks
from gateroles.analyses.declare import Aggregate, Analysis, PerCell, Reads
from gateroles.analyses.gradient_flow.jobs import gradient_cells


def memory_cells(grid):
    return tuple(c for c in gradient_cells(grid) if not tasks.get(c.task).lacks("holds"))


def hold_cells(grid):
    return tuple(c for c in grid.analysis if tasks.get(c.task).has_hold)


def hold_control_cells(grid):
    return tuple(c for c in grid.controls if tasks.get(c.task).has_hold)


JOBS = Analysis(
    name="holds",
    sections=("holds", "roles"),
    category="C8 hold length",
    per_cell=(PerCell(tables=("keep",), cells=memory_cells),),
    aggregate=Aggregate(
        outputs={"values": "holds_values", "by_hold": "holds_by_hold", "c8": "c8_verdicts"},
        reads={
            "interval_store": Reads("gradient_flow", "interval_store", memory_cells),
            "shares": Reads("roles", "shares", hold_cells),
            "context": Reads("roles", "context", hold_cells),
            "matrix": Reads("causal", "matrix", hold_cells),
            "control_shares": Reads("roles", "shares", hold_control_cells),
            "control_context": Reads("roles", "context", hold_control_cells),
            "control_matrix": Reads("causal", "matrix", hold_control_cells),
        },
    ),
    figures={"holds_memory": ("by_hold",), "holds_roles": ("by_hold",)},
    report={"c8": "c8", "holds_by_hold": "by_hold"},
)
