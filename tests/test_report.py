"""The report states no finding in fixed text: its answer follows the tables."""

from pathlib import Path
from types import SimpleNamespace

import jinja2
import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import update_config
from study_runs import report_caption

from gateroles import report
from gateroles.analyses.causal import Settings as CausalSettings
from gateroles.analyses.decodability import Settings as DecodabilitySettings
from gateroles.config import validate

CONTROL = {"control": "lstm_nfg", "control_change": -0.2, "control_ci_low": -0.3,
           "control_ci_high": -0.1, "control_verdict": "contradicted", "counted": True}


def rows_of(claim, verdicts, name="x", test="primary", **columns):
    """Verdict rows of one line of evidence; primary ones with a control that failed."""
    control = CONTROL if test == "primary" else {**CONTROL, "control": "",
                                                 "control_verdict": "", "counted": False}
    return pd.DataFrame({"claim": claim, "evidence": name, "prediction": "p", "task": "t",
                         "arch": "lstm", "init": "default", "verdict": verdicts,
                         "change": 0.1, "change_ci_low": 0.05, "change_ci_high": 0.15,
                         "trained": 0.1, "trained_ci_low": 0.05, "trained_ci_high": 0.15,
                         "initial": 0.0, "initial_ci_low": -0.01, "initial_ci_high": 0.01,
                         "p_adjusted": 0.01, "seeds_agreeing": 5, "n_seeds": 5, "test": test,
                         "decided_on": "change from step 0", "note": "",
                         **{**control, **columns}})


def evidence(claim, verdicts, name="x"):
    return report.evidence_row(rows_of(claim, verdicts, name), claim, name)


def test_opposite_verdicts_give_opposite_answers():
    yes = report.answer([evidence("C1", ["supported"] * 3), evidence("C2", ["supported"] * 2)])
    no = report.answer([evidence("C1", ["contradicted"] * 3),
                        evidence("C2", ["contradicted"] * 2)])
    assert yes["sentences"][0].startswith("Yes")
    assert no["sentences"][0].startswith("No")
    assert yes["sentences"] != no["sentences"]
    assert [c["verdict"] for c in yes["claims"]] == ["supported", "supported"]
    assert [c["verdict"] for c in no["claims"]] == ["contradicted", "contradicted"]


def test_mixed_and_undecided_answers():
    mixed = report.answer([evidence("C1", ["supported", "inconclusive"]),
                           evidence("C2", ["contradicted"])])
    assert mixed["sentences"][0].startswith("In part")
    assert mixed["claims"][0]["verdict"] == "mixed"
    undecided = report.answer([evidence("C1", ["insufficient seeds"]),
                               evidence("C2", ["untestable"])])
    assert undecided["sentences"][0].startswith("Not decided")


def test_supported_and_contradicted_claims_answer_in_part_not_yes():
    """One role claim supported and one contradicted is not "Yes" (every line of evidence)."""
    split = report.answer([evidence("C1", ["supported"] * 3),
                           evidence("C2", ["contradicted"] * 2)])
    assert split["sentences"][0].startswith("In part")
    half = report.answer([evidence("C1", ["supported"]), evidence("C3", ["inconclusive"])])
    assert half["sentences"][0].startswith("In part")


def test_overall_verdict_of_undecided_rows_prefers_untestable():
    """Nothing decided: untestable if any row is (the measure cannot decide, whatever the
    seeds), else too few seeds."""
    assert report.overall_verdict(["insufficient seeds", "untestable"]) == "untestable"
    assert report.overall_verdict(["insufficient seeds"] * 2) == "insufficient seeds"
    assert report.overall_verdict([]) == "not decided"


