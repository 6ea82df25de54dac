"""What the training summary reads and writes (gateroles.analyses.declare): every run's
training log. Training itself, gate extraction and the runs table (solved flags, read by every
aggregate) are the shared stages of workflow/rules/training.smk."""

from gateroles.analyses.declare import Aggregate, Analysis


def train_logs(grid) -> list[str]:
    return [f"results/runs/{run.path}/train_log.csv" for run in grid.runs()]


JOBS = Analysis(
    name="training",
    sections=(),
    category="Training",
    aggregate=Aggregate(outputs={"training": "training_curves"}, files={"train_log": train_logs}),
    figures={"training_curves": ("training", "runs")},
    report={"runs": "results/tables/runs.csv", "solved": "results/tables/solved_by_task.csv"},
)
