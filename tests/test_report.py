"""The report states no finding in fixed text: its answer follows the tables."""

import ast
import importlib
import re
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

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
from gateroles.analyses.registry import CLAIMS
from gateroles.config import validate

NAMES = {claim: name for claim, (name, _) in CLAIMS.items()}  # the registry, as the rule passes it
WRITERS = report.answer_writers([importlib.import_module(f"gateroles.analyses.{a}.section")
                                 for _, analyses in CLAIMS.values() for a in analyses])

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


def answer_of(lines):
    """The answer from lines of evidence, with the study's claims and their sentences."""
    return report.answer(lines, NAMES, WRITERS)


def texts(answer: dict) -> list[str]:
    return [sentence.text for sentence in answer["sentences"]]


def test_opposite_verdicts_give_opposite_answers():
    yes = answer_of([evidence("C1", ["supported"] * 3), evidence("C2", ["supported"] * 2)])
    no = answer_of([evidence("C1", ["contradicted"] * 3),
                        evidence("C2", ["contradicted"] * 2)])
    assert yes["sentences"][0].text.startswith("Yes")
    assert no["sentences"][0].text.startswith("No")
    assert yes["sentences"] != no["sentences"]
    assert [c["verdict"] for c in yes["claims"]] == ["supported", "supported"]
    assert [c["verdict"] for c in no["claims"]] == ["contradicted", "contradicted"]


def test_mixed_and_undecided_answers():
    mixed = answer_of([evidence("C1", ["supported", "inconclusive"]),
                           evidence("C2", ["contradicted"])])
    assert mixed["sentences"][0].text.startswith("In part")
    assert mixed["claims"][0]["verdict"] == "mixed"
    undecided = answer_of([evidence("C1", ["insufficient seeds"]),
                               evidence("C2", ["untestable"])])
    assert undecided["sentences"][0].text.startswith("Not decided")


def test_supported_and_contradicted_claims_answer_in_part_not_yes():
    """One role claim supported and one contradicted is not "Yes" (every line of evidence)."""
    split = answer_of([evidence("C1", ["supported"] * 3),
                           evidence("C2", ["contradicted"] * 2)])
    assert split["sentences"][0].text.startswith("In part")
    half = answer_of([evidence("C1", ["supported"]), evidence("C3", ["inconclusive"])])
    assert half["sentences"][0].text.startswith("In part")


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
    return {g["heading"]: "; ".join(g["items"]) for g in answer["sentences"][0].groups}


def test_the_answer_names_the_lines_that_hold_and_those_that_do_not():
    strong = evidence("C2", ["supported"] * 3 + ["inconclusive"], name="clamps")
    weak = evidence("C1", ["supported", "inconclusive", "contradicted"], name="probes")
    answer = answer_of([weak, strong])
    assert answer["sentences"][0].text.startswith("In part")
    assert groups(answer) == {"Most predictions hold for": "clamps (C2: 3 of 4)",
                              "Half or fewer hold for": "probes (C1: 1 of 3, 1 contradicted)"}
    flipped = answer_of([evidence("C1", ["supported"] * 3, name="probes"),
                             evidence("C2", ["inconclusive"] * 4, name="clamps")])
    assert groups(flipped) == {"Most predictions hold for": "probes (C1: 3 of 3)",
                               "Half or fewer hold for": "clamps (C2: 0 of 4)"}


def test_untestable_predictions_are_named_not_counted_as_failures():
    """A line with 1 supported of 2 tested and 6 untestable holds for half of what it could
    test, not for 1 of 8; a line that could test nothing is listed apart."""
    probes = evidence("C1", ["supported", "inconclusive"] + ["untestable"] * 6, name="probes")
    ceiling = evidence("C4", ["untestable"] * 3 + ["insufficient seeds"], name="scores")
    clamps = evidence("C3", ["supported"] * 3 + ["insufficient seeds"], name="clamps")
    assert groups(answer_of([probes, clamps, ceiling])) == {
        "Most predictions hold for": "clamps (C3: 3 of 3; 1 more with too few seeds)",
        "Half or fewer hold for": "probes (C1: 1 of 2; 6 more untestable)",
        "Untestable here": "scores (C4: 3 untestable, 1 with too few seeds)"}
    tested = evidence("C1", ["supported"] * 2 + ["inconclusive"] * 6, name="probes")
    assert groups(answer_of([tested])) == {"Half or fewer hold for": "probes (C1: 2 of 8)"}


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
    answer = answer_of([row])
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
    answer = answer_of(lines)
    assert answer["sentences"][0].text.startswith("No")
    assert all(c["verdict"] != "supported" for c in answer["claims"])
    assert all(line["n_supported"] == 0 for line in lines)
    only_inconclusive = answer_of([report.evidence_row(pd.concat(
        [rows_of("C1", ["inconclusive"] * 3, "e"), rows_of("C1", ["supported"], "e",
                                                          test="sanity")]), "C1", "e")])
    assert only_inconclusive["sentences"][0].text.startswith("No")
    sanity_only = answer_of([report.evidence_row(rows_of("C1", ["supported"] * 3, "e",
                                                             test="sanity"), "C1", "e")])
    assert sanity_only["sentences"][0].text.startswith("Not decided")
    assert sanity_only["claims"] == [] and sanity_only["n_sanity"] == 3


