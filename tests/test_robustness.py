"""Reproducible anywhere, survives faults and bad input (issue 5).

Every workflow run here uses a private copy of the workflow (so a test may edit a script) and
the tiny config with every default written out: the tiny study itself is run once per session
(tests/conftest.py's `tiny_study`, shared with tests/test_workflow.py). The SLURM test brings up
a real single-node cluster (tools/slurm-cluster.sh) and makes there a representative part of
the study (SLURM_TARGETS: one cell's every per-model file, one per-model analysis and its
aggregate, so every model is trained and two cells' gates extracted on the cluster), and checks
that every file it made equals the local run's, byte for byte.
"""

import fcntl
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from study_runs import REPO, SCHEMA, failure, full, snakemake
from test_config import BAD, _set
from test_workflow import TINY

from gateroles import report
from gateroles.config import ConfigError, load_schema, validate

CLUSTER = REPO / "tools" / "slurm-cluster.sh"
# Files that record how a run went rather than what it found.
NOT_RESULTS = ("logs/", "benchmarks/", "report.html", "provenance.json")


def result_files(workdir: Path) -> dict[str, bytes]:
    root = workdir / "results"
    files = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    return {name: path.read_bytes() for name, path in sorted(files.items())
            if not name.startswith(NOT_RESULTS)}


# What the second run of the tiny config (on SLURM) makes: one cell's every per-model file
# (training; its gate files are temporary, made and removed on the way) and one per-model
# analysis on it, with that analysis's aggregate, which needs the runs table (every model of
# the study trained) and the analysis on the other cell of the main grid. Ten jobs: train (4
# cells), extract_gates and saturation (2 cells; on SLURM one group job per cell: the gates
# live inside it), runs_table, aggregate_saturation.
CELL_DIR = "results/runs/reset_recall/lstm/default"
SLURM_TARGETS = [*(f"{CELL_DIR}/seed{seed}/{name}" for seed in TINY["study"]["seeds"]
                   for name in ("checkpoints.pt", "train_log.csv", "test.json")),
                 f"{CELL_DIR}/saturation/saturation.csv",
                 "results/tables/saturation.csv", "results/tables/saturation_summary.csv"]


def assert_same_results(reference: Path, other: Path, targets: list[str]) -> None:
    """Every result file of `other` (which made at least `targets`, and more than them: their
    inputs) equals the reference's, byte for byte."""
    expected, got = result_files(reference), result_files(other)
    made = {target.removeprefix("results/") for target in targets}
    assert made <= set(got) <= set(expected) and len(got) > len(made), sorted(got)
    differ = [name for name in got if expected[name] != got[name]]
    assert not differ, f"result files differ from the reference run: {differ}"


@pytest.fixture(scope="module")
def study(tiny_study):
    """The tiny study, run once per session from a private copy of the workflow (conftest)."""
    return tiny_study


# --- reproducibility and SLURM -----------------------------------------------------------------

@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    """A running single-node SLURM cluster (environment for its clients); skipped if impossible."""
    if os.geteuid() != 0:
        pytest.skip("starting a SLURM cluster needs root (tools/slurm-cluster.sh)")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')")
    installed = subprocess.run([str(CLUSTER), "install"], capture_output=True, text=True,
                               timeout=600)
    if installed.returncode != 0:
        pytest.skip(f"cannot install Debian's SLURM packages: {installed.stderr.strip()}")
    # One test cluster per machine at a time (fixed ports): wait for another test run's.
    lock = open("/tmp/gateroles-slurm-test.lock", "w")  # noqa: SIM115 - held until teardown
    fcntl.flock(lock, fcntl.LOCK_EX)
    state = Path(tempfile.mkdtemp(prefix="gateroles-slurm-"))
    env = {**os.environ, "SLURM_CONF": str(state / "slurm.conf")}
    try:
        up = subprocess.run([str(CLUSTER), "up", str(state)], capture_output=True, text=True,
                            timeout=120)
        assert up.returncode == 0, f"SLURM cluster did not start:\n{up.stdout}\n{up.stderr}"
        yield env
    finally:
        subprocess.run([str(CLUSTER), "down", str(state)], capture_output=True, timeout=120)
        shutil.rmtree(state, ignore_errors=True)
        lock.close()


