"""End to end: the workflow on a tiny config in a temporary directory.

The tiny study (TINY) is run once per session from a private copy of the workflow
(tests/conftest.py's `tiny_study`, shared with tests/test_robustness.py): Snakemake runs on it
go through that copy (`run(..., repo=)`), whose paths its jobs' code inputs name."""

import copy
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from study_runs import report_caption, snakemake, snakemake_each

from gateroles.config import validate

REPO = Path(__file__).resolve().parents[1]

TINY = {
    "study": {"tasks": ["reset_recall"], "architectures": ["lstm", "gru"], "seeds": [0, 1]},
    "data": {"length": 30, "n_train": 256, "n_validation": 64, "n_test": 64},
    "model": {"hidden_size": 8},
    # A low bar so that some tiny models count as solved and every table has rows; hold_armed's
    # for TINY_WIRING's hold sweep (the training section is every train job's params: set here,
    # TINY_WIRING, made on a copy of this study, retrains none of its models).
    "training": {"batch_size": 32,
                 "steps": {"reset_recall": 50, "hold_recall": 50, "hold_armed": 50},
                 "eval_every": 25, "first_checkpoint": 25,
                 "solved_threshold": {"reset_recall": 0.4, "hold_recall": 0.4,
                                      "hold_armed": 0.4}},
    "extraction": {"n_sequences": 16},
    # The analyses read at most the extracted sequences (the unit ablation: the second half),
    # and ablate groups of fewer units than the model has.
    "decodability": {"n_sequences": 16}, "dependence": {"n_sequences": 16},
    "gradient_flow": {"n_sequences": 16}, "emergence": {"n_sequences": 16},
    "causal": {"ablation_sequences": 8, "unit_k": [1, 4], "verdict_k": 4},
    "analysis": {"bootstrap_samples": 200},
    # Two negative controls, so the primary tests' control rows are made end to end.
    "controls": {"tasks": ["reset_recall"], "architectures": ["lstm_nfg", "gru_fug"]},
    # C6's learnability: its own small sweep (two holds, the learned LSTM and the control).
    "learnability": {"tasks": ["hold_recall@2", "hold_recall@6"],
                     "architectures": ["lstm", "lstm_nfg"], "lstm_inits": []},
}


def run(workdir, config, *args, repo=REPO):
    """Snakemake on `repo`'s workflow (the checkout, or the tiny study's private copy), whose
    jobs import `gateroles` from `repo` too, with `config` written to the working directory."""
    path = workdir / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return snakemake(repo, workdir, path, *args, timeout=1200)


@pytest.fixture(scope="module")
def finished(tiny_study):
    """The tiny study's working directory (run once per session: tests/conftest.py)."""
    return tiny_study.local


@pytest.fixture(scope="module")
def study_repo(tiny_study):
    """The private copy of the workflow the tiny study ran from."""
    return tiny_study.repo


def _reversed_keys(value):
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    return value


@pytest.mark.slow
def test_the_same_config_in_another_key_order_reruns_nothing(tiny_views):
    """Merging a --configfile reorders keys; equal values must not rerun a finished study."""
    result = tiny_views["reordered"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.slow
def test_report_has_every_section_and_embedded_figures(finished):
    html = (finished / "results" / "report.html").read_text()
    for section in ("summary", "tasks", "c1-roles", "c1-decodability", "c2", "c3", "c5", "c6",
                    "c6-learnability", "c7", "c8", "saturation", "config", "provenance"):
        assert f'id="{section}"' in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) >= 6
    for fig in ("c1_selectivity_heatmap", "c1_emergence", "c1_task_vs_control"):
        assert f'id="fig-{fig}"' in html
    assert "role emergence" in html and "attribution of state changes" in html  # answer table
    assert "Sanity checks (" in html  # the probe rows (and other sanity checks), shown apart
    assert "reset_recall" in html and "Runtime per rule" in html
    assert 'src="http' not in html  # self-contained
    c2 = pd.read_csv(finished / "results" / "tables" / "c2_verdicts.csv")
    forget = c2[c2["prediction"] == "forget drops at reset (mean over units)"].iloc[0]
    assert forget["control"] == "lstm_nfg (forget held at 1 in training)"
    assert pd.notna(forget["control_verdict"])  # the control cell's rows reached the aggregate
    # C6 is one Holm family: its one verdict table holds the learnability sweep's rows too
    tables = finished / "results" / "tables"
    learned = pd.read_csv(tables / "learnability_predictions.csv")
    assert "p_adjusted" not in learned.columns  # before Holm: adjusted in c6_verdicts.csv
    c6 = pd.read_csv(tables / "c6_verdicts.csv")
    assert set(learned["prediction"]) <= set(c6["prediction"])
    assert not (tables / "c6_learnability.csv").exists()


