# gateroles: do recurrent gates learn their roles?  See README.md for the study and the layout.
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


REPO = Path(workflow.basedir)


configfile: str(REPO / "config" / "config.yaml")


include: "workflow/rules/common.smk"


wildcard_constraints:
    task="|".join(config["study"]["tasks"]),
    arch="lstm|gru",
    init="default|forget_bias_1|chrono",
    seed=r"\d+",


include: "workflow/rules/train.smk"
include: "workflow/rules/analyse.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/probes.smk"
include: "workflow/rules/information.smk"
include: "workflow/rules/report.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        "results/report.html",


rule figures:
    input:
        FIGURES,