@pytest.fixture(scope="module")
def on_slurm(study, slurm_env):
    workdir = study.root / "slurm"
    result = snakemake(study.repo, workdir, study.config,
                       "--profile", str(study.repo / "profiles" / "slurm"),
                       "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "2",
                       "--seconds-between-status-checks", "2",
                       *SLURM_TARGETS, env=slurm_env, timeout=1200)
    assert result.returncode == 0, failure(result, workdir)
    return workdir


@pytest.mark.slow
def test_slurm_run_gives_the_local_results(study, on_slurm):
    assert_same_results(study.local, on_slurm, SLURM_TARGETS)
    assert list((on_slurm / ".snakemake").glob("**/*")), "no trace of the SLURM run"


@pytest.fixture(scope="module")
def second_run(study, request):
    """The same config run a second time: on SLURM, or locally where no cluster can start."""
    try:
        return request.getfixturevalue("on_slurm")
    except pytest.skip.Exception:
        again = study.root / "again"
        result = snakemake(study.repo, again, study.config, "--cores", "2", *SLURM_TARGETS)
        assert result.returncode == 0, failure(result)
        return again


@pytest.mark.slow
def test_same_config_twice_gives_byte_identical_results(study, second_run):
    """Every file the second run made (SLURM_TARGETS and their inputs: every model's
    checkpoints, training log and test score, the saturation tables made from two cells' gates,
    and the runs table) equals the first run's, byte for byte."""
    assert_same_results(study.local, second_run, SLURM_TARGETS)


def test_provenance_is_its_own_file_and_tables_carry_no_host_or_time(study):
    provenance = (study.local / "results" / "provenance.json").read_text()
    assert "config_hash" in provenance
    host = os.uname().nodename
    stamp = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
    for name, data in result_files(study.local).items():
        if name.endswith((".csv", ".json")):
            text = data.decode()
            assert not stamp.search(text), f"{name} has a timestamp"
            assert not re.search(rf"\b{re.escape(host)}\b", text), f"{name} names the host"
            assert "thread" not in text.lower(), f"{name} records a thread count"


# --- faults -------------------------------------------------------------------------------------

# One model, trained long enough to be killed midway (the bar is perfect accuracy).
LONG = {**TINY, "study": {**TINY["study"], "architectures": ["gru"], "seeds": [0]},
        "training": {**TINY["training"], "steps": {"reset_recall": 1500},
                     "first_checkpoint": 100, "solved_threshold": {"reset_recall": 1.0}}}
RUN_DIR = "results/runs/reset_recall/gru/default/seed0"
TRAINED = [f"{RUN_DIR}/{name}" for name in ("checkpoints.pt", "train_log.csv", "test.json")]


