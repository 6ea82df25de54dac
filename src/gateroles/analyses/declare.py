"""What each analysis's jobs read and write, declared once, and the job plan made from it.

An analysis package declares its jobs in `jobs.py` as `JOBS = Analysis(...)`: its per-model
jobs (`PerCell`: which cells, which per-seed files, which tables), its aggregate (`Aggregate`:
which tables it writes, what else it reads), its figures (figure -> the aggregate tables it
draws) and the tables its report section reads. `workflow/rules/analyses.smk` makes every rule
from these declarations through `plan`; nothing else names an analysis's modules, tables or
figures. Cells are given as functions of the study's `Grid`, so a declaration says *which*
cells (the analysis cells, the negative controls, ...) and the plan works out the lists.

The plan is order-free: a per-model job runs on its own cells, on the controls' cells where its
aggregate reads control tables, and on every cell another analysis's aggregate reads its
tables of (`Reads`), whatever order the analyses are listed in.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gateroles import study
from gateroles.study import Cell

# Per-seed files a per-model job reads, by the name its `measure` sees.
GATES = {"gates": "gates.npz"}
CHECKPOINTS = {"checkpoints": "checkpoints.pt"}
TABLES = "results/tables"


@dataclass(frozen=True)
class Grid:
    """The study's cells by what they are for, made once from the config."""

    config: dict
    cells: tuple[Cell, ...]  # every cell the study trains
    analysis: tuple[Cell, ...]  # the cells the per-model analyses decide (main grid)
    controls: tuple[Cell, ...]  # the negative controls' cells

    @classmethod
    def from_config(cls, config: dict) -> Grid:
        analysis = study.cells(config, not config["wiring"]["all_analyses"])
        return cls(config, tuple(study.cells(config)), tuple(analysis),
                   tuple(study.control_cells(config)))

    @property
    def tested(self) -> tuple[Cell, ...]:
        """The analysis cells and the controls' cells: where a primary test runs."""
        return unique(self.analysis + self.controls)

    @property
    def seeds(self) -> list[int]:
        return self.config["study"]["seeds"]

    def runs(self) -> list[study.Run]:
        return [run for cell in self.cells for run in cell.runs(self.seeds)]


Cells = Callable[[Grid], "tuple[Cell, ...] | list[Cell]"]


def unique(cells) -> tuple[Cell, ...]:
    return tuple(dict.fromkeys(cells))


@dataclass(frozen=True)
class PerCell:
    """One job per cell: `<package>.<module>.measure` over every seed of the cell.

    `cells`: the cells whose tables the aggregate reads as its own; `reads`: input name ->
    per-seed file (relative to the seed's folder); `flags`: per-cell settings added to the
    job's config (name -> function of the grid and the cell); `logits`: the gate files of its
    cells carry the sigmoid gates' logits; `sections`: config sections beyond the analysis's.
    """

    tables: tuple[str, ...]
    cells: Cells
    reads: Mapping[str, str] = field(default_factory=lambda: dict(GATES))
    rule: str = ""  # default: the analysis's name
    module: str = "measure"
    flags: Mapping[str, Callable[[Grid, Cell], bool]] = field(default_factory=dict)
    logits: bool = False
    sections: tuple[str, ...] = ()
    runtime: int = 20  # minutes (the SLURM profile sets the paper scale's)


@dataclass(frozen=True)
class Reads:
    """Another per-model job's table over some cells (`analysis`: the analysis it belongs to)."""

    analysis: str
    table: str
    cells: Cells


@dataclass(frozen=True)
class Aggregate:
    """The analysis's tables across cells and seeds, with its verdict rows.

    `outputs`: name -> file stem under results/tables. It reads each per-model job's tables
    over that job's cells; `controls`: those also read over the controls' cells (as
    `control_<table>`); `reads`: further per-model tables (of this or another analysis);
    `tables`: other analyses' aggregate outputs (name -> (analysis, output)), read where that
    analysis runs; `files`: any other inputs (name -> function of the grid -> paths); `runs`:
    whether it reads the runs table (solved flags). An input with no file is left out.
    """

    outputs: Mapping[str, str]
    controls: tuple[str, ...] = ()
    reads: Mapping[str, Reads] = field(default_factory=dict)
    tables: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    files: Mapping[str, Callable[[Grid], list[str]]] = field(default_factory=dict)
    runs: bool = True
    mem_mb: int = 4000
    runtime: int = 20


@dataclass(frozen=True)
class Figure:
    """One figure: the aggregate outputs it draws (`runs`: the runs table), drawn when `when`."""

    reads: tuple[str, ...]
    when: Callable[[Grid], bool] = lambda grid: True