def test_the_verdict_table_shows_the_holm_p_and_the_counts_sentence_every_prediction():
    rows = rows_of("C1", ["supported", "supported", "inconclusive"], "e",
                   prediction=["a", "b", "c"], cohens_dz=2.0, p_value=[0.001, 0.01, 0.2],
                   p_adjusted=[0.003, 0.02, 0.2], note=None, rival="r")
    assert report.verdict_table(rows)["p (Holm)"].tolist() == ["0.003", "0.02", "0.2"]
    assert report.counts_sentence(rows) == ("Of 3 counted primary predictions: 2 supported, "
                                            "1 inconclusive.")
    more = pd.concat([rows, rows_of("C1", ["supported"], "e", prediction="d", counted=False,
                                    control_verdict="supported"),
                      rows_of("C1", ["supported"] * 2, "e", test="sanity")], ignore_index=True)
    assert report.counts_sentence(more) == (
        "Of 3 counted primary predictions: 2 supported, 1 inconclusive. 1 more not counted "
        "(their negative control came out supported or did not run). 2 sanity checks, shown "
        "apart.")
    table = report.verdict_table(more)  # primary rows first, each with its control
    assert table["test"].tolist() == ["primary"] * 4 + ["sanity"] * 2
    assert table["counted"].tolist() == ["yes"] * 3 + ["no"] * 3
    assert table["negative control"].iloc[0] == "lstm_nfg: -0.200 [-0.300, -0.100], contradicted"


def test_a_claim_with_a_mixed_line_or_lines_in_other_words_is_mixed_not_unsupported():
    assert report.overall_verdict(["mixed", "inconclusive"]) == "mixed"
    assert report.overall_verdict(["dependent in part", "mixed"]) == "mixed"
    assert report.overall_verdict(["contradicted", "inconclusive"]) == "not supported"
    assert report.overall_verdict(["not supported", "contradicted"]) == "not supported"


def groups(answer: dict) -> dict[str, str]:
    """The answer's role lines of evidence, heading -> its items joined."""
    return {g["heading"]: "; ".join(g["items"]) for g in answer["role_lines"]}


def test_the_answer_names_the_lines_that_hold_and_those_that_do_not():
    strong = evidence("C2", ["supported"] * 3 + ["inconclusive"], name="clamps")
    weak = evidence("C1", ["supported", "inconclusive", "contradicted"], name="probes")
    answer = report.answer([weak, strong])
    assert answer["sentences"][0].startswith("In part")
    assert groups(answer) == {"Most predictions hold for": "clamps (C2: 3 of 4)",
                              "Half or fewer hold for": "probes (C1: 1 of 3, 1 contradicted)"}
    flipped = report.answer([evidence("C1", ["supported"] * 3, name="probes"),
                             evidence("C2", ["inconclusive"] * 4, name="clamps")])
    assert groups(flipped) == {"Most predictions hold for": "probes (C1: 3 of 3)",
                               "Half or fewer hold for": "clamps (C2: 0 of 4)"}


def test_untestable_predictions_are_named_not_counted_as_failures():
    """A line with 1 supported of 2 tested and 6 untestable holds for half of what it could
    test, not for 1 of 8; a line that could test nothing is listed apart."""
    probes = evidence("C1", ["supported", "inconclusive"] + ["untestable"] * 6, name="probes")
    ceiling = evidence("C4", ["untestable"] * 3 + ["insufficient seeds"], name="scores")
    clamps = evidence("C3", ["supported"] * 3 + ["insufficient seeds"], name="clamps")
    assert groups(report.answer([probes, clamps, ceiling])) == {
        "Most predictions hold for": "clamps (C3: 3 of 3; 1 more with too few seeds)",
        "Half or fewer hold for": "probes (C1: 1 of 2; 6 more untestable)",
        "Untestable here": "scores (C4: 3 untestable, 1 with too few seeds)"}
    tested = evidence("C1", ["supported"] * 2 + ["inconclusive"] * 6, name="probes")
    assert groups(report.answer([tested])) == {"Half or fewer hold for": "probes (C1: 2 of 8)"}


def test_the_evidence_row_reports_the_weakest_prediction():
    rows = rows_of("C2", ["supported", "inconclusive"], "e", prediction=["strong", "weak"],
                   arch="gru", change=[0.5, 0.01], change_ci_low=[0.4, -0.02],
                   change_ci_high=[0.6, 0.04], p_adjusted=[0.001, 0.4], seeds_agreeing=[5, 3])
    row = report.evidence_row(rows, "C2", "e")
    assert row["verdict"] == "mixed" and row["effect"].startswith("weak (t, gru)")
    assert row["seeds"] == "3 / 5" and "1 supported" in row["basis"]


