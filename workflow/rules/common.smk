# Config validation (at parse time), the study grid and path helpers shared by every rules file.
from gateroles import code_deps, study
from gateroles.analyses import declare
from gateroles.analyses.registry import ANALYSES
from gateroles.config import validate

validate(config, REPO / "config" / "schema.yaml")

ENV = "../../envs/gateroles.yaml"
SEEDS = config["study"]["seeds"]
# Every analysis's jobs, from its declaration (gateroles.analyses.declare; each package's
# jobs.py): the cells each per-model job runs on, each aggregate's inputs, figures, report.
GRID = declare.Grid.from_config(config)
PLAN = declare.Plan(declare.load(ANALYSES), GRID)
CELLS = list(GRID.cells)
# The cells whose gate files carry the sigmoid gates' logits (an analysis that reads them).
LOGIT_CELLS = PLAN.logit_cells()
CELL = "{task}/{arch}/{init}"
# The order in which ready jobs run (`priority:`). Gate files are temporary (deleted once every
# job that reads them has run; re-made from the checkpoints when one must run again), so a
# cell's readers come first, then rewiring (C4: it trains, but its cell's gates would wait for
# it), then extraction, then training: a cell's gates exist only while its analyses run, and
# the disk holds a few cells' gates at once, not the study's (docs/scaling.md).
PRIORITY = {"train": 0, "extract": 1, "rewire": 2, "read_gates": 3}


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


def benchmark_files():
    """Benchmark files of every job upstream of the report (runtime of each step)."""
    per_cell_rules = {"train": CELLS, "extract_gates": CELLS}
    if "wiring" in PLAN.analyses:
        per_cell_rules.update(rewire=REWIRE_CELLS, extract_rewire=REWIRE_CELLS)
    per_cell_rules.update(
        {job.rule: job.cells for job in PLAN.per_cell_jobs() if job.analysis.name in PLAN.analyses}
    )
    files = [f for rule, cells in per_cell_rules.items() for f in per_cell(bench(rule), cells)]
    single = ["runs_table", "viewer"] + [f"aggregate_{name}" for name in PLAN.analyses]
    single += [f"fig_{name}" for _, name, _ in PLAN.figures()]
    return files + [bench(rule, per_cell_job=False) for rule in single] + SWEEP_BENCHMARKS


def report_inputs(wildcards):
    # One namespace for the report rule's inputs: a table and a figure of one name would
    # silently hand the section the figure's path as its table.
    tables, figures = PLAN.report_tables(), PLAN.report_figures()
    clash = sorted(set(tables) & set(figures))
    if clash:
        raise ValueError(f"report inputs named both a table and a figure: {clash}")
    return {**tables, **figures, "benchmarks": benchmark_files()}


def figure_outputs(name):
    return [f"results/figures/{name}.png", f"results/figures/{name}.pdf"]


def table_path(analysis, name):
    """An aggregate output of `analysis` (`runs`: the runs table)."""
    return "results/tables/runs.csv" if name == "runs" else analysis.table_path(name)


def measure_config(job):
    """A per-model job's config: its analysis's sections and its per-cell flags."""
    base = sections(*job.analysis.sections, *job.spec.sections)
    if not job.spec.flags:
        return base
    return lambda w: {
        **base,
        **{
            flag: decide(GRID, study.Cell(w.task, w.arch, w.init))
            for flag, decide in job.spec.flags.items()
        },
    }