@pytest.mark.slow
def test_the_viewer_sits_beside_the_report(finished):
    """results/viewer.html: the main grid's models (every seed, perturbed at the last
    checkpoint) and the first seed of the negative controls, linked from the report."""
    assert 'href="viewer.html"' in (finished / "results" / "report.html").read_text()
    html = (finished / "results" / "viewer.html").read_text()
    data = json.JSONDecoder().raw_decode(html[html.index("const D = ") + 10:])[0]
    shown = [(m["keys"]["arch"], m["keys"]["seed"], bool(m["runs"][-1]["perturbations"]))
             for m in data["models"]]
    assert shown == [("lstm", "0", True), ("lstm", "1", True), ("gru", "0", True),
                     ("gru", "1", True), ("lstm_nfg", "0", False), ("gru_fug", "0", False)]
    lstm = data["models"][0]["runs"][-1]
    assert any(p["scores"][0]["study"] for p in lstm["perturbations"])  # the C3 table's scores
    assert data["report"] == "report.html" and len(html) < 1_000_000


def test_tables_carry_run_keys_and_flags(finished):
    tables = finished / "results" / "tables"
    runs = pd.read_csv(tables / "runs.csv")
    # the main grid's LSTM and GRU, and the two negative controls, 2 seeds each
    assert len(runs) == 8 and set(runs["arch"]) == {"lstm", "gru", "lstm_nfg", "gru_fug"}
    assert runs["solved"].dtype == bool
    for name in ("eta_contrast", "saturation", "training_curves"):
        table = pd.read_csv(tables / f"{name}.csv")
        assert {"task", "arch", "init", "seed", "solved"} <= set(table.columns), name
    contrast = pd.read_csv(tables / "eta_contrast.csv")
    assert set(contrast["step"]) >= {0}
    for fig in ("training_curves", "event_averages", "saturation", "c6_learnability"):
        assert (finished / "results" / "figures" / f"{fig}.pdf").stat().st_size > 1000
    # the learnability sweep's own models: every arm x seed x hold has a row (trained or not)
    holds = pd.read_csv(tables / "learnability_holds.csv")
    assert len(holds) == 4 and set(holds["n_seeds"]) == {2}


@pytest.mark.slow
def test_c7_tables_replay_training_and_attach_their_controls(finished):
    tables = finished / "results" / "tables"
    replay = pd.read_csv(tables / "c7_replay.csv")
    assert len(replay) == 8 and (replay["max_abs_diff"] == 0).all()  # bit for bit
    assert (replay["checked_step"] == 25).all()
    push = pd.read_csv(tables / "c7_push.csv")
    assert set(push.loc[push["arch"] == "lstm", "step"]) == {0, 25, 50}
    # a control: step 0 and the end of the replayed window only
    assert set(push.loc[push["arch"] == "lstm_nfg", "step"]) == {0, 25}
    c7 = pd.read_csv(tables / "c7_verdicts.csv")
    assert set(c7["claim"]) == {"C7"}
    reset = c7[c7["prediction"] == "at step 0 the error at resets pushes forget toward closing "
                                   "more than the other gates"].iloc[0]
    assert reset["control"] == "lstm_nfg (no forget gate: held at 1)"
    assert pd.notna(reset["control_verdict"])
    update = c7[c7["prediction"].str.contains("update block's weight from the reset token")]
    assert set(update["control"]) == {"gru_fug (update held at 0.5 in training)"}
    html = (finished / "results" / "report.html").read_text()
    assert 'id="fig-c7_mechanism"' in html and "how roles are written" in html


@pytest.mark.slow
def test_c1_probe_tables(finished):
    tables = finished / "results" / "tables"
    probes = pd.read_csv(tables / "probes.csv")
    assert {"task", "arch", "init", "seed", "solved", "step", "final_step", "source",
            "variable", "task_score", "control_score", "selectivity"} <= set(probes.columns)
    assert 0 in set(probes["step"])
    assert {"forget", "update", "hidden", "cell", "input_window"} <= set(probes["source"])
    c1 = pd.read_csv(tables / "c1_verdicts.csv")
    assert set(c1["claim"]) == {"C1"} and len(c1) == 5  # 3 LSTM roles + 2 GRU roles
    assert set(c1["verdict"]) <= {"supported", "contradicted", "inconclusive", "untestable",
                                  "insufficient seeds"}


