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


def cells(config: dict, main_only: bool = False) -> list[Cell]:
    """Every (task, arch, init) of the study grid, in grid order: the main grid (`study`),
    then the cells claim C4 adds (`wiring_cells`) and the negative controls
    (`control_cells`) that it lacks. Pairs of an architecture and
    an init arm that does not apply to it (`architectures.init_applies`) are skipped.
    `main_only`: the main grid alone."""
    s = config["study"]
    main = [Cell(*key) for key in itertools.product(s["tasks"], s["architectures"], s["inits"])
            if init_applies(key[1], key[2])]
    if main_only:
        return main
    return list(dict.fromkeys(main + wiring_cells(config) + control_cells(config)))


def control_cells(config: dict) -> list[Cell]:
    """The negative controls' cells (`controls` section), default init
    (`architectures.CONTROLS` says which test each one controls): every control architecture
    on every control task, then the keep-gate controls (`hold_architectures`) on every hold
    task (`name@H`) of the main grid, the controls of the tests that sweep the hold."""
    from gateroles import tasks

    c = config.get("controls") or {}
    out = [Cell(task, arch, "default") for task in c.get("tasks", ())
           for arch in c.get("architectures", ())]
    holds = [task for task in (config.get("study") or {}).get("tasks", ())
             if tasks.get(task).has_hold]
    out += [Cell(task, arch, "default") for task in holds
            for arch in c.get("hold_architectures", ())]
    return list(dict.fromkeys(out))


def wiring_cells(config: dict) -> list[Cell]:
    """The cells of claim C4 (`wiring` section; none without it), per task in `wiring.tasks`:
    the reference `lstm`/default, every variant of `wiring.architectures` (default init), and
    with `wiring.two_positions` the `lstm`/swap_forget_input arm; per task in
    `wiring.forget_bias_tasks`: `lstm`/default, `lstm`/forget_bias_1 and `gru`/default (the
    LSTM-GRU gap with and without a forget bias of 1). May repeat main-grid cells."""
    w = config.get("wiring") or {}
    out = []
    for task in w.get("tasks", ()):
        out.append(Cell(task, "lstm", "default"))
        out += [Cell(task, arch, "default") for arch in w.get("architectures", ())]
        if w.get("two_positions", False):
            out.append(Cell(task, "lstm", "swap_forget_input"))
    for task in w.get("forget_bias_tasks", ()):
        out += [Cell(task, "lstm", "default"), Cell(task, "lstm", "forget_bias_1"),
                Cell(task, "gru", "default")]
    return list(dict.fromkeys(out))


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