def test_a_prediction_not_decided_on_the_change_says_what_it_tests():
    rows = rows_of("C4", ["supported"], "e", prediction=["slower"], arch="lstm_nfg",
                   change=[235.0], change_ci_low=[160.0], change_ci_high=[310.0],
                   initial=[np.nan], decided_on=["trained vs 0: no step-0 version"])
    row = report.evidence_row(rows, "C4", "e")
    assert "trained vs 0: no step-0 version: 235.000" in row["effect"]
    assert "change from step 0" not in row["effect"]
    assert row["control"] == "lstm_nfg: -0.200 [-0.300, -0.100], contradicted"


def test_only_primary_predictions_with_a_failing_control_are_counted():
    """A primary prediction that also passes its negative control is not a test; one whose
    control did not run has not shown it can fail; sanity checks never count."""
    rows = pd.concat([
        rows_of("C3", ["supported"], "e", prediction="real"),
        rows_of("C3", ["supported"], "e", prediction="passes its control",
                control_verdict="supported", counted=False),
        rows_of("C3", ["supported"], "e", prediction="no control", control="lstm_nfg (not run)",
                control_verdict="", counted=False),
        rows_of("C3", ["supported"] * 3, "e", test="sanity", prediction="blinds")],
        ignore_index=True)
    row = report.evidence_row(rows, "C3", "e")
    assert row["n_predictions"] == 1 and row["n_supported"] == 1
    assert "1 not a test (passes its negative control)" in row["basis"]
    assert "1 whose negative control did not run or had too few seeds" in row["basis"]
    assert [t.split(" (")[0] for t in row["not_a_test"]] == ["passes its control"]
    assert [t.split(" (")[0] for t in row["uncontrolled"]] == ["no control"]
    assert len(row["sanity"]) == 3
    answer = report.answer([row])
    assert answer["n_sanity"] == 3 and list(answer["sanity"]["check"]) == ["blinds"] * 3
    assert answer["not_a_test"][0][0] == "C3"


def test_failing_primary_tests_answer_no_whatever_the_sanity_checks_say():
    """The flipped tables: every primary test fails (contradicted or inconclusive) while every
    sanity check passes: the answer is no, and it does not count a single sanity row."""
    lines = []
    for claim, verdicts in (("C1", ["contradicted", "inconclusive"]),
                            ("C2", ["inconclusive"] * 2), ("C3", ["contradicted"]),
                            ("C4", ["inconclusive"])):
        rows = pd.concat([rows_of(claim, verdicts, "e"),
                          rows_of(claim, ["supported"] * 4, "e", test="sanity")],
                         ignore_index=True)
        lines.append(report.evidence_row(rows, claim, "e"))
    answer = report.answer(lines)
    assert answer["sentences"][0].startswith("No")
    assert all(c["verdict"] != "supported" for c in answer["claims"])
    assert all(line["n_supported"] == 0 for line in lines)
    only_inconclusive = report.answer([report.evidence_row(pd.concat(
        [rows_of("C1", ["inconclusive"] * 3, "e"), rows_of("C1", ["supported"], "e",
                                                          test="sanity")]), "C1", "e")])
    assert only_inconclusive["sentences"][0].startswith("No")
    sanity_only = report.answer([report.evidence_row(rows_of("C1", ["supported"] * 3, "e",
                                                             test="sanity"), "C1", "e")])
    assert sanity_only["sentences"][0].startswith("Not decided")
    assert sanity_only["claims"] == [] and sanity_only["n_sanity"] == 3