@pytest.mark.slow
def test_c5_section_and_tables(finished):
    html = (finished / "results" / "report.html").read_text()
    assert 'id="c5"' in html
    for fig in ("c5_gate_mi", "c5_disentanglement", "c5_unit_factor_mi"):
        assert f'id="fig-{fig}"' in html
    for line in ("independence of gate pairs", "specialisation vs null"):
        assert line in html  # lines of evidence in the answer table
    tables = finished / "results" / "tables"
    gate_mi = pd.read_csv(tables / "gate_mi.csv")
    assert {"task", "arch", "init", "seed", "solved", "step", "final_step", "pair",
            "representation", "bins", "summary", "mi", "p_value"} <= set(gate_mi.columns)
    assert 0 in set(gate_mi["step"])
    assert set(gate_mi["representation"]) == {"activation", "logit", "activation_equal_width"}
    assert {"forget-input", "forget-output", "input-output", "reset-update"} == set(gate_mi["pair"])
    scores = pd.read_csv(tables / "disentanglement.csv")
    assert {"mig", "modularity", "dci_disentanglement", "sap"} <= set(scores["metric"])
    c5 = pd.read_csv(tables / "c5_verdicts.csv")
    assert set(c5["verdict"]) <= {"independent", "dependent", "not shown", "insufficient seeds",
                                  "supported", "contradicted", "inconclusive"}


# Claim C4 on the tiny study: two variants, the swapped-init arm and the rewiring.
TINY_WIRING = {**TINY, "wiring": {"tasks": ["reset_recall"], "architectures": ["lstm_nfg", "rnn"],
                                  "two_positions": True,
                                  "rewire": {"steps": 25, "first_checkpoint": 5}},
               # C8 end to end: a hold sweep in the main grid with the keep gate's control
               "study": {**TINY["study"], "tasks": ["reset_recall", "hold_armed@3",
                                                    "hold_armed@6"]},
               "controls": {**TINY["controls"], "hold_architectures": ["lstm_nfg"]}}


