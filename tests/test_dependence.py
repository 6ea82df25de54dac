"""C5 measurements per model (analyses.dependence.measure) and the C5 verdict across seeds."""

import numpy as np
import pandas as pd
import pytest

from gateroles import report, stats
from gateroles.analyses.dependence import Settings, aggregate, section
from gateroles.analyses.dependence.measure import (
    discrete_factors,
    disentanglement_rows,
    gate_pair_rows,
    held_out,
    measure,
)
from gateroles.disentanglement import NullResult
from gateroles.information import (
    conditional_paired_mi,
    discretize,
    gaussian_mi,
    mutual_information,
    paired_mi,
)
from gateroles.study import Run

SETTINGS = Settings(n_sequences=60, bins=(8, 16), main_bins=16, n_permutations=19,
                    fit_samples=300, dci_estimators=5, sap_standardize=False,
                    null_permutations=9, fitted_null_permutations=1,
                    fitted_every_checkpoint=False, independence_margin=0.02)
STATS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def synthetic_model(n=60, t=50, h=6, seed=0):
    """Gates of a fake LSTM at two checkpoints, with factors.

    Step 0: input, forget and output logits independent noise. Step 100: forget = -input
    (so f = 1 - i, the coupled gate: maximal dependence), and unit 0 of the input gate
    tracks the binary factor `is_store`, unit 1 of the output gate the factor `is_query`.
    """
    rng = np.random.default_rng(seed)
    store = (rng.random((n, t)) < 0.3).astype(np.int64)
    query = (rng.random((n, t)) < 0.3).astype(np.int64)
    factors = {"is_store": store, "is_query": query,
               "partial_sum": rng.random((n, t)).astype(np.float32)}
    logits = {}
    logits[0] = {g: rng.standard_normal((n, t, h)) for g in ("input", "forget", "output")}
    li = rng.standard_normal((n, t, h))
    li[..., 0] += 4 * store
    lo = rng.standard_normal((n, t, h))
    lo[..., 1] += 4 * query
    logits[100] = {"input": li, "forget": -li, "output": lo}
    acts = {s: {g: sigmoid(v).astype(np.float16) for g, v in d.items()} for s, d in logits.items()}
    logits = {s: {g: v.astype(np.float16) for g, v in d.items()} for s, d in logits.items()}
    return np.array([0, 100]), factors, acts, logits


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    from conftest import write_gate_file

    steps, factors, acts, logits = synthetic_model()
    per_step = {int(s): {**acts[s], **{f"{g}_logit": v for g, v in logits[s].items()}}
                for s in steps}
    inputs = write_gate_file(tmp_path_factory.mktemp("dep") / "gates.npz", factors, per_step,
                             continuous=("partial_sum",))
    out = measure(inputs, Run("synthetic", "lstm", "default", 0), SETTINGS)
    return {"gate_mi": out["gate_mi"], "unit_factor_mi": out["unit_factor"],
            "disentanglement": out["disentanglement"]}


def test_paired_mi_equals_per_pair_estimator():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3000, 4))
    b = 0.7 * a + rng.standard_normal((3000, 4))
    ca, cb = discretize(a, 16), discretize(b, 16)
    want = [mutual_information(a[:, j], b[:, j], bins=16) for j in range(4)]
    np.testing.assert_allclose(paired_mi(ca, cb), want, atol=1e-12)


def test_gate_mi_of_correlated_sigmoid_gates_matches_gaussian():
    """Float16 sigmoid gates of correlated Gaussians: same-unit MI ~ -0.5 ln(1 - rho^2)."""
    rng = np.random.default_rng(2)
    rho, n, t, h = 0.8, 100, 100, 8
    za = rng.standard_normal((n, t, h))
    zb = rho * za + np.sqrt(1 - rho**2) * rng.standard_normal((n, t, h))
    arrays = {"reset": sigmoid(3 * za).astype(np.float16),
              "update": sigmoid(3 * zb).astype(np.float16)}
    rows = pd.DataFrame(gate_pair_rows(arrays, "gru", [16, 32], n_permutations=9,
                                       main_bins=16))
    same = rows[rows["summary"] == "same_unit"].set_index("bins")["mi"]
    assert same[32] == pytest.approx(gaussian_mi(rho), abs=0.06)
    assert same[16] == pytest.approx(gaussian_mi(rho), abs=0.1)
    shifted = rows[rows["summary"] == "shifted_unit"]["mi"]
    assert (shifted.abs() < 0.01).all()  # different units are independent here
    null = rows[(rows["summary"] == "same_unit") & (rows["bins"] == 16)].iloc[0]
    # 9 permutations: the first held out as the control, the p-value from the other 8
    assert abs(null["null_mean"]) < 0.01 and null["p_value"] == pytest.approx(1 / 9)
    assert abs(null["null_draw"]) < 0.01


