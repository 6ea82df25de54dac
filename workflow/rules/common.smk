# Config validation (at parse time), the study grid and path helpers shared by every rules file.
from gateroles import code_deps, study
from gateroles.config import validate

validate(config, REPO / "config" / "schema.yaml")

ENV = "../../envs/gateroles.yaml"
SEEDS = config["study"]["seeds"]
CELLS = study.cells(config)
# The cells the per-model analyses of claims C1, C2, C3, C5 and saturation run on and decide:
# the main grid, without the cells only claim C4 adds (they would enlarge each claim's Holm
# family with models the claim is not about), unless `wiring.all_analyses`. C4 and C6 register
# the extra cells they read (wiring.smk, gradient_flow.smk).
ANALYSIS_CELLS = CELLS if config["wiring"]["all_analyses"] else study.cells(config, True)
# The negative controls (config `controls`): the same primary tests run on these cells, where
# the role is absent by construction. An analysis with primary tests runs on both.
CONTROL_CELLS = study.control_cells(config)
TESTED_CELLS = list(dict.fromkeys(ANALYSIS_CELLS + CONTROL_CELLS))
CELL = "{task}/{arch}/{init}"
# The order in which ready jobs run (`priority:`). Gate files are temporary (deleted once every
# job that reads them has run; re-made from the checkpoints when one must run again), so a
# cell's readers come first, then rewiring (C4: it trains, but its cell's gates would wait for
# it), then extraction, then training: a cell's gates exist only while its analyses run, and
# the disk holds a few cells' gates at once, not the study's (docs/scaling.md).
PRIORITY = {"train": 0, "extract": 1, "rewire": 2, "read_gates": 3}
# The cells whose gate files carry the sigmoid gates' logits: each analysis that reads them
# adds its cells (dependence.smk); elsewhere they would be a third of the file, unread.
LOGIT_CELLS = set()


def per_seed(name):
    """The per-seed files `name` of one grid cell (the cell's wildcards left in place)."""
    return expand(
        "results/runs/{{task}}/{{arch}}/{{init}}/seed{seed}/{name}", seed=SEEDS, name=name
    )


def cell_table(analysis, table):
    """One analysis's per-model table, all seeds of one grid cell."""
    return f"results/runs/{CELL}/{analysis}/{table}.csv"


def per_run(name):
    """The per-seed file `name` of every run of the grid."""
    return [f"results/runs/{run.path}/{name}" for run in study.runs(config)]


def per_cell(pattern, cells=None):
    """`pattern` (with the cell wildcards) expanded over every cell of the grid (or `cells`)."""
    return [
        pattern.format(task=c.task, arch=c.arch, init=c.init)
        for c in (CELLS if cells is None else cells)
    ]


def control_inputs(analysis, *tables):
    """The aggregate's inputs `control_<table>`: `analysis`'s per-cell `tables` of the negative
    controls' cells (none when the config runs no controls)."""
    inputs = {
        f"control_{table}": per_cell(cell_table(analysis, table), CONTROL_CELLS) for table in tables
    }
    return lambda wildcards: inputs if CONTROL_CELLS else {}


def lib(*modules):
    """Source files of `modules` and of every gateroles module they import (code_deps), so a
    change to the logic reruns exactly the jobs that run it."""
    return code_deps.files(*modules)


def caption(analysis, figure):
    return f"../../src/gateroles/analyses/{analysis}/captions/{figure}.rst"


def log(name, per_cell_job=True):
    return f"results/logs/{name}/{CELL}.log" if per_cell_job else f"results/logs/{name}.log"


def bench(name, per_cell_job=True):
    return (
        f"results/benchmarks/{name}/{CELL}.tsv"
        if per_cell_job
        else f"results/benchmarks/{name}.tsv"
    )


def sections(*names):
    """The config sections a job depends on (params: a change to them reruns its jobs), with
    every mapping's keys sorted: Snakemake compares params including their key order, and
    merging a --configfile reorders keys, so the same values given in another order would
    otherwise rerun every job."""
    return {name: sorted_keys(config[name]) for name in names}


def sorted_keys(value):
    """`value` with every mapping's keys sorted (the report's params take the whole config)."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value, key=str)}
    return value


# What the report reads. Each rules file registers its own section, tables, figures and rules
# (for the runtime table), so adding an analysis does not mean editing the report rule.
REPORT_SECTIONS = []
REPORT_TABLES = {}
REPORT_FIGURES = {}
FIGURES = []
CELL_RULES = []
RULE_CELLS = {}  # per-cell rules that run on some cells only: rule -> its cells
SINGLE_RULES = []
OTHER_BENCHMARKS = []  # benchmark files of jobs that are neither per cell nor single


def benchmark_files():
    """Benchmark files of every job upstream of the report (runtime of each step)."""
    files = [f for name in CELL_RULES for f in per_cell(bench(name))]
    files += [f for name, cells in RULE_CELLS.items() for f in per_cell(bench(name), cells)]
    return files + [bench(name, per_cell_job=False) for name in SINGLE_RULES] + OTHER_BENCHMARKS


def report_inputs(wildcards):
    # One namespace for the report rule's inputs: a table and a figure of one name would
    # silently hand the section the figure's path as its table.
    clash = sorted(set(REPORT_TABLES) & set(REPORT_FIGURES))
    if clash:
        raise ValueError(f"report inputs named both a table and a figure: {clash}")
    return {**REPORT_TABLES, **REPORT_FIGURES, "benchmarks": benchmark_files()}


def figure_outputs(name):
    return [f"results/figures/{name}.png", f"results/figures/{name}.pdf"]
