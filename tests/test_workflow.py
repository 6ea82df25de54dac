"""End to end: the workflow on a tiny config in a temporary directory."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]

TINY = {
    "study": {"tasks": ["reset_recall"], "architectures": ["lstm", "gru"], "seeds": [0, 1]},
    "data": {"length": 30, "n_train": 256, "n_validation": 64, "n_test": 64},
    "model": {"hidden_size": 8},
    # A low bar so that some tiny models count as solved and every table has rows.
    "training": {"batch_size": 32, "steps": {"reset_recall": 50}, "eval_every": 25,
                 "first_checkpoint": 25, "solved_threshold": {"reset_recall": 0.4}},
    "extraction": {"n_sequences": 16},
    # The analyses read at most the extracted sequences (the unit ablation: the second half),
    # and ablate groups of fewer units than the model has.
    "probes": {"n_sequences": 16}, "information": {"n_sequences": 16},
    "gradients": {"n_sequences": 16},
    "causal": {"ablation_sequences": 8, "unit_k": [1, 4], "verdict_k": 4},
    "analysis": {"bootstrap_samples": 200},
}


def run(workdir, config, *args):
    path = workdir / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run([*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(path),
                           "--replace-workflow-config", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study")
    result = run(workdir, TINY, "--cores", "2", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


def _reversed_keys(value):
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    return value


@pytest.mark.slow
def test_the_same_config_in_another_key_order_reruns_nothing(finished):
    """Merging a --configfile reorders keys; equal values must not rerun a finished study."""
    path = finished / "reordered.yaml"
    path.write_text(yaml.safe_dump(_reversed_keys(TINY), sort_keys=False))
    result = subprocess.run([*SNAKEMAKE, "--directory", str(finished), "--configfile",
                             str(path), "--replace-workflow-config", "-n"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.slow
def test_report_has_every_section_and_embedded_figures(finished):
    html = (finished / "results" / "report.html").read_text()
    for section in ("summary", "tasks", "c1-roles", "c1-decodability", "c2", "c3", "c5", "c6",
                    "saturation", "config", "provenance"):
        assert f'id="{section}"' in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) >= 6
    for fig in ("c1_selectivity_heatmap", "c1_emergence", "c1_task_vs_control"):
        assert f'id="fig-{fig}"' in html
    assert "role emergence" in html and "decodability (linear probes)" in html  # answer table
    assert "reset_recall" in html and "Runtime per rule" in html
    assert 'src="http' not in html  # self-contained


@pytest.mark.slow
def test_tables_carry_run_keys_and_flags(finished):
    tables = finished / "results" / "tables"
    runs = pd.read_csv(tables / "runs.csv")
    assert len(runs) == 4 and set(runs["arch"]) == {"lstm", "gru"}
    assert runs["solved"].dtype == bool
    for name in ("eta_contrast", "saturation", "training_curves"):
        table = pd.read_csv(tables / f"{name}.csv")
        assert {"task", "arch", "init", "seed", "solved"} <= set(table.columns), name
    contrast = pd.read_csv(tables / "eta_contrast.csv")
    assert set(contrast["step"]) >= {0}
    for fig in ("training_curves", "event_averages", "saturation"):
        assert (finished / "results" / "figures" / f"{fig}.pdf").stat().st_size > 1000


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
                                  "rewire": {"steps": 25, "first_checkpoint": 5}}}


@pytest.mark.slow
def test_wiring_cells_run_where_they_serve_and_the_report_has_c4(tmp_path):
    result = run(tmp_path, TINY_WIRING, "--cores", "2", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (tmp_path / "results" / "report.html").read_text()
    for fig in ("c4_behaviours", "c4_variants", "c4_two_positions", "c4_rewire"):
        assert f'id="fig-{fig}"' in html
    assert 'id="c4"' in html and "roles come from wiring" in html
    tables = tmp_path / "results" / "tables"
    runs = pd.read_csv(tables / "runs.csv")
    assert set(zip(runs["arch"], runs["init"], strict=True)) == {
        ("lstm", "default"), ("gru", "default"), ("lstm_nfg", "default"), ("rnn", "default"),
        ("lstm", "swap_forget_input")}
    # C1-C3 and C5 decide on the main grid only; C6 adds the variants without a cell highway.
    for table in ("eta_contrast", "c1_attribution", "causal_matrix", "gate_mi"):
        frame = pd.read_csv(tables / f"{table}.csv")
        assert set(frame["arch"]) == {"lstm", "gru"} and set(frame["init"]) == {"default"}, table
    assert set(pd.read_csv(tables / "gradient_efold.csv")["arch"]) == {"lstm", "gru", "lstm_nfg",
                                                                        "rnn"}
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
    # A gate a variant lacks is absent from its gate file, never filled with a constant.
    nfg = np.load(tmp_path / "results/runs/reset_recall/lstm_nfg/default/seed0/gates.npz")
    assert not any("forget" in name for name in nfg.files)
    assert any("input" in name for name in nfg.files)
    # Logits only where an analysis reads them (C5's MI, on the main grid).
    assert not any(name.startswith("logit") for name in nfg.files)
    lstm = np.load(tmp_path / "results/runs/reset_recall/lstm/default/seed0/gates.npz")
    assert any(name.startswith("logit") for name in lstm.files)


@pytest.mark.slow
def test_second_run_has_nothing_to_do(finished):
    result = run(finished, TINY, "--cores", "2", "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


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


@pytest.mark.slow
def test_snakemake_report_works(finished):
    result = run(finished, TINY, "--report", "snakemake_report.html")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (finished / "snakemake_report.html").stat().st_size > 10_000


def test_bad_config_fails_at_parse_time_naming_the_key(tmp_path):
    bad = {**TINY, "study": {**TINY["study"], "architectures": ["lstm", "transformer"]}}
    result = run(tmp_path, bad, "--cores", "1")
    assert result.returncode != 0
    output = result.stdout + result.stderr  # with a profile, Snakemake logs to stdout
    assert "study.architectures[1]" in output and "'gru'" in output
    assert not (tmp_path / "results").exists()  # no job ran


def _with_verdicts(finished, tmp_path, verdict):
    """A copy of the finished study whose every verdict table says `verdict` everywhere,
    its report re-rendered from those tables."""
    import shutil

    work = tmp_path / verdict
    shutil.copytree(finished, work, symlinks=True)
    for path in (work / "results" / "tables").glob("*.csv"):
        table = pd.read_csv(path)
        if {"claim", "verdict"} <= set(table.columns) and len(table):
            table.assign(verdict=verdict).to_csv(path, index=False)
    result = run(work, TINY, "results/report.html", "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (work / "results" / "report.html").read_text()
    return html[html.index('id="summary"'):html.index("</table>", html.index('id="summary"'))]


@pytest.mark.slow
def test_the_answer_follows_the_tables(finished, tmp_path):
    """Render the report from tables with opposite outcomes: the answer's words change."""
    supported = _with_verdicts(finished, tmp_path, "supported")
    contradicted = _with_verdicts(finished, tmp_path, "contradicted")
    assert "Yes:" in supported and "Yes:" not in contradicted
    assert "No:" in contradicted and "No:" not in supported
    assert supported.count(">supported<") > 3 and contradicted.count(">contradicted<") > 3