def test_the_c5_and_c6_sentences_carry_their_counts():
    answer = report.answer([evidence("C6", ["supported"] * 2 + ["inconclusive"], name="lags"),
                            evidence("C5", ["dependent"] * 4, name="pairs")])
    assert ("Is the cell state a gradient highway? lags: partly (3 primary predictions: 2 "
            "supported, 1 inconclusive).") in answer["sentences"]
    assert ("Are the gates' functions disentangled? pairs: dependent (4 primary predictions: "
            "4 dependent).") in answer["sentences"]


def test_the_c8_sentence_says_whether_the_roles_sharpen_with_the_hold():
    answer = report.answer([evidence("C8", ["inconclusive"] * 2, name="share trend")])
    assert ("Do the roles sharpen as the memory must be held longer? share trend: not shown "
            "either way (2 primary predictions: 2 inconclusive).") in answer["sentences"]
    assert answer["claims"][0]["name"] == "roles sharpen with hold length"


def test_the_c7_sentence_says_how_the_roles_are_written_apart_from_the_role_claims():
    answer = report.answer([evidence("C1", ["supported"] * 2, name="shares"),
                            evidence("C7", ["supported", "inconclusive"], name="first push")])
    assert ("Does the position decide which gate the error pushes, from the first updates? "
            "first push: partly (2 primary predictions: 1 supported, 1 inconclusive).") in (
        answer["sentences"])
    assert answer["sentences"][0].startswith("Yes:")  # C7 is not one of the role claims
    assert [c["claim"] for c in answer["claims"]] == ["C1", "C7"]


def _study_config(*files: str) -> dict:
    """A config as the workflow sees it: config/config.yaml, the files merged in, defaults."""
    repo = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    for name in files:
        update_config(config, yaml.safe_load((repo / "config" / name).read_text()))
    return validate(config, repo / "config" / "schema.yaml")


def test_captions_state_the_settings_the_run_used():
    """A caption that states a setting reads it from its analysis's typed settings: the laptop
    and the paper configs give different numbers, and every caption renders under both, the
    same text as Snakemake's own report renders from the config section of the same name."""
    laptop, paper = _study_config(), _study_config("paper.yaml")
    small = report_caption("c5_disentanglement", laptop)
    large = report_caption("c5_disentanglement", paper)
    info = laptop["dependence"]
    assert f"up to {info['fit_samples']} steps" in small and "at the last step only" in small
    assert f"{info['dci_estimators']} per factor" in small
    assert f"up to {paper['dependence']['fit_samples']} steps" in large
    assert "at every checkpoint" in large and "at the last step only" not in large
    heatmap = report.caption_text("c1_selectivity_heatmap",
                                  DecodabilitySettings(input_window=7, control_window=2))
    assert "last 7 inputs" in heatmap and "last 2 input tokens" in heatmap
    snakemake_env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                                       undefined=jinja2.StrictUndefined)
    for path in report.ROOT.glob("analyses/*/captions/*.rst"):
        for config in (laptop, paper):
            typed = report_caption(path.stem, config)
            assert "{{" not in typed
            raw = snakemake_env.from_string(path.read_text()).render(
                snakemake=SimpleNamespace(config=config))
            assert " ".join(raw.split()) == typed, path.stem


def test_a_caption_states_only_its_own_analysis_settings():
    """The report renders a caption with its analysis's typed settings and nothing else: the
    causal caption states the causal defaults, and fails without them instead of stating a
    value from elsewhere."""
    text = report.caption_text("causal_null", CausalSettings())
    assert "event steps of 20 held-out sequences" in text and "100 random groups" in text
    with pytest.raises(jinja2.UndefinedError, match="causal"):
        report.caption_text("causal_null")


def test_a_control_that_did_not_run_reads_back_as_text_not_nan():
    """Empty strings come back from a CSV as NaN: the report says what is missing instead."""
    nan = float("nan")
    assert report._control_text({"control_verdict": nan, "control": nan}, 3) == \
        "no negative control"
    assert report._control_text({"control_verdict": nan, "control": "lstm_nfg (not run)"},
                                3) == "lstm_nfg (not run)"
    one = report.evidence_row(rows_of("C1", ["supported"], "e"), "C1", "e")
    assert one["basis"] == "1 primary prediction: 1 supported"