def test_coupling_raises_same_unit_mi_and_beats_the_null(tables):
    mi = tables["gate_mi"]
    sel = mi[(mi["pair"] == "forget-input") & (mi["summary"] == "same_unit")
             & (mi["bins"] == 16)]
    by = sel.set_index(["representation", "step"])
    # Coupled f = 1 - i: MI near H(bins) = ln 16 on logits; independent at step 0.
    assert by.loc[("logit", 100), "mi"] > 2.0
    assert abs(by.loc[("logit", 0), "mi"]) < 0.05
    assert by.loc[("logit", 100), "p_value"] == pytest.approx(1 / 19)  # 18 draws left
    assert abs(by.loc[("logit", 100), "null_draw"]) < 0.05  # the held-out draw: no coupling
    assert by.loc[("logit", 0), "p_value"] > 0.05
    # Uncoupled pairs stay near zero.
    other = mi[(mi["pair"] == "forget-output") & (mi["summary"] == "same_unit")]
    assert other["mi"].abs().max() < 0.05
    assert set(mi["bins"]) == {8, 16}
    assert set(mi["representation"]) == {"activation", "logit", "activation_equal_width"}


def test_unit_factor_mi_finds_the_planted_units(tables):
    uf = tables["unit_factor_mi"]
    trained = uf[uf["step"] == 100]
    best = trained.loc[trained.groupby("factor")["mi"].idxmax()].set_index("factor")
    assert (best.loc["is_store", "gate"], best.loc["is_store", "unit"]) in (("input", 0),
                                                                           ("forget", 0))
    assert (best.loc["is_query", "gate"], best.loc["is_query", "unit"]) == ("output", 1)
    assert "partial_sum" not in set(uf["factor"])  # continuous variables are left out


def test_disentanglement_rises_when_units_specialise(tables):
    units = tables["disentanglement"][tables["disentanglement"]["level"] == "unit"]
    scores = units.set_index(["metric", "step"])["value"]
    assert scores["mig", 100] > scores["mig", 0] + 0.2
    # Every score carries its shuffled-factor null at the two ends; planted codes beat it.
    nulls = units.set_index(["metric", "step"])["null_mean"]
    assert scores["mig", 100] > nulls["mig", 100] + 0.2
    assert abs(scores["mig", 0] - nulls["mig", 0]) < 0.05
    assert scores["dci_informativeness", 100] > scores["dci_informativeness", 0]
    assert {"dci_disentanglement", "dci_completeness", "sap"} <= set(
        tables["disentanglement"]["metric"])


def test_fitted_metrics_only_when_asked():
    steps, factors, acts, _ = synthetic_model(n=20, t=20)
    rows = disentanglement_rows(acts[100], "lstm", discrete_factors(factors), fitted=False,
                                settings=SETTINGS)
    assert {r["metric"] for r in rows} == {"mig", "modularity"}
    assert {r["level"] for r in rows} == {"unit", "gate"}


def test_logits_are_stored_apart_from_gates(tmp_path):
    from conftest import write_gate_file

    factors = {"is_store": np.zeros((2, 3), dtype=np.int64)}
    inputs = write_gate_file(tmp_path / "gates.npz", factors,
                             {0: {"forget": np.zeros((2, 3, 4)),
                                  "forget_logit": np.ones((2, 3, 4))}})
    assert set(inputs.gates.gates(0)) == {"forget"}  # readers of gates see no logits
    assert inputs.gates.logits(0)["forget"].max() == 1.0


def test_held_out_keeps_the_first_draw_as_the_control_and_summarises_the_rest():
    result = NullResult(0.9, np.array([0.3, 0.1, 0.2, 0.95]))
    held = held_out(result)
    assert held["null_draw"] == 0.3 and held["n_permutations"] == 3
    assert held["null_mean"] == pytest.approx(0.4166666) and held["value"] == 0.9
    assert held["p_value"] == pytest.approx(2 / 4)  # (1 + #{0.95 >= 0.9}) / (1 + 3)
    single = held_out(NullResult(0.9, np.array([0.3])))
    assert np.isnan(single["null_draw"]) and single["null_mean"] == 0.3


