"""Extending the study as CONTRIBUTING.md says: a new analysis is its folder plus one line.

The toy analysis (tests/data/toy_analysis) is copied into the tiny study's private workflow
and registered; the finished study then runs its jobs and the report, and the report shows its
section. Its jobs read the gate files, which are temporary: they are extracted again from the
checkpoints, and Snakemake reruns every job that reads them (the other analyses' per-model
jobs of those cells, and what follows from them), with the same tables to the byte. No model
is trained again.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from study_runs import failure, snakemake

TOY = Path(__file__).parent / "data" / "toy_analysis"


def job_counts(output: str) -> dict[str, int]:
    """Rule -> jobs, from the job stats Snakemake prints."""
    stats = output.split("Job stats:", 1)[-1]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", stats, flags=re.M)
            if rule != "total"}


@pytest.fixture
def with_toy(tiny_study):
    """The tiny study's workflow with the toy analysis added, put back afterwards (contents
    and times: a newer file would rerun jobs for the tests after it)."""
    package = tiny_study.repo / "src" / "gateroles" / "analyses" / "gate_means"
    registry = tiny_study.repo / "src" / "gateroles" / "analyses" / "registry.py"
    text, times = registry.read_text(), registry.stat()
    shutil.copytree(TOY, package)
    registry.write_text(text.replace('"saturation")', '"saturation", "gate_means")'))
    assert '"gate_means"' in registry.read_text()
    try:
        yield tiny_study
    finally:
        shutil.rmtree(package)
        registry.write_text(text)
        os.utime(registry, ns=(times.st_atime_ns, times.st_mtime_ns))


def test_a_new_analysis_is_its_folder_plus_one_line(with_toy, tmp_path):
    work = shutil.copytree(with_toy.local, tmp_path / "local", symlinks=True)

    def run(*args):
        return snakemake(with_toy.repo, work, with_toy.config, "--cores", "2", *args)

    planned = run("-n")
    assert planned.returncode == 0, failure(planned)
    jobs = job_counts(planned.stdout + planned.stderr)
    cells = 2  # the tiny study's main grid: reset_recall x (lstm, gru)
    assert {"gate_means": cells, "aggregate_gate_means": 1, "fig_gate_means": 1,
            "report_html": 1}.items() <= jobs.items()
    # no model is trained again: only the gates are made again from the checkpoints
    assert not {"train", "rewire", "learnability"} & set(jobs), jobs
    before = {p.name: p.read_bytes() for p in (work / "results" / "tables").glob("*.csv")}
    done = run("-q")
    assert done.returncode == 0, failure(done, work)
    after = {p.name: p.read_bytes() for p in (work / "results" / "tables").glob("*.csv")}
    assert set(after) - set(before) == {"gate_means.csv"}
    assert all(after[name] == table for name, table in before.items())
    report = (work / "results" / "report.html").read_text()
    assert '<h2 id="gate-means">Gate means</h2>' in report
    assert (work / "results" / "figures" / "gate_means.png").stat().st_size > 0
    again = run("-n")
    assert "Nothing to be done" in again.stdout + again.stderr
