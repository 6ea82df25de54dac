"""Claim C1 by probes: control token types, probes of one gate file, the C1 effect and ranking."""

import numpy as np
import pandas as pd
import pytest

from gateroles import gatefile, probes, stats
from gateroles.analyses.decodability import Settings, aggregate, section
from gateroles.analyses.decodability.measure import measure
from gateroles.pipeline import RunInputs
from gateroles.study import Run
from gateroles.tasks import make_splits

# --------------------------------------------------------------------------- token types


def test_window_types_is_the_tuple_of_recent_tokens():
    tokens = np.array([[0, 1, 0, 1], [1, 0, 1, 0]])
    w1 = probes.window_types(tokens, 1)
    assert np.array_equal(w1 == w1[0, 0], tokens == 0)
    w2 = probes.window_types(tokens, 2)
    # (0, pad) at [0, 0] and (1, pad) at [1, 0] are their own types; (1, 0) pairs share one.
    assert w2[0, 1] == w2[0, 3] == w2[1, 2]
    assert w2[1, 1] == w2[1, 3] == w2[0, 2]
    assert w2[0, 1] != w2[1, 1] and w2[0, 0] != w2[1, 0]
    assert len(np.unique(w2)) == 4
    assert len(np.unique(probes.window_types(tokens, 4))) == 8  # every (seq, step) distinct


def test_input_types_discretises_continuous_channels():
    onehot = np.eye(3)[np.array([[0, 2, 1, 2]])]
    types = probes.input_types(onehot)  # the token id up to relabelling
    assert len(np.unique(types)) == 3 and types[0, 1] == types[0, 3]
    values = np.array([[[0.05, 0], [0.95, 1], [0.06, 0], [0.5, 0]]])
    types = probes.input_types(values, bins=10)
    assert types[0, 0] == types[0, 2] and len(np.unique(types)) == 3


def test_input_window_matches_one_hot_window_features():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 5, size=(4, 9))
    assert np.array_equal(probes.input_window(np.eye(5)[tokens], 3),
                          probes.input_window_features(tokens, 5, window=3))


def test_windowed_control_is_not_decodable_from_the_current_token_alone():
    """The point of the wider control: one-hot(current token) fits a per-token control
    perfectly but a per-3-gram control only partly."""
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 10, size=(150, 60))
    X = np.eye(10)[tokens]
    groups = probes.sequence_groups(150, 60)
    y = rng.integers(0, 2, size=tokens.shape).ravel()
    c1 = probes.control_labels(probes.window_types(tokens, 1).ravel(), y, seed=3)
    c3 = probes.control_labels(probes.window_types(tokens, 3).ravel(), y, seed=3)
    flat = probes.flatten(X)
    if len(np.unique(c1)) > 1:
        assert probes.probe(flat, c1, groups) > 0.99
    assert probes.probe(flat, c3, groups) < 0.75


# --------------------------------------------------------------------------- one checkpoint


def test_probe_sources_finds_the_planted_source():
    rng = np.random.default_rng(1)
    n, t = 60, 40
    tokens = rng.integers(0, 6, size=(n, t))
    memory = rng.integers(0, 2, size=(n, t))  # not a function of the tokens
    carrier = rng.normal(size=(n, t, 4))
    carrier[..., 0] += 3 * memory
    noise = rng.normal(size=(n, t, 4))
    rows = probes.probe_sources({"carrier": carrier, "noise": noise}, {"memory": memory},
                                probes.window_types(tokens, 3), seed=0,
                                extra_controls={"token": probes.window_types(tokens, 1)})
    by = {r["source"]: r for r in rows}
    assert by["carrier"]["task_score"] > 0.9 and by["carrier"]["selectivity"] > 0.35
    assert abs(by["noise"]["selectivity"]) < 0.1
    assert {"control_score_token", "selectivity_token"} <= set(by["noise"])


def test_measure_on_a_fake_gate_file(tmp_path):
    """A fake extraction: step 0 gates are noise, step 7's forget gate carries is_reset."""
    test = make_splits("reset_recall", {"test": 12}, 20, seed=3)["test"]
    rng = np.random.default_rng(0)
    per_step = {step: {gate: rng.random((12, 20, 3)).astype(np.float16)
                       for gate in ("input", "forget", "cell_candidate", "output", "cell",
                                    "hidden")} for step in (0, 7)}
    per_step[7]["forget"][..., 0] = test.factors["is_reset"]
    gatefile.write(str(tmp_path / "gates.npz"), gatefile.task_arrays(test, 12), per_step)
    settings = Settings(n_sequences=10, input_window=2, control_window=2)
    table = measure(RunInputs({"gates": str(tmp_path / "gates.npz")}),
                    Run("reset_recall", "lstm", "default", 3), settings)["probes"]
    assert set(table["step"]) == {0, 7} and set(table["final_step"]) == {7}
    assert set(table["source"]) == {"input", "forget", "cell_candidate", "output", "cell",
                                    "hidden", "input_window"}
    assert set(table["variable"]) == set(test.variables)  # annotations are not probed
    assert set(table["n_sequences"]) == {10} and set(table["control_window"]) == {2}
    score = table.set_index(["step", "source", "variable"])["task_score"]
    assert score[7, "forget", "is_reset"] > 0.95
    assert score[0, "forget", "is_reset"] < 0.75
    assert score[7, "input_window", "is_reset"] == score[0, "input_window", "is_reset"]
    assert table["control_score_token"].notna().all()  # first and last checkpoints


