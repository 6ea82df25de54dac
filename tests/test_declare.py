"""The analyses' declarations (gateroles.analyses.declare) and the job plan made from them."""

import copy
import importlib
import os
import re
from pathlib import Path

import pytest
import yaml

from gateroles.analyses import declare
from gateroles.analyses.registry import ANALYSES
from gateroles.config import validate
from gateroles.study import Cell

REPO = Path(__file__).resolve().parents[1]
PACKAGES = REPO / "src" / "gateroles" / "analyses"
DECLARED = declare.load(ANALYSES)


def config(**sections):
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return validate(base, REPO / "config" / "schema.yaml")


def test_every_analysis_package_is_registered_once_with_its_declaration(monkeypatch):
    packages = {p.parent.name for p in PACKAGES.glob("*/__init__.py")}
    assert sorted(ANALYSES) == sorted(packages) and len(set(ANALYSES)) == len(ANALYSES)
    # a declaration whose name is not its package's is refused
    jobs = importlib.import_module("gateroles.analyses.saturation.jobs")
    monkeypatch.setattr(jobs, "JOBS", DECLARED["roles"])
    with pytest.raises(ValueError, match="declares analysis 'roles'"):
        declare.load(["saturation"])


@pytest.mark.parametrize("name", ANALYSES)
def test_figures_tables_and_captions_are_declared_where_they_are_made(name):
    """The figures a declaration names are its figures module's, each with a caption; what a
    figure or the report reads is one of the aggregate's outputs."""
    analysis = DECLARED[name]
    if analysis.figures:
        drawn = importlib.import_module(f"{analysis.package}.figures").FIGURES
        assert set(analysis.figures) == set(drawn)
    for figure, spec in analysis.figures.items():
        assert (PACKAGES / name / "captions" / f"{figure}.rst").exists(), figure
        reads = spec.reads if isinstance(spec, declare.Figure) else spec
        assert set(reads) <= {*analysis.aggregate.outputs, "runs"}, figure
    for output in analysis.report.values():
        assert "/" in output or output in analysis.aggregate.outputs, output
    tables = [t for spec in analysis.per_cell for t in spec.tables]
    assert len(tables) == len(set(tables))


@pytest.mark.parametrize("overrides", [{}, {"wiring": {"two_positions": True}}])
def test_the_plan_does_not_depend_on_the_order_of_the_analyses(overrides):
    """Each per-model job's cells and each aggregate's inputs are the same whatever order the
    analyses are listed in (no include order)."""
    grid = declare.Grid.from_config(config(**overrides))
    forward = declare.Plan(DECLARED, grid)
    backward = declare.Plan(dict(reversed(DECLARED.items())), grid)
    assert {r: set(j.cells) for r, j in forward.jobs.items()} == {
        r: set(j.cells) for r, j in backward.jobs.items()}
    for analysis in forward.analyses.values():
        assert forward.aggregate_inputs(analysis) == backward.aggregate_inputs(analysis)


def test_a_job_runs_where_another_analysis_reads_its_tables():
    """C4's two-positions comparison reads C2's contrast of the swapped arm: C2's job runs
    there too, and only then; causal's controls run `control_only`."""
    on = config(wiring={"two_positions": True, "tasks": ["reset_recall"]})
    off = copy.deepcopy(on)
    off["wiring"]["two_positions"] = False
    swapped = Cell("reset_recall", "lstm", "swap_forget_input")
    plan_on = declare.Plan(DECLARED, declare.Grid.from_config(on))
    plan_off = declare.Plan(DECLARED, declare.Grid.from_config(off))
    assert swapped in plan_on.jobs["event_locking"].cells
    assert swapped not in plan_off.jobs["event_locking"].cells
    assert "contrast" in plan_on.aggregate_inputs(plan_on.analyses["wiring"])
    assert "contrast" not in plan_off.aggregate_inputs(plan_off.analyses["wiring"])
    assert "c4_two_positions" in plan_on.report_figures()
    assert "c4_two_positions" not in plan_off.report_figures()
    grid = plan_on.grid
    causal = plan_on.jobs["causal"]
    flags = {c: causal.spec.flags["control_only"](grid, c) for c in causal.cells}
    assert {c for c, only in flags.items() if only} == set(grid.controls) - set(grid.analysis)


def test_an_analysis_the_config_does_not_run_has_no_section_figure_or_benchmark():
    plan = declare.Plan(DECLARED, declare.Grid.from_config(config(learnability={"tasks": []})))
    assert "learnability" not in plan.analyses
    assert "gateroles.analyses.learnability.section" not in plan.sections()
    assert "c6_learnability" not in plan.report_figures()
    # gradient_flow's aggregate reads learnability's predictions only where it runs
    assert "learnability" not in plan.aggregate_inputs(plan.analyses["gradient_flow"])


# main before the rules were made from declarations (issue 25): its rules files, written out
BEFORE = "f32ba43"


@pytest.mark.slow
def test_the_declarations_make_the_jobs_the_rules_files_made(tmp_path):
    """The default and the paper config's dry-run job sets (each job's rule, inputs, outputs
    and log) are those of the hand-written rules files, but for the one change made since on
    purpose: the viewer no longer reads the (now temporary) gate files."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    sys.path.insert(0, str(REPO / "tools"))
    import job_set

    old = tmp_path / "before"
    made = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(old),
                           BEFORE], capture_output=True, text=True)
    if made.returncode:
        pytest.skip(f"no {BEFORE} in this checkout's history: {made.stderr.strip()}")
    try:
        def listing(repo, *args):
            out = subprocess.run(
                [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-n",
                 "--forceall", "--cores", "1", "--directory", str(tmp_path / repo.name),
                 "--configfile", *args],
                capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONPATH": str(repo / "src")}).stdout
            return job_set.jobs(out)

        configs = [str(REPO / "config" / "config.yaml"), str(REPO / "config" / "paper.yaml")]
        with ThreadPoolExecutor(max_workers=2) as pool:
            now = list(pool.map(lambda c: listing(REPO, c), configs))
            then = list(pool.map(lambda c: listing(old, c.replace(str(REPO), str(old))),
                                 configs))
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)])
    for before, after in zip(then, now, strict=True):
        viewer = re.compile(r",?results/runs/[^,]*/gates\.npz")
        before = sorted(viewer.sub("", j) if j.startswith("viewer ") else j for j in before)
        assert before == after
