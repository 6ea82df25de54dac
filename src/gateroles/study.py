"""The study grid and run identity: which models exist, what names them, where their files are.

A *run* is one trained model: (task, architecture, init, seed). A *cell* is one
(task, architecture, init) with all its seeds; the workflow's per-model jobs work one cell at a
time (paying process start-up once per cell, not once per seed) and write per-seed files.
Every table row carries the run's keys (`RUN_KEYS`); aggregates group by `CELL_KEYS`.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

from gateroles.architectures import init_applies

RUN_KEYS = ["task", "arch", "init", "seed"]
CELL_KEYS = ["task", "arch", "init"]


@dataclass(frozen=True)
class Cell:
    task: str
    arch: str
    init: str

    def runs(self, seeds) -> list[Run]:
        return [Run(self.task, self.arch, self.init, int(seed)) for seed in seeds]

    @property
    def path(self) -> str:
        return f"{self.task}/{self.arch}/{self.init}"


@dataclass(frozen=True)
class Run:
    task: str
    arch: str
    init: str
    seed: int

    @property
    def columns(self) -> dict:
        """The config keys that identify the run; every table row carries them."""
        return asdict(self)

    @property
    def cell(self) -> Cell:
        return Cell(self.task, self.arch, self.init)

    @property
    def path(self) -> str:
        return f"{self.task}/{self.arch}/{self.init}/seed{self.seed}"


def cells(config: dict) -> list[Cell]:
    """Every (task, arch, init) of the study grid, in grid order; pairs of an architecture and
    an init arm that does not apply to it (`architectures.init_applies`) are skipped."""
    s = config["study"]
    return [Cell(*key) for key in itertools.product(s["tasks"], s["architectures"], s["inits"])
            if init_applies(key[1], key[2])]


def runs(config: dict) -> list[Run]:
    """Every run of the study grid, in grid order (seeds innermost)."""
    return [run for cell in cells(config) for run in cell.runs(config["study"]["seeds"])]


def at_phase(table):
    """Rows at step 0 (`phase` = initial) and at each model's last step (`phase` = trained).

    `table` is a DataFrame with `step` and `final_step` columns (every per-model table has).
    """
    import pandas as pd

    initial = table[table["step"] == 0].assign(phase="initial")
    trained = table[table["step"] == table["final_step"]].assign(phase="trained")
    return pd.concat([initial, trained], ignore_index=True)