# --------------------------------------------------------------------------- C1 effect


def _synthetic_table(effect_trained, effect_init=0.0, solved=True):
    """reset_recall/LSTM: forget's selectivity for is_reset exceeds the others' by `effect`."""
    rows = []
    for seed in range(5):
        for step, final, effect in ((0, 100, effect_init), (100, 100, effect_trained)):
            for source in ("input", "forget", "output", "cell", "hidden", "input_window"):
                for variable in ("is_reset", "is_store", "is_query", "memory"):
                    base = 0.3 + 0.01 * seed + (0.02 if source == "output" else 0.0)
                    bump = effect if (source, variable) == ("forget", "is_reset") else 0.0
                    rows.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                                 "seed": seed, "step": step, "final_step": final,
                                 "source": source, "variable": variable,
                                 "selectivity": base + 0.02 + bump, "solved": bool(solved or seed)})
    return pd.DataFrame(rows)


SETTINGS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)


def test_c1_effect_is_predicted_minus_the_mean_of_the_other_gates():
    table = _synthetic_table(effect_trained=0.2).assign(task_score=0.8)
    c1 = aggregate.c1_verdicts(table, SETTINGS).set_index("prediction")
    assert len(c1) == 3 and set(c1["claim"]) == {"C1"}
    reset = c1.loc["forget carries is_reset (reset) more selectively"]
    # forget = base + 0.22, the others (input, output) = base + 0.02 and base + 0.04
    assert reset["trained"] == pytest.approx(0.19)
    assert reset["initial"] == pytest.approx(-0.01)
    assert reset["verdict"] == "supported" and reset["seeds_agreeing"] == 5
    store = c1.loc["input carries is_store (store) more selectively"]
    assert store["change"] == pytest.approx(0.0, abs=1e-12)
    assert store["verdict"] == "untestable"  # every seed exactly 0: nothing moved
    assert set(c1["test"]) == {"sanity"} and c1["note"].str.contains("reads its input").all()


def test_c1_is_untestable_when_every_gate_decodes_the_variable_at_ceiling():
    table = _synthetic_table(effect_trained=0.2).assign(task_score=1.0)
    c1 = aggregate.c1_verdicts(table, SETTINGS)
    assert set(c1["verdict"]) == {"untestable"} and c1["note"].str.contains("ceiling").all()


def test_c1_leaves_out_and_counts_unsolved_seeds():
    table = _synthetic_table(effect_trained=0.2, solved=False).assign(task_score=0.8)
    c1 = aggregate.c1_verdicts(table, SETTINGS).set_index("prediction")
    row = c1.loc["forget carries is_reset (reset) more selectively"]
    assert row["n_seeds"] == 4 and row["n_unsolved"] == 1
    assert row["verdict"] == "insufficient seeds"


def test_c1_ranking_names_the_best_source_and_margin():
    ranking = aggregate.c1_ranking(_synthetic_table(effect_trained=0.2), 0.95)
    row = ranking[(ranking["variable"] == "is_reset") & (ranking["phase"] == "trained")].iloc[0]
    assert row["best_source"] == "forget" and row["runner_up"] == "output"
    assert row["margin"] == pytest.approx(0.18) and row["seeds_best"] == 5
    init = ranking[(ranking["variable"] == "is_reset") & (ranking["phase"] == "initial")]
    assert init.iloc[0]["best_source"] == "output"


def test_c1_findings_and_answer_row():
    from gateroles import report

    table = _synthetic_table(effect_trained=0.2).assign(task_score=1.0, control_score=0.6,
                                                        control_score_token=1.0,
                                                        selectivity_token=0.0,
                                                        n_token_types=10, n_control_types=300)
    c1 = aggregate.c1_verdicts(table, SETTINGS)
    row = report.evidence_row(c1, "C1", aggregate.EVIDENCE)
    # probes are sanity checks (any gate reads its input): no primary prediction, so the line
    # decides nothing and its rows go to the report's sanity table
    assert row["verdict"] == "not decided" and row["basis"] == "no primary prediction"
    assert len(row["sanity"]) == 3 and set(row["sanity"]["verdict"]) == {"untestable"}
    found = section.findings(c1, aggregate.c1_ranking(table, 0.95), aggregate.c1_controls(table),
                             table)
    assert found["n_untestable"] == 3 and found["event_task_initial"] == "1.000"
    assert "10 token types" in found["types"]
    assert report.evidence_row(c1.iloc[0:0], "C1", "x")["verdict"] == "not decided"