def test_the_c5_and_c6_sentences_carry_their_counts():
    answer = answer_of([evidence("C6", ["supported"] * 2 + ["inconclusive"], name="lags"),
                            evidence("C5", ["dependent"] * 4, name="pairs")])
    assert ("Is the cell state a gradient highway? lags: partly (3 primary predictions: 2 "
            "supported, 1 inconclusive).") in texts(answer)
    assert ("Are the gates' functions disentangled? pairs: dependent (4 primary predictions: "
            "4 dependent).") in texts(answer)


def test_the_c8_sentence_says_whether_the_roles_sharpen_with_the_hold():
    answer = answer_of([evidence("C8", ["inconclusive"] * 2, name="share trend")])
    assert ("Do the roles sharpen as the memory must be held longer? share trend: not shown "
            "either way (2 primary predictions: 2 inconclusive).") in texts(answer)
    assert answer["claims"][0]["name"] == "roles sharpen with hold length"


def test_the_c7_sentence_says_how_the_roles_are_written_apart_from_the_role_claims():
    answer = answer_of([evidence("C1", ["supported"] * 2, name="shares"),
                            evidence("C7", ["supported", "inconclusive"], name="first push")])
    assert ("Does the position decide which gate the error pushes, from the first updates? "
            "first push: partly (2 primary predictions: 1 supported, 1 inconclusive).") in (
        texts(answer))
    assert answer["sentences"][0].text.startswith("Yes:")  # C7 is not one of the role claims
    assert [c["claim"] for c in answer["claims"]] == ["C1", "C7"]


# Lines of evidence (claim, verdicts: Supported, Inconclusive, Contradicted, Untestable, too
# Few seeds, Dependent, iNdependent; line) and the answer's words for them before the
# sentences moved to the claims' sections: they must read the same.
LETTERS = {"Y": "supported", "I": "inconclusive", "C": "contradicted", "U": "untestable",
           "F": "insufficient seeds", "D": "dependent", "N": "independent"}
EVERY_CLAIM = [("C1", "YYYI", "shares"), ("C1", "YIUUU", "contexts"), ("C2", "YY", "events"),
               ("C3", "YCF", "interchanges"), ("C4", "UUF", "scores"), ("C5", "DDDD", "pairs"),
               ("C5", "DN", "given"), ("C6", "YYI", "lags"), ("C6", "C", "learned"),
               ("C7", "YI", "first push"), ("C8", "II", "share trend")]
EVERY_CLAIM_HTML = (
    '<h2 id="summary">The answer</h2>\n<p>In part: the gates come to play the roles their '
    'positions name by some primary tests and not by others.</p>\n<ul>\n<li><strong>Most '
    'predictions hold for:</strong>\nshares (C1: 3 of 4); events (C2: 2 of 2).</li>\n<li>'
    '<strong>Half or fewer hold for:</strong>\ncontexts (C1: 1 of 2; 3 more untestable); '
    'interchanges (C3: 1 of 2, 1 contradicted; 1 more with too few seeds).</li>\n<li><strong>'
    'Untestable here:</strong>\nscores (C4: 2 untestable, 1 with too few seeds).</li>\n</ul>\n'
    '<p>Are the gates&#39; functions disentangled? pairs: dependent (4 primary predictions: 4 '
    'dependent); given: partly (2 primary predictions: 1 dependent, 1 independent).</p>\n\n'
    '<p>Is the cell state a gradient highway? lags: partly (3 primary predictions: 2 '
    'supported, 1 inconclusive); learned: no: the opposite holds (1 primary prediction: 1 '
    'contradicted).</p>\n\n<p>Does the position decide which gate the error pushes, from the '
    'first updates? first push: partly (2 primary predictions: 1 supported, 1 inconclusive).'
    '</p>\n\n<p>Do the roles sharpen as the memory must be held longer? share trend: not shown '
    'either way (2 primary predictions: 2 inconclusive).</p>\n\n\n')
