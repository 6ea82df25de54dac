"""Claim C6, functionally: the longest hold each architecture learns (learnability), on sweep
tables whose answers are known, and one real sweep on a tiny model."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gateroles import report, stats
from gateroles.analyses.learnability import (
    CONTROL,
    PREDICTIONS,
    Settings,
    figures,
    measure,
    section,
)
from gateroles.analyses.learnability import aggregate as agg
from gateroles.config import ConfigError, validate

SCHEMA = Path(__file__).resolve().parents[1] / "config" / "schema.yaml"
STATS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)
HOLDS = (5, 15, 45, 135)
SETTINGS = Settings(tasks=tuple(f"hold_recall@{h}" for h in HOLDS),
                    architectures=("lstm", "lstm_ffg", "lstm_nfg", "rnn"), lstm_inits=())


def _sweeps(reach: dict[str, list[int]], task="hold_recall") -> pd.DataFrame:
    """A sweep table in which seed s of `arch` learns the first reach[arch][s] holds (a seed's
    sweep stops at its first hold not learned: the longer ones are not trained)."""
    rows = []
    for arch, per_seed in reach.items():
        for seed, n in enumerate(per_seed):
            for k, hold in enumerate(HOLDS):
                trained = k <= n
                rows.append({"task": task, "hold": hold, "name": f"{task}@{hold}",
                             "arch": arch, "init": "default", "seed": seed,
                             "trained": trained, "learned": k < n,
                             "budget": 100 if trained else np.nan,
                             "steps_to_solve": 10 * (k + 1) if k < n else np.nan,
                             "test_score": 1.0 if k < n else (0.5 if trained else np.nan)})
    return pd.DataFrame(rows)


def _aggregate(reach):
    return agg.aggregate({"sweeps": _sweeps(reach)}, None, SETTINGS, STATS)


def _c6(out):
    """C6's verdict table as the gradient's aggregate writes it from these rows alone."""
    return stats.join_verdicts([out["predictions"]], STATS)


def test_settings_sort_each_task_by_hold():
    s = Settings(tasks=("hold_recall@45", "hold_armed@3", "hold_recall@5", "hold_recall@15"),
                 architectures=("lstm", "gru"), lstm_inits=("chrono",))
    assert s.sweeps() == {"hold_recall": ["hold_recall@5", "hold_recall@15", "hold_recall@45"],
                          "hold_armed": ["hold_armed@3"]}
    assert s.arms() == [("lstm", "default"), ("gru", "default"), ("lstm", "chrono")]


def test_reach_and_the_longest_hold_every_seed_learned():
    out = _aggregate({"lstm": [3, 3, 2, 4, 3], "rnn": [0, 1, 1, 1, 1]})
    reach = out["reach"].set_index(["arch", "seed"])
    assert reach.loc[("lstm", 3), "reach"] == 4 and reach.loc[("lstm", 3), "reach_hold"] == 135
    assert reach.loc[("rnn", 0), "reach"] == 0 and np.isnan(reach.loc[("rnn", 0), "reach_hold"])
    longest = out["longest"].set_index("arch")
    assert longest.loc["lstm", "longest_every_seed"] == 15  # seed 2 stopped after 15
    assert np.isnan(longest.loc["rnn", "longest_every_seed"])  # seed 0 learned none
    assert longest.loc["lstm", "reach_max"] == 135 and longest.loc["lstm", "longest_swept"] == 135
    assert longest.loc["lstm", "reach_min"] == 15 and longest.loc["rnn", "reach_max"] == 5
    assert np.isnan(longest.loc["rnn", "reach_min"])  # a seed that learned none
    holds = out["holds"].set_index(["arch", "hold"])
    # hold 45: lstm seeds 0, 1, 3, 4 learned it; seed 2 trained and failed
    assert tuple(holds.loc[("lstm", 45), ["n_learned", "n_trained", "n_seeds"]]) == (4, 5, 5)
    # rnn: 4 seeds learned 5, all failed 15, nobody trained 45 (their sweeps had stopped)
    assert tuple(holds.loc[("rnn", 45), ["n_learned", "n_trained"]]) == (0, 0)


def test_a_learned_forget_gate_that_reaches_further_is_supported_and_counted():
    """lstm reaches two positions further than lstm_ffg and rnn on every seed but one; the
    control, lstm_nfg, reaches no further than either: supported and counted."""
    out = _aggregate({"lstm": [3, 3, 3, 3, 4, 3], "lstm_ffg": [1, 1, 1, 2, 1, 1],
                      "rnn": [1, 1, 1, 1, 1, 2], "lstm_nfg": [1, 1, 2, 1, 1, 1]})
    # written before Holm: C6's one verdict table adjusts them with the gradient's rows
    assert "p_adjusted" not in out["predictions"].columns
    c6 = _c6(out).set_index("prediction")
    for other, (prediction, _) in PREDICTIONS.items():
        row = c6.loc[prediction]
        assert row["verdict"] == stats.SUPPORTED and row["counted"], other
        assert row["arch"] == "lstm" and row["claim"] == "C6"
        assert row["control"].startswith(CONTROL) and row["control_verdict"] != stats.SUPPORTED
        assert row["decided_on"].startswith("trained vs 0")
    assert c6.loc[PREDICTIONS["lstm_ffg"][0], "change"] == pytest.approx(
        np.mean([2, 2, 2, 1, 3, 2]))


def test_a_reach_that_keeping_alone_gives_is_not_counted():
    """The carousel without a forget gate (lstm_nfg) reaches as far as the learned LSTM: the
    prediction is supported but its negative control is too, so it is not a test."""
    out = _aggregate({"lstm": [3, 3, 3, 4, 3], "lstm_ffg": [1, 1, 2, 1, 1],
                      "rnn": [1, 1, 1, 1, 2], "lstm_nfg": [3, 3, 4, 3, 4]})
    c6 = _c6(out)
    assert (c6["verdict_unadjusted"] == stats.SUPPORTED).all()
    assert (c6["control_verdict"] == stats.SUPPORTED).all() and not c6["counted"].any()
    line = report.evidence_row(c6, "C6", "the longest hold learned")
    assert line["verdict"] == "not decided" and len(line["not_a_test"]) == 2


def test_equal_reach_is_untestable_and_a_shorter_one_contradicted():
    same = _aggregate({"lstm": [2] * 5, "lstm_ffg": [2] * 5, "rnn": [3, 3, 4, 3, 3],
                       "lstm_nfg": [1] * 5})["predictions"].set_index("prediction")
    assert same.loc[PREDICTIONS["lstm_ffg"][0], "verdict"] == stats.UNTESTABLE
    assert same.loc[PREDICTIONS["rnn"][0], "verdict"] == stats.CONTRADICTED


def test_without_the_control_nothing_counts_and_without_lstm_nothing_is_predicted():
    c6 = _aggregate({"lstm": [3] * 5, "rnn": [1] * 5})["predictions"]
    assert len(c6) == 1 and c6.iloc[0]["control"].endswith("(not run)")
    assert not c6["counted"].any()
    assert _aggregate({"gru": [3] * 5, "rnn": [1] * 5})["predictions"].empty


def test_section_and_figure_say_what_the_tables_hold(tmp_path):
    out = _aggregate({"lstm": [3, 3, 3, 3, 4, 3], "lstm_ffg": [1, 1, 1, 2, 1, 1],
                      "rnn": [1, 1, 1, 1, 1, 2], "lstm_nfg": [1, 1, 2, 1, 1, 1]})
    fig = figures.FIGURES["c6_learnability"]({"holds": out["holds"]}, SETTINGS)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 4
    sentences = section.longest_sentences(out["longest"], out["holds"])
    assert sentences == ["hold_recall, holds 5, 15, 45, 135 steps, a budget of 100 steps: the "
                         "longest hold every seed learned, lstm 45; lstm_ffg 5; rnn 5; "
                         "lstm_nfg 5."]
    words = section.verdict_sentences(_c6(out))
    assert words[0].startswith("hold_recall: a learned forget gate learns longer holds than "
                               "one held at 0.5: supported (counted); reach of lstm minus the "
                               "other, 2.00 [")
    assert "6 of 6 seeds above 0" in words[0] and "lstm_nfg in place of lstm" in words[0]
    empty = figures.FIGURES["c6_learnability"]({"holds": pd.DataFrame()}, SETTINGS)
    assert "no learnability sweep" in empty.axes[0].texts[0].get_text()


def _gradient_row(effect):
    """A counted C6 row of another line of evidence (the gradient's), 5 seeds."""
    zero = pd.Series(0.0, index=range(5))
    trained = pd.Series(effect + np.array([0.1, -0.1, 0.2, -0.2, 0.0]), index=range(5))
    row = stats.prediction_row(trained, zero, +1, STATS, claim="C6", evidence="gradient",
                               prediction=f"g{effect}", task="reset_recall", arch="lstm",
                               init="default")
    control = stats.prediction_row(trained - effect, zero, +1, STATS, claim="C6",
                                   task="reset_recall", arch="lstm_ffg", init="default")
    return stats.with_control(row, control, "lstm_ffg")


def test_the_section_reads_its_rows_of_c6s_one_verdict_table(tmp_path):
    """C6's verdict table holds the gradient's rows and these, adjusted as one Holm family:
    the section shows and counts only its own, each with the p that family gives it, and says
    which family they belong to."""
    out = _aggregate({"lstm": [3, 3, 3, 3, 4, 3], "lstm_ffg": [1, 1, 1, 2, 1, 1],
                      "rnn": [1, 1, 1, 1, 1, 2], "lstm_nfg": [1, 1, 2, 1, 1, 1]})
    gradient = stats.prediction_table([_gradient_row(1.0), _gradient_row(2.0),
                                       _gradient_row(0.0)])
    c6 = stats.join_verdicts([gradient, out["predictions"]], STATS)
    assert c6["counted"].sum() == 5
    np.testing.assert_allclose(c6["p_adjusted"], stats.holm(c6["p_value"]))
    paths = {"c6": tmp_path / "c6.csv", "learnability_longest": tmp_path / "longest.csv",
             "learnability_holds": tmp_path / "holds.csv"}
    for name, table in (("c6", c6), ("learnability_longest", out["longest"]),
                        ("learnability_holds", out["holds"])):
        table.to_csv(paths[name], index=False)
    fig = figures.FIGURES["c6_learnability"]({"holds": out["holds"]}, SETTINGS)
    figures.plots.save(fig, str(tmp_path / "f.png"), str(tmp_path / "f.pdf"))
    config = {"learnability": {"tasks": list(SETTINGS.tasks), "lstm_inits": [],
                               "architectures": list(SETTINGS.architectures)}}
    built = section.section(report.Inputs(config, {k: str(v) for k, v in paths.items()},
                                          {"c6_learnability": str(tmp_path / "f.png")}))
    [line] = built["claims"]
    assert line["evidence"] == section.EVIDENCE and line["n_predictions"] == 2
    assert "g1.0" not in built["verdict_table"] and "one held at 0.5" in built["verdict_table"]
    assert ("Of 2 counted primary predictions: 2 supported. The counted ones are one Holm "
            "family, claim C6's, with its 3 other counted predictions (the gradient's, above)."
            in built["sentences"])


def test_a_real_sweep_stops_each_seed_at_its_first_hold_not_learned():
    """A tiny LSTM with a tiny budget: whatever it learns, each seed's rows stop being trained
    after its first failure, and every trained row says what it was trained with."""
    config = yaml.safe_load("""
        study: {tasks: [reset_recall], seeds: [0, 1]}
        data: {length: 12, n_train: 64, n_validation: 32, n_test: 32}
        model: {hidden_size: 4}
        extraction: {n_sequences: 16}
        decodability: {n_sequences: 16}
        dependence: {n_sequences: 16}
        gradient_flow: {n_sequences: 16}
        emergence: {n_sequences: 16}
        causal: {ablation_sequences: 8, unit_k: [1], verdict_k: 1}
        training: {batch_size: 16, steps: {hold_recall: 30}, eval_every: 10,
                   solved_threshold: {hold_recall: 0.6}}
        wiring: {tasks: [], forget_bias_tasks: []}
        controls: {tasks: []}
        learnability: {tasks: [hold_recall@1, hold_recall@3, hold_recall@30]}
    """)
    validate(config, SCHEMA)
    names = Settings.from_config(config).sweeps()["hold_recall"]
    progress = io.StringIO()
    table = measure.sweep(config, names, "lstm", "default", [0, 1], progress=progress)
    assert list(table.columns) == measure.COLUMNS and len(table) == 6
    for _, rows in table.groupby("seed"):
        trained, learned = rows["trained"].to_numpy(), rows["learned"].to_numpy()
        first_fail = np.flatnonzero(trained & ~learned)
        stop = first_fail[0] if len(first_fail) else len(rows)
        assert trained[:stop + 1].all() and not trained[stop + 1:].any()
        assert learned[:stop].all() and not learned[stop:].any()
    done = table[table["trained"]]
    assert (done["budget"] == 30).all() and (done["threshold"] == 0.6).all()
    assert (done["steps"] <= 30).all()
    assert (done[done["learned"]]["steps"] == done[done["learned"]]["steps_to_solve"]).all()
    assert set(done["hold"]) <= {1, 3, 30} and "hold_recall@1 lstm default seed 0" in \
        progress.getvalue()
    # hold 30 is longer than data.length: its sequences are lengthened to one episode
    assert done["chance"].notna().all()


def test_the_schema_takes_only_tasks_with_a_hold():
    config = yaml.safe_load("learnability: {tasks: [reset_recall]}")
    with pytest.raises(ConfigError, match="learnability.tasks.*'reset_recall' lacks a hold "
                                          "parameter.*learnability analysis"):
        validate(config, SCHEMA)

