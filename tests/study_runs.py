"""Workflow runs for the end-to-end tests: a private copy of the workflow and Snakemake on it.

tests/conftest.py's `tiny_study` runs the tiny study with these once per test session;
`snakemake_each` runs several commands that run no job (Snakemake's views of a finished study)
in one process.
"""

import contextlib
import copy
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
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


def _arguments(repo: Path, workdir: Path, config: Path, *args) -> list[str]:
    return ["-s", str(repo / "Snakefile"), "--directory", str(workdir), "--configfile",
            str(config), "--replace-workflow-config", *map(str, args)]


def _env(repo: Path, env=None) -> dict:
    """`env` (default ours) with `repo`'s package first on the path, for Snakemake and its jobs."""
    env = env or os.environ
    return {**env, "PYTHONPATH": os.pathsep.join(
        [str(repo / "src"), *filter(None, [env.get("PYTHONPATH")])])}


def snakemake(repo: Path, workdir: Path, config: Path, *args, env=None, timeout=900, **kw):
    """Snakemake on `repo`'s workflow; its jobs import `gateroles` from `repo` too (so a copy is
    immune to edits of the checkout while the tests run)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *_arguments(repo, workdir, config, *args)],
        capture_output=True, text=True, timeout=timeout, env=_env(repo, env), **kw)


def snakemake_each(repo: Path, workdir: Path, commands: dict[str, tuple], timeout=900) -> dict:
    """name -> the result of `snakemake(repo, workdir, config, *args)` for each name ->
    (config, *args) of `commands`, run one after the other in one Python process: Snakemake's
    own command line each time (its profiles, its output), but the imports and the workflow's
    derived code inputs (gateroles.code_deps, cached) paid once, not once per command. For
    commands that run no job (dry runs, summaries, reports): a job would write to the process's
    own output, not to its command's result."""
    calls = {name: _arguments(repo, workdir, *command) for name, command in commands.items()}
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results.json"
        done = subprocess.run([sys.executable, __file__, json.dumps(calls), str(results)],
                              capture_output=True, text=True, timeout=timeout, env=_env(repo))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return {name: subprocess.CompletedProcess(calls[name], *result)
                for name, result in json.loads(results.read_text()).items()}


def failure(result, workdir: Path | None = None) -> str:
    """The end of Snakemake's output, and of every job log left behind (SLURM keeps failed ones)."""
    text = result.stdout[-3000:] + "\n" + result.stderr[-5000:]
    for log in sorted((workdir / "results" / "logs").rglob("*.log")) if workdir else []:
        if "Traceback" in (content := log.read_text(errors="replace")):
            text += f"\n--- {log}:\n{content[-3000:]}"
    return text


def _each(calls: dict[str, list[str]]) -> dict[str, tuple[int, str, str]]:
    """`snakemake_each`'s other end: name -> (exit status, output, error output) of each call."""
    from snakemake.cli import main

    results = {}
    for name, argv in calls.items():
        out, err, status = io.StringIO(), io.StringIO(), 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(argv)
            except SystemExit as stop:  # how main() always ends
                status = stop.code
        results[name] = (status, out.getvalue(), err.getvalue())
    return results


if __name__ == "__main__":  # snakemake_each's process
    Path(sys.argv[2]).write_text(json.dumps(_each(json.loads(sys.argv[1]))))