def session_processes(sid: int) -> dict[int, str]:
    """pid -> command line of every process in session `sid` (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[3]) == sid:
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(scope="module")
def long_run(study):
    config = study.root / "long.yaml"
    config.write_text(yaml.safe_dump(full(LONG)))
    workdir = study.root / "long-uninterrupted"
    result = snakemake(study.repo, workdir, config, "--cores", "1", *TRAINED)
    assert result.returncode == 0, failure(result)
    return SimpleNamespace(config=config, workdir=workdir)


@pytest.mark.slow
@pytest.mark.parametrize("what", ["training job", "whole workflow"])
def test_sigkill_midway_then_rerun_incomplete_gives_the_uninterrupted_results(study, long_run,
                                                                              what):
    workdir = study.root / f"long-killed-{what.replace(' ', '-')}"
    command = [sys.executable, "-m", "snakemake", "-s", str(study.repo / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(long_run.config),
               "--replace-workflow-config", "--cores", "1", *TRAINED]
    job = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    train_log = workdir / "results/logs/train/reset_recall/gru/default.log"  # the cell's job
    deadline = time.monotonic() + 180
    try:
        while "step    25" not in (train_log.read_text() if train_log.exists() else ""):
            assert job.poll() is None and time.monotonic() < deadline, "training never started"
            time.sleep(0.02)
        assert not any((workdir / path).exists() for path in TRAINED), "killed too late"
        if what == "training job":
            scripts = [pid for pid, cmd in session_processes(job.pid).items()
                       if "train.py" in cmd]
            assert scripts, session_processes(job.pid)
            for pid in scripts:
                os.kill(pid, signal.SIGKILL)
        else:
            os.killpg(job.pid, signal.SIGKILL)
        job.wait(timeout=60)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    assert job.returncode != 0
    assert not any((workdir / path).exists() for path in TRAINED)  # nothing half-written
    if what == "whole workflow":  # a crashed Snakemake leaves its lock behind
        unlock = snakemake(study.repo, workdir, long_run.config, "--unlock")
        assert unlock.returncode == 0, failure(unlock)
    rerun = snakemake(study.repo, workdir, long_run.config, "--cores", "1",
                      "--rerun-incomplete", *TRAINED)
    assert rerun.returncode == 0, failure(rerun)
    for path in TRAINED:
        assert (workdir / path).read_bytes() == (long_run.workdir / path).read_bytes(), path
    assert pd.read_csv(workdir / TRAINED[1])["step"].max() > 25  # it was killed midway


@pytest.mark.slow
def test_truncated_model_or_array_file_fails_its_job_naming_the_file(study):
    workdir = study.root / "corrupted"
    shutil.copytree(study.local, workdir, symlinks=True)
    runs = workdir / "results" / "runs" / "reset_recall"
    # the gate files are temporary: the GRU cell's made again as targets (kept), to truncate
    gru = [f"results/runs/reset_recall/gru/default/seed{s}/gates.npz" for s in (0, 1)]
    made = snakemake(study.repo, workdir, study.config, "--cores", "2", *gru)
    assert made.returncode == 0, failure(made, workdir)
    for path in (runs / "lstm/default/seed0/checkpoints.pt", runs / "gru/default/seed1/gates.npz"):
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = snakemake(study.repo, workdir, study.config, "--cores", "2", "--keep-going")
    assert result.returncode != 0
    logs = workdir / "results" / "logs"
    extract = (logs / "extract_gates/reset_recall/lstm/default.log").read_text()
    assert "cannot read checkpoint file" in extract
    assert "lstm/default/seed0/checkpoints.pt" in extract
    analyse = (logs / "event_locking/reset_recall/gru/default.log").read_text()
    assert "gate file" in analyse and "gru/default/seed1/gates.npz" in analyse
    assert "gates.npz" in result.stdout + result.stderr  # the failed log is shown


# --- reruns -------------------------------------------------------------------------------------

def planned_rules(result) -> dict[str, int]:
    """Rule -> job count from a dry run's job table."""
    text = result.stdout + result.stderr
    table = text.split("Job stats:", 1)[1].split("total", 1)[0] if "Job stats:" in text else ""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)}


@pytest.mark.slow
def test_editing_one_figure_module_reruns_that_figure_only(study, tiny_views):
    """A plot lives in its analysis's `figures.py`: editing it redraws only that analysis's
    figures (and the report), not the tables or the training."""
    assert planned_rules(tiny_views["dry run"]) == {}
    script = study.repo / "src" / "gateroles" / "analyses" / "saturation" / "figures.py"
    original, times = script.read_text(), script.stat()
    try:
        script.write_text(original + "\n# a changed figure script\n")
        result = snakemake(study.repo, study.local, study.config, "-n")
    finally:  # the shared study's code as it was, its time too (or its figure would rerun)
        script.write_text(original)
        os.utime(script, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert result.returncode == 0, failure(result)
    assert set(planned_rules(result)) - {"all"} == {"fig_saturation", "report_html"}, \
        planned_rules(result)


@pytest.mark.slow
def test_every_output_stays_inside_the_project(tiny_views):
    result = tiny_views["summary"]
    assert result.returncode == 0, failure(result)
    paths = [line.split("\t")[0] for line in result.stdout.splitlines()[1:] if line.strip()]
    assert len(paths) > 20
    for path in paths:
        assert not Path(path).is_absolute() and ".." not in Path(path).parts, path
        assert path.startswith("results/"), path


# --- bad input ----------------------------------------------------------------------------------

# A representative subset of tests/test_config.py's cases, through `snakemake -n` this time.
THROUGH_SNAKEMAKE = ["stdy", "study.tasks", "study.seeds", "model.hidden_size",
                     "training.steps.reset_recall", "training.solved_threshold.reset_recall",
                     "extraction.n_sequences", "task_params.reset_recall.p_store"]
CASES = [next(case for case in BAD if case[0] == key) for key in THROUGH_SNAKEMAKE]


@pytest.mark.parametrize("key,value,named,hint", CASES,
                         ids=[f"{k}={v!r}" for k, v, *_ in CASES])
def test_bad_config_stops_snakemake_before_any_job(tmp_path, key, value, named, hint):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(_set(full(TINY), key, value)))
    result = snakemake(REPO, tmp_path / "work", config, "-n", "--cores", "1", timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr  # with a profile, Snakemake logs to stdout
    assert named in output and hint in output, output[-2000:]
    assert "Job stats" not in output
    assert not (tmp_path / "work" / "results").exists()


def _closed_pattern(node) -> bool:
    """A string whose `pattern` admits no markup or code: its examples match, and none does
    with any of the characters markup or code needs put into it (user_model's paths and
    'pkg.module:function' names, which no fixed list can hold)."""
    pattern, examples = node.get("pattern"), node.get("examples", [])
    if not (pattern and examples):
        return False
    for example in examples:
        assert re.search(pattern, example), (pattern, example)
        for char in "<>\"'`()[]{};&|$ =\\":
            for at in range(len(example) + 1):
                if re.search(pattern, example[:at] + char + example[at:]):
                    return False
    return True


def test_no_free_text_in_the_config_schema():
    """Every string a config may hold is one of a fixed list, so none can carry markup or code."""
    def walk(node, path):
        if "anyOf" in node:  # each alternative must be closed
            for k, alternative in enumerate(node["anyOf"]):
                walk(alternative, f"{path}|{k}")
            return
        if node.get("type") == "string" or "type" not in node and "enum" not in node:
            assert "enum" in node or _closed_pattern(node), f"{path} accepts free text"
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")
        if isinstance(node.get("propertyNames"), dict):
            walk(node["propertyNames"], f"{path}.<key>")
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}" if path else name)
        for name, sub in node.get("patternProperties", {}).items():
            walk(sub, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]")

    # the schema as the workflow checks it: the task lists and sections filled in from the
    # task registry (their names a closed pattern), the `$ref`s inlined
    walk(load_schema(SCHEMA), "")
    for text in ("<script>alert(1)</script>", "__import__('os').system('touch pwned')"):
        with pytest.raises(ConfigError, match=re.escape("study.tasks[0]")):
            validate(_set(full(TINY), "study.tasks", [text]), SCHEMA)


