"""The workflow boundary: what each kind of job does with the files Snakemake hands it.

The scripts in `workflow/scripts/` are one-line adapters onto these functions. Every analysis
(a package under `gateroles.analyses`) plugs into the same four kinds of job:

* **measure** (one job per grid cell: every seed of one task x architecture x init): the
  analysis's `measure(run_inputs, run, settings)` returns `{table: DataFrame}` for one model;
  the rows of all seeds, keyed by the run's columns, go to one CSV per table.
* **aggregate**: the per-cell tables stacked, each row flagged `solved` from the runs table,
  into the analysis's `aggregate(tables, runs, settings)`, which returns `{table: DataFrame}`.
* **figure**: one figure function of the analysis's `figures` module on the tables it names.
* **report**: `gateroles.report` renders the sections the analyses registered.

A job pins its thread count first (`start`): torch, numpy's BLAS and OpenMP all read it, and N
jobs on N cores must not oversubscribe them.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import pandas as pd

from gateroles import stats, storage
from gateroles.study import RUN_KEYS, Cell

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def start(threads: int, log_path: str | None) -> None:
    """Limit this process to `threads` threads and redirect stderr to `log_path`.

    Call it first: torch reads OMP_NUM_THREADS when it is imported later, and is pinned here
    if it was imported already. SIGTERM (Snakemake stopping its jobs after another failed)
    exits through Python, so the atomic writers remove their temporary files; Python's default
    would leave them in the output folders.
    """
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    if log_path:
        sys.stderr = open(log_path, "w", buffering=1)  # noqa: SIM115 - open for the whole job


def _exit_on_sigterm(signum, frame):
    sys.exit(128 + signum)


class RunInputs:
    """One run's input files, opened on first use: `gates` (a GateFile), `checkpoints`."""

    def __init__(self, paths: dict[str, str]):
        self.paths = paths
        self._gates = self._checkpoints = None

    @property
    def gates(self):
        from gateroles.gatefile import GateFile

        if self._gates is None:
            self._gates = GateFile(self.paths["gates"])
        return self._gates

    @property
    def checkpoints(self) -> dict:
        if self._checkpoints is None:
            self._checkpoints = storage.load_torch(self.paths["checkpoints"])
        return self._checkpoints


def _module(name: str):
    return importlib.import_module(name)


def _settings(module: str, config: dict):
    """The typed settings of the analysis that `module` belongs to, from `config`."""
    return _module(module.rpartition(".")[0]).Settings.from_config(config)


def measure_cell(module: str, config: dict, cell: Cell, seeds: list[int],
                 inputs: dict[str, list[str]], outputs: dict[str, str]) -> None:
    """Run `module.measure` on every seed of `cell`; one CSV per table over the seeds.

    `inputs` maps a name (`gates`, `checkpoints`) to the per-seed paths in `seeds` order;
    `outputs` maps each table the analysis returns to its path.
    """
    analysis = _module(module)
    settings = _settings(module, config)
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in outputs}
    for k, run in enumerate(cell.runs(seeds)):
        tables = analysis.measure(RunInputs({name: paths[k] for name, paths in inputs.items()}),
                                  run, settings)
        if set(tables) != set(outputs):
            raise RuntimeError(f"{module}.measure returned tables {sorted(tables)}, the rule "
                               f"expects {sorted(outputs)}")
        for name, table in tables.items():
            keyed = table.copy()
            for position, (key, value) in enumerate(run.columns.items()):
                keyed.insert(position, key, value)
            frames[name].append(keyed)
    for name, path in outputs.items():
        storage.write_csv(pd.concat(frames[name], ignore_index=True), path)


def with_solved(paths: list[str], runs: pd.DataFrame) -> pd.DataFrame:
    """Stack per-cell tables and attach each model's `solved` flag from the runs table. A table
    not keyed by model (without the run columns: e.g. another analysis's verdict rows of the
    same claim) is stacked as it is."""
    table = pd.concat([storage.read_csv(p) for p in paths], ignore_index=True)
    if not set(RUN_KEYS) <= set(table.columns):
        return table
    return table.merge(runs[RUN_KEYS + ["solved"]], on=RUN_KEYS, how="left")


def aggregate(module: str, config: dict, runs_path: str | None, inputs: dict[str, list[str]],
              outputs: dict[str, str]) -> None:
    """Stack each input table over the cells and write what `module.aggregate` returns.
    Without a runs table (`runs_path` None: an analysis that trains its own models, not the
    grid's) the tables are stacked as they are and `runs` is None."""
    analysis = _module(module)
    if runs_path is None:
        runs = None
        tables = {name: pd.concat([storage.read_csv(p) for p in paths], ignore_index=True)
                  for name, paths in inputs.items()}
    else:
        runs = storage.read_csv(runs_path)
        tables = {name: with_solved(paths, runs) for name, paths in inputs.items()}
    result = analysis.aggregate(tables, runs, _settings(module, config),
                                stats.Settings.from_config(config))
    missing = set(outputs) - set(result)
    if missing:
        raise RuntimeError(f"{module}.aggregate did not return {sorted(missing)}")
    for name, path in outputs.items():
        storage.write_csv(result[name], path)


def figure(module: str, name: str, config: dict, inputs: dict[str, str], png: str, pdf: str
           ) -> None:
    """Draw figure `name` of `module` (a `figures` module) from its input tables."""
    from gateroles import plots

    figures = _module(module)
    tables = {key: storage.read_csv(path) for key, path in inputs.items()}
    fig = figures.FIGURES[name](tables, _settings(module, config))
    plots.save(fig, png, pdf)
