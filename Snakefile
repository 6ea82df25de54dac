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


# Shared stages first, then one rules file per analysis (each registers its report section,
# tables and figures), then the report.
include: "workflow/rules/training.smk"
include: "workflow/rules/roles.smk"
include: "workflow/rules/decodability.smk"
include: "workflow/rules/event_locking.smk"
include: "workflow/rules/causal.smk"
include: "workflow/rules/wiring.smk"
include: "workflow/rules/dependence.smk"
include: "workflow/rules/gradient_flow.smk"
include: "workflow/rules/holds.smk"
include: "workflow/rules/learnability.smk"
include: "workflow/rules/emergence.smk"
include: "workflow/rules/saturation.smk"
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
        FIGURES,