def test_the_held_out_null_draw_passes_about_as_often_as_the_nominal_rate():
    """Gates with no dependence, 1,000 synthetic seeds in groups of 5: the test of 'excess MI
    above 0' on the held-out null draw (and on the real excess, equally null here) comes out
    supported at about the one-sided rate 2.5%; with a coupled pair the real excess always
    passes and its control still does not."""
    rng = np.random.default_rng(11)
    n, t, h, groups = 24, 20, 3, 200

    def seed_rows(coupling):
        za = rng.standard_normal((n, t, h))
        zb = coupling * za + rng.standard_normal((n, t, h))
        rows = gate_pair_rows({"reset": za, "update": zb}, "gru", [6], n_permutations=9,
                              main_bins=6, seed=int(rng.integers(1 << 30)))
        row = next(r for r in rows if r["summary"] == "same_unit")
        return row["mi"] - row["null_mean"], row["null_draw"] - row["null_mean"]

    def rate(coupling, n_groups):
        passed = np.zeros(2)
        for _ in range(n_groups):
            excess, control = np.array([seed_rows(coupling) for _ in range(5)]).T
            passed += [stats.directional_verdict(x, +1)["verdict"] == "supported"
                       for x in (excess, control)]
        return passed / n_groups

    excess_rate, control_rate = rate(0.0, groups)
    assert 0.005 <= control_rate <= 0.06, control_rate
    assert 0.005 <= excess_rate <= 0.06, excess_rate
    excess_rate, control_rate = rate(1.0, 10)
    assert excess_rate == 1.0 and control_rate <= 0.1


