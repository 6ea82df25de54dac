"""What claim C6's learnability sweep reads and writes (gateroles.analyses.declare): its own
models (one job per task x architecture x init trains every seed at each hold of the task's
sweep: workflow/rules/learnability.smk), no grid cell. Its predictions (before Holm) join C6's
one verdict table (gradient_flow's aggregate), which its report section reads too."""

from gateroles.analyses.declare import Aggregate, Analysis
from gateroles.analyses.learnability import Settings


def sweep_arms(config) -> list[str]:
    """`<sweep>/<arch>/<init>` of every sweep job the config asks for."""
    settings = Settings.from_config(config)
    return [f"{task}/{arch}/{init}" for task in settings.sweeps()
            for arch, init in settings.arms()]


def sweep_files(grid) -> list[str]:
    return [f"results/learnability/{arm}/sweep.csv" for arm in sweep_arms(grid.config)]


JOBS = Analysis(
    name="learnability",
    sections=("learnability",),
    category="C6 gradient highway",
    enabled=lambda grid: bool(sweep_arms(grid.config)),
    aggregate=Aggregate(
        outputs={"reach": "learnability_reach", "holds": "learnability_holds",
                 "longest": "learnability_longest", "predictions": "learnability_predictions"},
        files={"sweeps": sweep_files},
        runs=False, mem_mb=2000, runtime=10,
    ),
    figures={"c6_learnability": ("holds",)},
    report={"learnability_longest": "longest", "learnability_holds": "holds"},
)