@pytest.fixture(scope="module")
def finished_wiring(tiny_study, tmp_path_factory):
    """The tiny study with claim C4's cells and a hold sweep: every figure the workflow can draw.
    Made on a copy of the finished tiny study, from the same copy of the workflow, so the cells
    the two configs share are not trained again: Snakemake makes the new cells and remakes what
    reads them (aggregates, figures, report), as for a user who widens a finished study."""
    workdir = tmp_path_factory.mktemp("wiring") / "study"
    shutil.copytree(tiny_study.local, workdir, symlinks=True)
    result = run(workdir, TINY_WIRING, "--cores", "2", "-q", repo=tiny_study.repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


# Snakemake's own views of the finished wiring study, each as a user would reach for it.
WIRING_VIEWS = {"report": ("--report", "snakemake_report.zip"),
                "--summary": ("--summary",), "--detailed-summary": ("--detailed-summary",),
                **{f"changes {change}": ("--list-changes", change)
                   for change in ("code", "input", "params")},
                "delete": ("--delete-all-output", "--dry-run")}


@pytest.fixture(scope="module")
def wiring_views(finished_wiring, study_repo):
    """name -> Snakemake's result for each of WIRING_VIEWS, all run in one process
    (study_runs.snakemake_each: the workflow's imports paid once)."""
    config = finished_wiring / "tiny.yaml"  # TINY_WIRING, as run() wrote it
    return snakemake_each(study_repo, finished_wiring,
                          {name: (config, *args) for name, args in WIRING_VIEWS.items()})


@pytest.mark.slow
def test_wiring_cells_run_where_they_serve_and_the_report_has_c4(finished_wiring, study_repo,
                                                                 tmp_path):
    page = (finished_wiring / "results" / "report.html").read_text()
    for fig in ("c4_behaviours", "c4_variants", "c4_two_positions", "c4_rewire"):
        assert f'id="fig-{fig}"' in page
    assert 'id="c4"' in page and "roles come from wiring" in page
    tables = finished_wiring / "results" / "tables"
    runs = pd.read_csv(tables / "runs.csv")
    assert set(zip(runs["arch"], runs["init"], strict=True)) == {
        ("lstm", "default"), ("gru", "default"), ("lstm_nfg", "default"), ("rnn", "default"),
        ("lstm", "swap_forget_input"), ("gru_fug", "default")}
    # C1-C3 and C5 decide on the main grid only; C6 adds the variants without a cell highway.
    for table in ("eta_contrast", "causal_matrix", "gate_mi"):
        frame = pd.read_csv(tables / f"{table}.csv")
        assert set(frame["arch"]) == {"lstm", "gru"} and set(frame["init"]) == {"default"}, table
    # The GRU's z-gated terms are not split; lstm_nfg (f = 1) is the forget share's control.
    shares = pd.read_csv(tables / "c1_shares.csv")
    assert set(shares["arch"]) == {"lstm", "lstm_nfg"} and set(shares["init"]) == {"default"}
    assert set(pd.read_csv(tables / "gradient_efold.csv")["arch"]) == {
        "lstm", "gru", "lstm_nfg", "rnn", "gru_fug"}
    c4 = pd.read_csv(tables / "c4_verdicts.csv")
    assert {"lstm_nfg", "rnn"} <= set(c4["arch"]) and set(c4["claim"]) == {"C4"}
    # every C4 model scored behaviour by behaviour at every checkpoint
    behaviours = pd.read_csv(tables / "c4_behaviours.csv")
    assert set(behaviours["arch"]) == {"lstm", "lstm_nfg", "rnn"}
    assert {"recall_after_reset", "recall_after_store"} <= set(behaviours["behaviour"])
    assert set(behaviours["step"]) == {0, 25, 50}
    # the rewiring's control ran: the frozen blocks' curve and fraction are there
    assert "moved blocks frozen" in set(pd.read_csv(tables / "c4_curves.csv")["kind"])
    assert "fraction_frozen" in pd.read_csv(tables / "c4_rewire_summary.csv")
    # A gate a variant lacks is absent from its gate file, never filled with a constant. The
    # gate files are temporary: made again as targets, on a copy of the study (made again, they
    # would leave the shared study's summaries with updates pending).
    work = shutil.copytree(finished_wiring, tmp_path / "study", symlinks=True)
    files = [f"results/runs/reset_recall/{arch}/default/seed0/gates.npz"
             for arch in ("lstm_nfg", "lstm")]
    made = run(work, TINY_WIRING, *files, "--cores", "2", "--quiet", "rules", repo=study_repo)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    nfg, lstm = (np.load(work / f) for f in files)
    assert not any("forget" in name for name in nfg.files)
    assert any("input" in name for name in nfg.files)
    # Logits only where an analysis reads them (C5's MI, on the main grid).
    assert not any(name.startswith("logit") for name in nfg.files)
    assert any(name.startswith("logit") for name in lstm.files)


@pytest.mark.slow
def test_a_hold_sweep_in_the_grid_gives_c8_by_hold_with_its_control(finished_wiring):
    tables = finished_wiring / "results" / "tables"
    runs = pd.read_csv(tables / "runs.csv")
    on_holds = runs[runs["task"].str.startswith("hold_armed@")]
    assert set(on_holds["arch"]) == {"lstm", "gru", "lstm_nfg"}  # the control on every hold
    assert set(on_holds["task"]) == {"hold_armed@3", "hold_armed@6"}
    by_hold = pd.read_csv(tables / "holds_by_hold.csv")
    assert {3.0, 6.0} <= set(by_hold["hold"])
    assert {"log10_product_keep", "saturated", "direct_share"} <= set(by_hold["measure"])
    c8 = pd.read_csv(tables / "c8_verdicts.csv")
    lstm = c8[(c8["arch"] == "lstm") & (c8["task"] == "hold_armed")]
    # the C1 and C3 measures' trends: the erasure share, the armed contrast, the interchange,
    # each beside its control, which ran (two seeds: too few to decide either)
    assert len(set(lstm["evidence"])) == 3
    assert set(lstm["control"]) == {"lstm_nfg (forget held at 1 in training)"}
    assert lstm["control_verdict"].notna().all()
    gru = c8[c8["arch"] == "gru"]  # gru_fug is not among this config's hold controls
    assert len(gru) and gru["control_verdict"].isna().all()
    page = (finished_wiring / "results" / "report.html").read_text()
    assert 'id="c8"' in page and 'id="fig-holds_roles"' in page


@pytest.mark.slow
def test_second_run_has_nothing_to_do(tiny_views):
    """The study ran with every default written out: the short config reruns nothing either."""
    result = tiny_views["short"]
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.slow
def test_gate_files_are_temporary_and_made_again_with_the_same_results(finished, study_repo,
                                                                       tmp_path):
    """The gate files, nearly all of a study's disk, are removed once every job that reads them
    has run (a finished study needs none of them: test_second_run_has_nothing_to_do); a job
    that must run again has its cell's gates extracted again, and gives the same bytes."""
    assert list((finished / "results/runs").rglob("checkpoints.pt"))
    assert not list((finished / "results/runs").rglob("*gates.npz"))
    work = tmp_path / "study"
    shutil.copytree(finished, work, symlinks=True)
    table = "results/runs/reset_recall/gru/default/saturation/saturation.csv"
    result = run(work, TINY, "--cores", "2", "--force", table, repo=study_repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ran = result.stdout + result.stderr
    assert "rule extract_gates:" in ran and "rule saturation:" in ran, ran[-3000:]
    assert (work / table).read_bytes() == (finished / table).read_bytes()
    assert not list((work / "results/runs").rglob("*gates.npz"))  # removed again


@pytest.mark.slow
def test_a_moved_project_reruns_nothing(tmp_path):
    """A clone moved (or copied) elsewhere keeps its finished jobs: the rules' inputs from the
    package (code, templates, captions: code_deps) are paths relative to the project, not
    absolute ones that change with it."""
    project = tmp_path / "before"
    for part in ("config", "workflow", "src", "profiles", "envs"):  # what the workflow reads
        shutil.copytree(REPO / part, project / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "Snakefile", project)
    config = {**TINY, "study": {**TINY["study"], "architectures": ["lstm"], "seeds": [0]}}
    (project / "tiny.yaml").write_text(yaml.safe_dump(config))
    target = "results/runs/reset_recall/lstm/default/seed0/test.json"

    def snakemake(where, *args):
        return subprocess.run([sys.executable, "-m", "snakemake", "--configfile", "tiny.yaml",
                               "--replace-workflow-config", *args], cwd=where,
                              env={**os.environ, "PYTHONPATH": str(where / "src")},
                              capture_output=True, text=True, timeout=600)

    # Every rule's inputs (the whole DAG, as --filegraph draws it) name no absolute path
    # inside the project; then one job run, the project moved, and nothing to do.
    graph = snakemake(project, "--filegraph")
    assert graph.returncode == 0, graph.stderr[-3000:]
    assert "src/gateroles/training.py" in graph.stdout and "captions/" in graph.stdout
    assert str(project) not in graph.stdout
    result = snakemake(project, target, "--cores", "1", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    moved = project.rename(tmp_path / "after")
    result = snakemake(moved, target, "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]


def _report_figures(zip_path: Path) -> dict[str, str]:
    """figure name -> its caption as text, from the report zip Snakemake writes."""
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        page = archive.read(next(n for n in names if n.endswith("/report.html"))).decode()
    marker = "var results = "  # the report's data, in its <script id="results">
    start = page.index(marker, page.index('<script id="results">')) + len(marker)
    results, _ = json.JSONDecoder().raw_decode(page, start)
    figures = {}
    for path, entry in results.items():
        name = Path(path).stem
        assert any(n.endswith(f"/{entry['data_uri']}") for n in names), f"{path} not in the zip"
        text = html.unescape(re.sub(r"<[^>]+>", " ", entry["caption"]))
        figures[name] = " ".join(text.split())
    return figures


@pytest.mark.slow
def test_snakemake_report_has_every_figure_with_its_rendered_caption(finished_wiring,
                                                                      wiring_views):
    """`snakemake --report x.zip` (Snakemake's own report) holds every figure that
    results/report.html shows, each with its own caption rendered from the run's config: the
    same text as in results/report.html."""
    result = wiring_views["report"]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = _report_figures(finished_wiring / "snakemake_report.zip")
    page = (finished_wiring / "results" / "report.html").read_text()
    declared = re.findall(r'id="fig-([\w-]+)"', page)
    assert len(declared) >= 18 and {"c4_variants", "c4_two_positions", "c4_rewire"} <= set(declared)
    assert set(figures) == set(declared)
    config = validate(copy.deepcopy(TINY_WIRING), REPO / "config" / "schema.yaml")
    for name, caption in figures.items():
        assert "{{" not in caption and "{%" not in caption and "{figure}" not in caption, name
        assert caption == report_caption(name, config), name


@pytest.mark.slow
@pytest.mark.parametrize("option", ["--summary", "--detailed-summary"])
def test_summary_says_every_output_of_a_finished_study_is_up_to_date(wiring_views, option):
    result = wiring_views[option]
    assert result.returncode == 0, result.stderr[-2000:]
    table = result.stdout[result.stdout.index("output_file\t"):]
    rows = pd.read_csv(io.StringIO(table), sep="\t", keep_default_na=False)
    assert len(rows) > 100 and {"results/report.html", "results/figures/c4_rewire.png"} <= set(
        rows["output_file"])
    assert set(rows["plan"]) == {"no update"}
    # every output is there, but the gate files: temporary, removed once read
    removed = rows[rows["status"] != "ok"]
    assert set(removed["status"]) == {"removed temp file"}, set(removed["status"])
    assert len(removed) and removed["output_file"].str.endswith("gates.npz").all()


@pytest.mark.slow
@pytest.mark.parametrize("change", [
    "code", "input",
    pytest.param("params", marks=pytest.mark.xfail(strict=True, reason=(
        "Snakemake 9.27.1 lists every job's last output, changed or not (its ParamsChange "
        "keeps the files of an empty change); `snakemake -n` names the jobs whose params "
        "changed: docs/running.md"))),
])
def test_list_changes_of_a_finished_study_is_empty(wiring_views, change):
    result = wiring_views[f"changes {change}"]
    assert result.returncode == 0, result.stderr[-2000:]
    listed = [line for line in result.stdout.splitlines() if line.startswith("results/")]
    assert not listed, listed[:10]


@pytest.mark.slow
def test_delete_all_output_would_delete_every_result_and_nothing_else(finished_wiring,
                                                                       wiring_views):
    """`--delete-all-output` (here dry) removes every output of the study, all of them under
    results/; the job logs and benchmarks stay (Snakemake keeps them)."""
    result = wiring_views["delete"]
    assert result.returncode == 0, result.stderr[-2000:]
    listed = {line.removeprefix("Would delete ")
              for line in (result.stdout + result.stderr).splitlines()
              if line.startswith("Would delete ")}
    kept = ("results/logs/", "results/benchmarks/")
    outputs = {path.relative_to(finished_wiring).as_posix()
               for path in (finished_wiring / "results").rglob("*") if path.is_file()}
    assert listed == {path for path in outputs if not path.startswith(kept)}


def test_bad_config_fails_at_parse_time_naming_the_key(tmp_path):
    bad = {**TINY, "study": {**TINY["study"], "architectures": ["lstm", "transformer"]}}
    result = run(tmp_path, bad, "--cores", "1")
    assert result.returncode != 0
    output = result.stdout + result.stderr  # with a profile, Snakemake logs to stdout
    assert "study.architectures[1]" in output and "'gru'" in output
    assert not (tmp_path / "results").exists()  # no job ran


def _with_verdicts(finished, repo, tmp_path, primary, sanity="supported"):
    """A copy of the finished study whose every verdict table says `primary` on every primary
    prediction (each beside a negative control that failed, so all count) and `sanity` on
    every sanity check, its report re-rendered from those tables."""
    import shutil

    work = tmp_path / f"{primary}-{sanity}"
    shutil.copytree(finished, work, symlinks=True)
    for path in (work / "results" / "tables").glob("*.csv"):
        table = pd.read_csv(path)
        if {"claim", "verdict", "test"} <= set(table.columns) and len(table):
            is_primary = table["test"] == "primary"
            table["verdict"] = np.where(is_primary, primary, sanity)
            table["control_verdict"] = np.where(is_primary, "inconclusive", "")
            table["counted"] = is_primary
            table.to_csv(path, index=False)
    result = run(work, TINY, "results/report.html", "--cores", "2", repo=repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (work / "results" / "report.html").read_text()
    return html[html.index('id="summary"'):html.index("</table>", html.index('id="summary"'))]


@pytest.mark.slow
def test_the_answer_follows_the_tables(finished, study_repo, tmp_path):
    """Render the report from tables with opposite outcomes: the answer's words change. The
    flipped tables, every primary test failing while every sanity check passes, answer no."""
    supported = _with_verdicts(finished, study_repo, tmp_path, "supported")
    contradicted = _with_verdicts(finished, study_repo, tmp_path, "contradicted")
    assert "Yes:" in supported and "Yes:" not in contradicted
    assert "No:" in contradicted and "No:" not in supported
    failing = _with_verdicts(finished, study_repo, tmp_path, "inconclusive", sanity="supported")
    assert "No:" in failing and "Yes:" not in failing and "In part" not in failing
    assert supported.count(">supported<") > 3 and contradicted.count(">contradicted<") > 3
