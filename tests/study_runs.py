"""Workflow runs for the end-to-end tests: a private copy of the workflow and Snakemake on it.

tests/conftest.py's `tiny_study` runs the tiny study with these once per test session.
"""

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gateroles import report
from gateroles.config import settings_sections, validate

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"
COPIED = ("Snakefile", "workflow", "config", "src/gateroles", "profiles", "envs")


def full(config: dict) -> dict:
    """The config with every default written out (a remote job re-reads it from the file)."""
    return validate(copy.deepcopy(config), SCHEMA)


def report_caption(name: str, config: dict) -> str:
    """Figure `name`'s caption as results/report.html renders it: with the typed settings of
    the analysis whose captions/ folder holds it."""
    analysis = next(report.ROOT.glob(f"analyses/*/captions/{name}.rst")).parent.parent.name
    settings = settings_sections().get(analysis)
    return report.caption_text(name, settings and settings.from_config(config))


def copy_workflow(dest: Path) -> Path:
    for item in COPIED:
        source, target = REPO / item, dest / item
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def snakemake(repo: Path, workdir: Path, config: Path, *args, env=None, timeout=900, **kw):
    """Snakemake on `repo`'s workflow; its jobs import `gateroles` from `repo` too (so a copy is
    immune to edits of the checkout while the tests run)."""
    env = {**(env or os.environ), "PYTHONPATH": os.pathsep.join(
        [str(repo / "src"), *filter(None, [(env or os.environ).get("PYTHONPATH")])])}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "--directory",
         str(workdir), "--configfile", str(config), "--replace-workflow-config", *args],
        capture_output=True, text=True, timeout=timeout, env=env, **kw)


def failure(result, workdir: Path | None = None) -> str:
    """The end of Snakemake's output, and of every job log left behind (SLURM keeps failed ones)."""
    text = result.stdout[-3000:] + "\n" + result.stderr[-5000:]
    for log in sorted((workdir / "results" / "logs").rglob("*.log")) if workdir else []:
        if "Traceback" in (content := log.read_text(errors="replace")):
            text += f"\n--- {log}:\n{content[-3000:]}"
    return text
