"""The Snakemake profiles: what `snakemake` alone and `--profile profiles/slurm` run with."""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from snakemake.cli import parse_args
from snakemake.utils import available_cpu_count

from gateroles.analyses import declare
from gateroles.analyses.registry import ANALYSES

REPO = Path(__file__).resolve().parents[1]


def options(*args: str):
    """The options Snakemake runs this workflow with, profiles applied (nothing is run)."""
    _, parsed = parse_args(["-s", str(REPO / "Snakefile"), "--dry-run", *args])
    return parsed


def rule_names() -> set[str]:
    """The rules written out in the rules files and those made from the analyses' declarations."""
    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    written = {name for path in files for name in re.findall(r"^rule (\w+):", path.read_text(),
                                                               re.MULTILINE)}
    return written | {name for a in declare.load(ANALYSES).values() for name in a.rules()}


def test_the_default_profile_is_loaded_by_itself():
    """profiles/default: every core, a killed run picks up where it stopped, failed logs shown;
    a command-line option overrides it."""
    plain = options()
    assert plain.cores == available_cpu_count()
    assert plain.rerun_incomplete and plain.show_failed_logs and plain.printshellcmds
    assert options("--cores", "1").cores == 1


def test_the_slurm_profile_runs_every_job_on_slurm_with_known_rules():
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')")
    slurm = options("--profile", str(REPO / "profiles" / "slurm"))
    assert slurm.executor == "slurm" and slurm.retries == 1 and slurm.latency_wait == 60
    assert slurm.rerun_incomplete  # profiles/default still applies beneath it
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    named = set(profile["set-resources"])
    assert named <= rule_names(), f"no such rule: {sorted(named - rule_names())}"
    assert set(slurm.set_resources) == named
    extraction = {"extract_gates", "extract_rewire"}
    for rule, resources in profile["set-resources"].items():
        # a job that makes a cell's gate files takes one of `gate_cells` (the disk's bound)
        extra = {"gate_cells"} if rule in extraction else set()
        assert set(resources) == {"mem_mb", "runtime"} | extra, rule
    # A cell's gate files live inside one SLURM job: its extraction and every job that reads
    # them (the analyses' per-model jobs, from their declarations) are one group.
    readers = {spec.rule or a.name for a in declare.load(ANALYSES).values()
               for spec in a.per_cell if any(f.endswith(".npz") for f in spec.reads.values())}
    assert profile["groups"] == dict.fromkeys(sorted(extraction | readers), "gates")