def test_config_text_in_the_report_is_escaped(study, monkeypatch):
    config = full(TINY)
    config["study"]["note"] = "<script>alert('x')</script>"  # what no schema lets through
    html = report.render(config=config, claims={}, sections=[],
                         tables={"runs": study.local / "results/tables/runs.csv"},
                         figures={}, benchmarks=[], prov=report.provenance(config, REPO))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_no_config_string_is_evaluated_or_unpickled():
    risky = re.compile(r"(?<![.\w])(eval|exec)\(|yaml\.load\(|yaml\.unsafe_load|pickle\.loads?\("
                       r"|allow_pickle=True|weights_only=False|shell=True")
    sources = [*(REPO / "src").rglob("*.py"), *(REPO / "workflow").rglob("*.py"),
               *(REPO / "workflow").rglob("*.smk"), REPO / "Snakefile"]
    found = [f"{p.relative_to(REPO)}:{n}" for p in sources
             for n, line in enumerate(p.read_text().splitlines(), 1) if risky.search(line)]
    assert not found, found


def test_every_writer_is_atomic():
    """Outputs are written through gateroles.storage (temporary file + rename), figures and the
    report included: a direct write must sit inside an `atomic_path` block."""
    writes = re.compile(r"\.to_csv\(|\.savefig\(|\.write_text\(|\.write_bytes\(|np\.savez?\("
                        r"|torch\.save\(|open\([^)]*[\"'][wa]b?[\"']")
    sources = [p for p in [*(REPO / "src" / "gateroles").rglob("*.py"),
                           *(REPO / "workflow" / "scripts").glob("*.py")]
               if p.name != "storage.py"]
    direct = []
    for path in sources:
        lines = path.read_text().splitlines()
        for n, line in enumerate(lines):
            if writes.search(line) and "pipeline.py" not in str(path):  # it opens the log
                if not any("atomic_path" in before for before in lines[max(0, n - 3):n]):
                    direct.append(f"{path.relative_to(REPO)}:{n + 1}")
    assert not direct, f"non-atomic writes: {direct}"


def test_a_job_stopped_by_sigterm_leaves_no_temporary_file(tmp_path):
    """Snakemake stops the running jobs with SIGTERM when another fails: a writer caught in the
    middle removes its temporary file (the output itself never appears half-written)."""
    code = ("import os, signal, sys, time; from gateroles import pipeline, storage; "
            "pipeline.start(1, None)\n"
            "with storage.atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_text('half'); os.kill(os.getpid(), signal.SIGTERM); time.sleep(30)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out.csv")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    assert list(tmp_path.iterdir()) == []