@dataclass(frozen=True)
class Analysis:
    """One analysis's jobs. `sections`: the config sections its settings come from;
    `category`: its figures' heading in `snakemake --report`; `report`: report input name ->
    an aggregate output (or a path) its section reads; `enabled`: whether the config runs it."""

    name: str
    sections: tuple[str, ...]
    category: str
    per_cell: tuple[PerCell, ...] = ()
    aggregate: Aggregate | None = None
    figures: Mapping[str, Figure | tuple[str, ...]] = field(default_factory=dict)
    report: Mapping[str, str] = field(default_factory=dict)
    enabled: Callable[[Grid], bool] = lambda grid: True

    @property
    def package(self) -> str:
        return f"gateroles.analyses.{self.name}"

    def table_path(self, output: str) -> str:
        """The path of aggregate output `output` (a path is returned as it is)."""
        if "/" in output:
            return output
        return f"{TABLES}/{self.aggregate.outputs[output]}.csv"

    def modules(self) -> list[str]:
        """Every module its jobs run (the report runs its `section`)."""
        parts = [spec.module for spec in self.per_cell]
        parts += ["aggregate"] if self.aggregate else []
        parts += ["figures"] if self.figures else []
        return [f"{self.package}.{part}" for part in [*parts, "section"]]

    def rules(self) -> list[str]:
        """The names of the rules made from it (every figure it may draw)."""
        names = [spec.rule or self.name for spec in self.per_cell]
        names += [f"aggregate_{self.name}"] if self.aggregate else []
        return names + [f"fig_{figure}" for figure in self.figures]

    def figures_drawn(self, grid: Grid) -> dict[str, Figure]:
        drawn = {name: f if isinstance(f, Figure) else Figure(tuple(f))
                 for name, f in self.figures.items()}
        return {name: f for name, f in drawn.items() if f.when(grid)}


def load(names) -> dict[str, Analysis]:
    """The declarations (`<package>.jobs.JOBS`) of the analyses `names`, in that order."""
    out = {}
    for name in names:
        declared = importlib.import_module(f"gateroles.analyses.{name}.jobs").JOBS
        if declared.name != name:
            raise ValueError(f"gateroles.analyses.{name}.jobs declares analysis {declared.name!r}")
        out[name] = declared
    return out


def cell_table(analysis: str, table: str, cell: Cell) -> str:
    """One analysis's per-model table, all seeds of one cell."""
    return f"results/runs/{cell.path}/{analysis}/{table}.csv"


@dataclass(frozen=True)
class Job:
    """A per-model rule of the plan: its declaration and the cells it runs on."""

    analysis: Analysis
    spec: PerCell
    cells: tuple[Cell, ...]

    @property
    def rule(self) -> str:
        return self.spec.rule or self.analysis.name

    @property
    def module(self) -> str:
        return f"{self.analysis.package}.{self.spec.module}"


class Plan:
    """Every declared analysis's jobs on one grid: the cells each per-model job runs on, each
    aggregate's inputs, the figures, the report's sections and inputs."""

    def __init__(self, analyses: Mapping[str, Analysis], grid: Grid):
        self.grid = grid
        self.analyses = {name: a for name, a in analyses.items() if a.enabled(grid)}
        self.declared = dict(analyses)
        self.jobs = self._jobs()

    def _jobs(self) -> dict[str, Job]:
        wanted: dict[tuple[str, str], list[Cell]] = {}  # (analysis, table) -> cells read
        for a in self.analyses.values():
            for read in (a.aggregate.reads if a.aggregate else {}).values():
                wanted.setdefault((read.analysis, read.table), []).extend(read.cells(self.grid))
        jobs = {}
        for a in self.declared.values():
            controls = set(a.aggregate.controls) if a.aggregate else set()
            for spec in a.per_cell:
                cells = list(spec.cells(self.grid))
                if controls & set(spec.tables):
                    cells += self.grid.controls
                for table in spec.tables:
                    cells += wanted.get((a.name, table), [])
                job = Job(a, spec, unique(cells))
                jobs[job.rule] = job
        return jobs

    def per_cell_jobs(self) -> list[Job]:
        return list(self.jobs.values())

    def aggregate_inputs(self, analysis: Analysis) -> dict[str, list[str]]:
        """Input name -> paths of `analysis`'s aggregate (empty inputs left out)."""
        agg, grid = analysis.aggregate, self.grid
        inputs: dict[str, list[str]] = {}
        for spec in analysis.per_cell:
            own = spec.cells(grid)
            for table in spec.tables:
                inputs[table] = [cell_table(analysis.name, table, c) for c in own]
        for table in agg.controls:
            inputs[f"control_{table}"] = [cell_table(analysis.name, table, c)
                                          for c in grid.controls]
        for name, read in agg.reads.items():
            inputs[name] = [cell_table(read.analysis, read.table, c) for c in read.cells(grid)]
        for name, (other, output) in agg.tables.items():
            if other in self.analyses:
                inputs[name] = [self.analyses[other].table_path(output)]
        for name, files in agg.files.items():
            inputs[name] = list(files(grid))
        return {name: paths for name, paths in inputs.items() if paths}

    def figures(self) -> list[tuple[Analysis, str, Figure]]:
        return [(a, name, fig) for a in self.analyses.values()
                for name, fig in a.figures_drawn(self.grid).items()]

    def report_tables(self) -> dict[str, str]:
        return {name: a.table_path(output) for a in self.analyses.values()
                for name, output in a.report.items()}

    def report_figures(self) -> dict[str, str]:
        return {name: f"results/figures/{name}.png" for _, name, _ in self.figures()}

    def sections(self) -> list[str]:
        return [f"{a.package}.section" for a in self.analyses.values()]

    def logit_cells(self) -> set[Cell]:
        return {c for job in self.jobs.values() if job.spec.logits for c in job.cells}