# ------------------------------------------------------------------ verdict across seeds
def synthetic_gate_mi(trained=0.5, initial=0.2, n_seeds=6, unsolved=(5,), spread=0.01,
                      draw=None):
    """Same-unit MI per seed (logits, 16 bins), its null mean 0.001 and a held-out null draw
    around it (`draw`: the draws' offset from the null mean; default: seed noise around 0)."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(n_seeds):
        for step, value in ((0, initial), (200, trained)):
            offset = (draw if draw is not None else 0.0) + 0.002 * rng.standard_normal()
            rows.append({"task": "t", "arch": "lstm", "init": "default", "seed": seed,
                         "step": step, "final_step": 200, "pair": "forget-input",
                         "representation": "logit", "bins": 16, "summary": "same_unit",
                         "mi": value + spread * rng.standard_normal() + (5 if seed in unsolved
                                                                         else 0),
                         "null_mean": 0.001, "null_q95": 0.002, "p_value": 1 / 21,
                         "null_draw": 0.001 + offset, "solved": seed not in unsolved})
    return pd.DataFrame(rows)


def synthetic_scores(changes, n_seeds=5, draws=True):
    """Scores per seed (step 0 and 300) with seed noise, null mean 0.1 and a held-out null
    draw around it (NaN without `draws`: a null of one draw)."""
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(n_seeds):
        for metric, (before, after) in changes.items():
            for step, value in ((0, before), (300, after)):
                rows.append({"task": "t", "arch": "gru", "init": "default", "seed": seed,
                             "step": step, "final_step": 300, "metric": metric, "level": "unit",
                             "value": value + 0.01 * rng.standard_normal(), "null_mean": 0.1,
                             "null_draw": 0.1 + 0.01 * rng.standard_normal() if draws
                             else np.nan, "n_factors": 3, "solved": True})
    return pd.DataFrame(rows)


def independence(c5):
    return c5[c5["evidence"] == aggregate.INDEPENDENCE].iloc[0]


def test_dependence_above_the_null_is_dependent():
    gate_mi = synthetic_gate_mi()
    dep = aggregate.c5_dependence(gate_mi, 0.95).iloc[0]
    assert dep["direction"] == "rises" and dep["n_seeds"] == 5 and dep["n_unsolved"] == 1
    assert dep["trained"] == pytest.approx(0.5, abs=0.02)  # the unsolved seed (5.5) left out
    assert dep["excess"] == pytest.approx(0.499, abs=0.02)
    row = independence(aggregate.c5_verdicts(gate_mi, synthetic_scores({}), SETTINGS, STATS))
    assert row["verdict"] == "dependent" and row["seeds_agreeing"] == 5
    # decided on the trained excess, and says why; its control ran on the held-out draw
    assert row["decided_on"].startswith("trained vs 0: whether the trained gates are")
    assert row["initial"] == pytest.approx(0.199, abs=0.02)
    assert row["control"] == aggregate.NULL_DRAW["independence"]
    assert row["control_verdict"] == "inconclusive" and row["counted"]


def test_a_dependence_that_its_null_draw_shows_too_is_not_counted():
    c5 = aggregate.c5_verdicts(synthetic_gate_mi(draw=0.5), synthetic_scores({}), SETTINGS,
                               STATS)
    row = independence(c5)
    assert row["control_verdict"] == "supported" and not row["counted"]
    line = section.independence_line(c5[c5["evidence"] == aggregate.INDEPENDENCE], "x")
    assert line["verdict"] == "not decided" and "not a test" in line["basis"]


def test_independent_only_from_an_equivalence_test():
    """An excess tightly around zero is independent; one with a CI spanning zero but wider
    than the margin is only 'not shown' (absence of evidence is not independence)."""
    tight = synthetic_gate_mi(trained=0.001, initial=0.001, spread=0.001)
    c5 = aggregate.c5_verdicts(tight, synthetic_scores({}), SETTINGS, STATS)
    assert independence(c5)["verdict"] == "independent"
    assert independence(c5)["verdict_unadjusted"] == "independent"
    wide = synthetic_gate_mi(trained=0.001, initial=0.001, spread=0.05)
    c5 = aggregate.c5_verdicts(wide, synthetic_scores({}), SETTINGS, STATS)
    assert independence(c5)["verdict"] == "not shown"


def test_every_seed_at_the_same_excess_is_untestable_not_independent():
    flat = synthetic_gate_mi(trained=0.001, initial=0.001, spread=0.0)
    assert independence(aggregate.c5_verdicts(flat, synthetic_scores({}), SETTINGS, STATS))[
        "verdict"] == "untestable"


def test_specialisation_is_decided_on_the_excess_over_the_null():
    scores = synthetic_scores({"mig": (0.05, 0.3), "modularity": (0.93, 0.93),
                               "dci_disentanglement": (0.9, 0.5), "sap": (0.02, 0.02)})
    c5 = aggregate.c5_verdicts(synthetic_gate_mi(), scores, SETTINGS, STATS)
    special = c5[c5["evidence"] == aggregate.SPECIALISATION].set_index("prediction")
    spec = special["verdict"]
    assert spec["mig (units) above its null rises"] == "supported"
    assert spec["dci_disentanglement (units) above its null rises"] == "contradicted"
    assert spec["modularity (units) above its null rises"] == "inconclusive"
    assert special["counted"].all() and (special["control_verdict"] != "supported").all()
    assert set(special["rival"]) == {aggregate.RIVALS[aggregate.SPECIALISATION]}
    reading = section.reading(c5)
    falls = {m["score"]: (m["contradicted"], m["hidden"]) for m in reading["special"]}
    assert falls == {"DCI disentanglement": (1, 0), "MIG": (0, 0), "modularity": (0, 0)}
    assert reading["which"] == "the gates are statistically dependent in every counted gate pair"
    assert reading["specialised"] == ("they become more specialised with training in 1 of 3 "
                                      "counted task x architecture x score rows")
    rows = report.evidence_row(
        c5[c5["evidence"] == aggregate.SPECIALISATION], "C5", "x")
    assert rows["verdict"] == "mixed"


def test_without_a_draw_to_hold_out_the_control_did_not_run():
    scores = synthetic_scores({"dci_disentanglement": (0.05, 0.3)}, draws=False)
    c5 = aggregate.c5_verdicts(synthetic_gate_mi(), scores, SETTINGS, STATS)
    row = c5[c5["evidence"] == aggregate.SPECIALISATION].iloc[0]
    assert row["verdict"] == "supported" and not row["counted"]
    assert row["control"].endswith("(a null of one draw: none to hold out) (not run)")


def test_independence_and_specialisation_are_one_holm_family():
    """The counted rows of both kinds are adjusted together: the independence row, the
    smallest p here, gets its raw p times the number of counted rows (4), not times 1."""
    scores = synthetic_scores({"mig": (0.05, 0.1), "modularity": (0.5, 0.52),
                               "dci_disentanglement": (0.5, 0.53)})
    c5 = aggregate.c5_verdicts(synthetic_gate_mi(), scores, SETTINGS, STATS)
    assert c5["counted"].all() and len(c5) == 4
    raw = c5["p_value"].to_numpy()
    np.testing.assert_allclose(c5["p_adjusted"], stats.holm(raw))
    row = independence(c5)
    assert row["p_value"] == raw.min() and row["p_adjusted"] == pytest.approx(4 * raw.min())


def test_the_independence_lines_speak_in_their_own_words():
    def line(verdicts):
        rows = pd.DataFrame({"claim": "C5", "test": "primary", "counted": True,
                             "verdict": verdicts, "control_verdict": "inconclusive",
                             "p_adjusted": 0.01, "task": "t", "arch": "lstm",
                             "prediction": "p", "decided_on": "trained vs 0: x",
                             "change": 0.1, "change_ci_low": 0.0, "change_ci_high": 0.2,
                             "seeds_agreeing": 5, "n_seeds": 5, "control": "c",
                             "control_change": 0.0, "control_ci_low": -0.1,
                             "control_ci_high": 0.1})
        return section.independence_line(rows, "x")["verdict"]

    assert line(["dependent", "dependent"]) == "dependent"
    assert line(["dependent", "not shown"]) == "dependent in part"
    assert line(["independent", "not shown"]) == "independent in part"
    assert line(["dependent", "independent"]) == "dependent in part, independent in part"
    assert line(["not shown", "untestable"]) == "not shown"


def test_no_solved_models_gives_empty_tables_not_errors():
    gate_mi = synthetic_gate_mi(unsolved=range(6))
    assert aggregate.c5_dependence(gate_mi, 0.95).empty
    c5 = aggregate.c5_verdicts(gate_mi, synthetic_scores({}), SETTINGS, STATS)
    assert c5["verdict"].tolist() == ["insufficient seeds"] and c5["n_unsolved"].tolist() == [6]


def test_float16_saturation_lowers_activation_mi_but_not_logit_mi():
    """Why logits are stored: float16 sigmoids of large logits tie at exactly 0 or 1."""
    rng = np.random.default_rng(4)
    rho, n, t, h = 0.9, 100, 100, 4
    za = 8 * rng.standard_normal((n, t, h))
    zb = rho * za + 8 * np.sqrt(1 - rho**2) * rng.standard_normal((n, t, h))
    acts = {"reset": sigmoid(za).astype(np.float16), "update": sigmoid(zb).astype(np.float16)}
    logits = {"reset": za.astype(np.float16), "update": zb.astype(np.float16)}
    assert np.mean(acts["reset"] == 1.0) > 0.1  # saturated: ties at exactly 1.0

    def same_unit(arrays):
        rows = pd.DataFrame(gate_pair_rows(arrays, "gru", [32]))
        return rows[rows["summary"] == "same_unit"]["mi"].iloc[0]

    assert same_unit(logits) == pytest.approx(gaussian_mi(rho), abs=0.1)
    # Quantile bins are rank based, so only the ties cost information: measured 0.76 vs 0.81.
    assert same_unit(acts) < same_unit(logits) - 0.02


def test_mi_given_the_shared_input_removes_input_driven_dependence():
    """Two gates driven only by the same input token: dependent, but not given the token."""
    rng = np.random.default_rng(5)
    n, t, h = 100, 100, 4
    token = rng.integers(0, 5, size=(n, t))
    wa, wb = rng.standard_normal((5, h)), rng.standard_normal((5, h))
    arrays = {"reset": sigmoid(3 * wa[token] + 0.3 * rng.standard_normal((n, t, h))),
              "update": sigmoid(3 * wb[token] + 0.3 * rng.standard_normal((n, t, h)))}
    rows = pd.DataFrame(gate_pair_rows(arrays, "gru", [16], input_types=token,
                                       n_permutations=9, main_bins=16)).set_index("summary")
    assert rows.loc["same_unit", "mi"] > 0.8
    assert abs(rows.loc["same_unit_given_input", "mi"]) < 0.05
    assert rows.loc["same_unit_given_input", "p_value"] > 0.1
    # Coupled beyond the token (b = a + noise): the conditional MI stays high.
    ca = discretize(arrays["reset"].reshape(-1, h), 16)
    coupled = arrays["reset"].reshape(-1, h) + 0.01 * rng.standard_normal((n * t, h))
    cb = discretize(coupled, 16)
    assert conditional_paired_mi(ca, cb, token.reshape(-1)).mean() > 0.5