FIRST_SENTENCES = {
    (("C1", "YY", "shares"), ("C2", "Y", "events"), ("C4", "YU", "scores")):
        "Yes: in these runs the gates come to play the roles their positions name, by every "
        "primary test decided, each failing on its negative control.",
    (("C1", "CC", "shares"), ("C2", "C", "events")):
        "No: where the primary tests decide, they go against the gates playing the roles their "
        "positions name.",
    (("C1", "CI", "shares"), ("C3", "I", "interchanges")):
        "No: no primary test in these runs shows the gates playing the roles their positions "
        "name.",
    (("C1", "F", "shares"), ("C2", "U", "events")):
        "Not decided: in these runs no primary test of the gates' roles could be decided (too "
        "few solved seeds, no negative control that ran, or measures that cannot tell the "
        "hypotheses apart).",
    (("C5", "N", "pairs"), ("C8", "Y", "share trend")):
        "Not decided: these runs hold no primary test of the gates' roles.",
}


def lines_of(spec) -> list[dict]:
    return [evidence(claim, [LETTERS[v] for v in verdicts], line)
            for claim, verdicts, line in spec]


def render_answer(tmp_path, monkeypatch, claims: dict, section: ModuleType) -> str:
    """The report page from one section module (its `section` and `ANSWERS`), cut from the
    answer's heading to its table; the section's own template is empty."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "templates").symlink_to(report.ROOT / "templates")
    (root / "section.html.j2").write_text("")
    monkeypatch.setattr(report, "ROOT", root)
    monkeypatch.setitem(sys.modules, section.__name__, section)
    pd.DataFrame({"task": ["t"], "solved": [True]}).to_csv(tmp_path / "runs.csv", index=False)
    html = report.render(
        config={"study": {"seeds": [0]},
                "analysis": {"bootstrap_samples": 100, "confidence": 0.95, "min_seeds": 3}},
        claims=claims, sections=[section.__name__], tables={"runs": str(tmp_path / "runs.csv")},
        figures={}, benchmarks=[], prov={"config_hash": "", "git_commit": "", "python": "",
                                         "packages": {}})
    start = html.index('<h2 id="summary">')
    return html[start:html.index("<table>", start)]


def toy_section(name: str, lines: list[dict], answers: dict) -> ModuleType:
    section = ModuleType(name)
    section.section = lambda inputs: {"template": "section.html.j2", "claims": lines}
    section.ANSWERS = answers
    return section


def test_the_answer_reads_as_before_the_sentences_moved_to_the_claims(tmp_path, monkeypatch):
    """The same tables give the same words, the page's HTML included, now that each claim's
    sentence comes from its analysis's section."""
    page = render_answer(tmp_path, monkeypatch, NAMES,
                         toy_section("every_claim", lines_of(EVERY_CLAIM), WRITERS))
    assert page == EVERY_CLAIM_HTML
    for spec, first in FIRST_SENTENCES.items():
        assert texts(answer_of(lines_of(spec)))[0] == first


def test_a_new_claim_brings_its_own_sentence(tmp_path, monkeypatch):
    """A claim registered with its sentence appears in the answer, after the study's claims
    in registry order, with nothing in the report changed; a claim without one fails."""
    def toy_answer(claims):
        return report.asked("Do toy gates toy?", claims)

    toy = [evidence("T9", ["supported", "inconclusive"], "toy line")]
    claims = {**NAMES, "T9": "toy claim"}
    both = report.answer(lines_of([("C5", "D", "pairs")]) + toy, claims,
                         {**WRITERS, "T9": toy_answer})
    assert texts(both)[1:] == [
        "Are the gates' functions disentangled? pairs: dependent (1 primary prediction: 1 "
        "dependent).",
        "Do toy gates toy? toy line: partly (2 primary predictions: 1 supported, 1 "
        "inconclusive)."]
    assert [c["claim"] for c in both["claims"]] == ["C5", "T9"]
    page = render_answer(tmp_path, monkeypatch, claims,
                         toy_section("toy_claim", toy, {"T9": toy_answer}))
    assert "<p>Do toy gates toy? toy line: partly (2 primary predictions" in page
    with pytest.raises(ValueError, match="T9"):
        report.answer(toy, claims, WRITERS)


def test_the_report_names_no_claim_and_imports_no_analysis():
    source = Path(report.__file__).read_text()
    assert not re.findall(r"\bC\d\b", source)
    imported = [node.module or "" for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.Import) for alias in node.names]
    assert not [name for name in imported if name.startswith("gateroles.analyses")]


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
