# gateroles: do recurrent gates learn their roles?  See README.md for the study and the layout.
from pathlib import Path

from snakemake.utils import min_version

from gateroles.architectures import ARCHITECTURES, INIT_ARMS

min_version("9.0")


REPO = Path(workflow.basedir)


configfile: str(REPO / "config" / "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


wildcard_constraints:
    task="|".join(config["study"]["tasks"]),
    arch="|".join(ARCHITECTURES),
    init="|".join(INIT_ARMS),


# The shared stages (training, gate extraction, the rewired models, the learnability sweep),
# then every analysis's rules, made from its declaration, then the viewer and the report.
include: "workflow/rules/training.smk"
include: "workflow/rules/rewire.smk"
include: "workflow/rules/learnability.smk"
include: "workflow/rules/analyses.smk"
include: "workflow/rules/viewer.smk"
include: "workflow/rules/report.smk"
# A user's own model: a config with a `user_model` section builds its report instead.
include: "workflow/rules/user_model.smk"


rule all:
    default_target: True
    input:
        USER_TARGETS or "results/report.html",


rule figures:
    input:
        [f for _, name, _ in PLAN.figures() for f in figure_outputs(name)],
