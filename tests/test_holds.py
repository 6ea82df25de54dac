"""Claim C8: where the memory lives (the keep gate across holds) and the trend of the keep
gate's role against hold length, with hand-built cases whose answers are known."""

import numpy as np
import pandas as pd
import pytest
import torch

from gateroles import gatefile, gates, stats, storage, tasks
from gateroles.analyses.holds import Settings, figures, section
from gateroles.analyses.holds import aggregate as agg
from gateroles.analyses.holds import measure as hm
from gateroles.models import build_model
from gateroles.pipeline import RunInputs
from gateroles.study import Run

H = 6  # hidden units
HOLD = 5
STATS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)
SETTINGS = Settings(saturation=0.9, memory_units=0.5)


def _task(name=f"hold_recall@{HOLD}", n=16, episodes=3, seed=0):
    base, hold = tasks.parse_name(name)
    width = hold + (2 if base == "hold_recall" else 4)
    return tasks.make_task(name, n, episodes * width + 1, seed)


def _hand_built(arch, keep, task):
    """A model on `task` whose keep gate (LSTM forget, GRU update) is `keep` exactly at every
    step (its rows 0, its bias the logit of `keep`: 100 for 1); other weights as built."""
    model = build_model(arch, task.input_size, H, task.n_outputs, "default", task.length, 0)
    if keep is not None:
        with torch.no_grad():
            rows = slice(H, 2 * H)  # LSTM i, f, g, o; GRU r, z, n: the second block
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_hh_l0"):
                getattr(model.rnn, name)[rows] = 0
            model.rnn.bias_ih_l0[rows] = 100.0 if keep == 1 else float(np.log(keep / (1 - keep)))
    return model


def _gate_file(tmp_path, task, models: dict):
    """A gate file of `task` with each checkpoint's gates extracted from `models` (step ->
    model)."""
    data = gatefile.task_arrays(task, task.n_sequences)
    path = tmp_path / "gates.npz"
    gatefile.write(str(path), data, {s: gates.extract(m, task.inputs) for s, m in models.items()})
    return RunInputs({"gates": str(path)})


# ------------------------------------------------------------------ the keep gate across holds

def test_hold_sums_add_the_steps_strictly_between_store_and_query():
    per_step = np.arange(10, dtype=float)[None, :, None] * np.ones((2, 1, 3))
    intervals = np.array([[0, 2, 6, 0], [1, 0, 3, 1]])
    sums = hm.hold_sums(per_step, intervals)
    np.testing.assert_allclose(sums[0], 3 + 4 + 5)
    np.testing.assert_allclose(sums[1], 1 + 2)


def test_a_keep_gate_at_one_keeps_the_product_at_one_and_one_at_half_gives_half_to_the_h():
    task = _task()
    intervals = hm.usable_intervals(task.factors, task.events)
    assert set(intervals[:, 3]) == {0, 1} and (intervals[:, 0] % 2 == 1).all()
    shape = task.inputs.shape[:2] + (4,)
    units = {"memory": np.array([0, 2]), "all": slice(None)}
    ones = {(r["kind"], r["units"]): r for r in hm.keep_rows(np.ones(shape), intervals, units,
                                                            0.9)}
    halves = {(r["kind"], r["units"]): r for r in hm.keep_rows(np.full(shape, 0.5), intervals,
                                                              units, 0.9)}
    for key, row in ones.items():
        assert row["log10_product"] == 0 and row["log10_product_best"] == 0
        assert row["saturated"] == 1 and row["mean_keep"] == 1
        assert row["hold_steps"] == HOLD
        half = halves[key]
        assert half["log10_product"] == pytest.approx(HOLD * np.log10(0.5))
        assert half["log10_product"] == pytest.approx(half["log10_half"])
        assert half["saturated"] == 0 and half["mean_keep"] == 0.5
    assert ones[("keep", "memory")]["n_units"] == 2 and ones[("keep", "all")]["n_units"] == 4


def test_a_gate_that_keeps_during_holds_and_erases_at_resets_cuts_only_the_erase_intervals():
    task = _task()
    intervals = hm.usable_intervals(task.factors, task.events)
    keep = np.where(task.factors["is_reset"][..., None].astype(bool), 0.0, 1.0)
    keep = np.broadcast_to(keep, keep.shape[:2] + (3,))
    rows = {r["kind"]: r for r in hm.keep_rows(keep, intervals, {"all": slice(None)}, 0.9)}
    assert rows["keep"]["log10_product"] == 0
    assert rows["erase"]["log10_product"] == pytest.approx(np.log10(1e-7))  # the floor
    assert rows["erase"]["saturated"] == pytest.approx((HOLD - 1) / HOLD)


@pytest.mark.parametrize("arch,keep,expected", [
    ("lstm", 1, 0.0), ("lstm", 0.5, HOLD * np.log10(0.5)), ("gru", 1, 0.0),
    ("lstm_nfg", None, 0.0), ("lstm_ffg", None, HOLD * np.log10(0.5))])
def test_measure_reads_the_keep_gate_of_each_architecture(tmp_path, arch, keep, expected):
    """Hand-built: a forget (update) gate exactly 1 keeps the product at 1 (0 decades) and is
    saturated at every hold step; one at 0.5 gives 0.5^H; lstm_nfg's removed forget gate is the
    constant 1, lstm_ffg's held one 0.5."""
    task = _task()
    model = _hand_built(arch, keep, task)
    tables = hm.measure(_gate_file(tmp_path, task, {0: model, 10: model}),
                        Run(task.name, arch, "default", 0), SETTINGS)
    keep_table = tables["keep"]
    assert set(keep_table["step"]) == {0, 10} and (keep_table["final_step"] == 10).all()
    assert set(keep_table["kind"]) == {"keep", "erase"}
    assert set(keep_table["units"]) == {"memory", "all"}
    assert (keep_table.loc[keep_table["units"] == "memory", "n_units"] == H // 2).all()
    np.testing.assert_allclose(keep_table["log10_product"], expected, atol=2e-3)
    assert (keep_table["saturated"] == (1.0 if expected == 0 else 0.0)).all()
    assert set(keep_table["gate"]) == {"update" if arch == "gru" else "forget"}


def test_a_tanh_rnn_and_a_task_without_intervals_have_no_rows(tmp_path):
    task = _task()
    model = build_model("rnn", task.input_size, H, task.n_outputs, "default", task.length, 0)
    tables = hm.measure(_gate_file(tmp_path, task, {0: model}), Run(task.name, "rnn",
                                                                    "default", 0), SETTINGS)
    assert tables["keep"].empty and list(tables["keep"].columns) == hm.COLUMNS
    adding = tasks.make_task("adding", 8, 20, 0)
    model = build_model("lstm", adding.input_size, H, 1, "default", 20, 0)
    tables = hm.measure(_gate_file(tmp_path, adding, {0: model}),
                        Run("adding", "lstm", "default", 0), SETTINGS)
    assert tables["keep"].empty


# ------------------------------------------------------------------ trends across hold lengths

def test_slopes_are_per_seed_least_squares_against_log2_hold():
    values = pd.DataFrame({"seed": [0, 0, 0, 1, 1, 2], "hold": [10, 20, 40, 10, 40, 10],
                           "value": [1.0, 2.0, 3.0, 5.0, 4.0, 7.0],
                           "solved": [True, True, True, True, True, True]})
    out = agg.slopes(values)
    assert out[0] == pytest.approx(1.0) and out[1] == pytest.approx(-0.5)
    assert np.isnan(out[2])  # one hold length: no slope
    values.loc[1, "solved"] = False
    assert agg.slopes(values)[0] == pytest.approx(1.0)  # 10 and 40 only
    assert agg.slopes(values, solved_only=False)[0] == pytest.approx(1.0)


def _role_values(rise, seeds=range(5), holds=(10, 30, 90), arch="lstm", base="hold_recall",
                 measure="erasure_share", initial_rise=0.0, noise=0.02, seed=0, solved=True):
    """`values` rows of one role measure: value = 0.3 + rise * log2(H / 10) + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in seeds:
        for h in holds:
            for phase, slope in (("trained", rise), ("initial", initial_rise)):
                value = 0.3 + slope * np.log2(h / 10) + noise * rng.normal()
                rows.append({"task": f"{base}@{h}", "base": base, "hold": float(h),
                             "arch": arch, "init": "default", "seed": s, "phase": phase,
                             "solved": solved, "measure": measure, "value": value})
    return pd.DataFrame(rows)


def test_a_role_that_grows_with_the_hold_is_supported_beside_a_flat_control():
    values = _role_values(0.1)
    control = _role_values(0.0, arch="lstm_nfg", seed=2)
    table = agg.c8_verdicts(values, control, STATS)
    row = table.iloc[0]
    assert row["claim"] == "C8" and row["test"] == "primary" and row["task"] == "hold_recall"
    assert row["verdict"] == "supported" and row["counted"]
    assert row["change"] == pytest.approx(0.1, abs=0.02)
    assert row["initial"] == pytest.approx(0.0, abs=0.02)
    assert row["control"].startswith("lstm_nfg (forget held at 1")
    assert row["control_verdict"] in stats.CONTROL_FAILS
    assert "holds 10, 30, 90" in row["note"]
    line = section.claims(table)[0]
    assert line["verdict"] == "supported"


def test_a_trend_that_also_passes_its_control_is_not_a_test_and_one_hold_is_no_trend():
    values = _role_values(0.1)
    table = agg.c8_verdicts(values, _role_values(0.1, arch="lstm_nfg", seed=1), STATS)
    assert table.iloc[0]["control_verdict"] == "supported" and not table.iloc[0]["counted"]
    assert agg.c8_verdicts(_role_values(0.1, holds=(30,)), None, STATS).empty
    no_control = agg.c8_verdicts(values, None, STATS)
    assert no_control.iloc[0]["control"].endswith("(not run)")


def test_the_interchange_trend_is_decided_on_the_trained_slope_against_0():
    values = _role_values(0.1, measure="interchange", initial_rise=0.1)
    row = agg.c8_verdicts(values, None, STATS).iloc[0]
    assert row["decided_on"].startswith("trained vs 0")
    assert row["change"] == pytest.approx(0.1, abs=0.02)  # the step-0 rise does not count


def test_a_null_role_rarely_passes_the_trend_verdict():
    """No trend at all (the role absent by construction, or present but flat): the per-seed
    slopes are noise around 0, and the verdict comes out supported in about 2.5% of studies
    (one-sided at 0.95); a control held exactly constant is untestable."""
    supported = 0
    n = 200
    for k in range(n):
        table = agg.c8_verdicts(_role_values(0.0, seed=k, noise=0.1), None, STATS)
        supported += table.iloc[0]["verdict_unadjusted"] == "supported"
    assert supported / n < 0.075, supported
    flat = _role_values(0.0, arch="lstm_nfg", noise=0.0)
    flat["value"] = 0.0
    row = agg.c8_verdicts(_role_values(0.1), flat, STATS).iloc[0]
    assert row["control_verdict"] == "untestable" and row["counted"]


def test_unsolved_seeds_leave_the_trend_and_are_counted():
    values = _role_values(0.1)
    values.loc[(values["seed"] == 4) & (values["hold"] > 10), "solved"] = False
    row = agg.c8_verdicts(values, None, STATS).iloc[0]
    assert row["n_seeds"] == 4 and row["n_unsolved"] == 1
    assert row["verdict"] == "insufficient seeds"


# ------------------------------------------------------------------ aggregate, figures, section

def _models(rows_per_model: list[dict], measure_cols: dict, seeds=range(5), holds=(10, 30)):
    out = []
    for h in holds:
        for s in seeds:
            for step in (0, 100):
                for base in rows_per_model:
                    row = {"task": f"hold_recall@{h}", "arch": "lstm", "init": "default",
                           "seed": s, "step": step, "final_step": 100, "solved": True, **base}
                    row.update({k: f(h, s, step) for k, f in measure_cols.items()})
                    out.append(row)
    return pd.DataFrame(out)


def test_aggregate_figures_and_section(tmp_path):
    keep = _models(
        [{"kind": kind, "units": units, "gate": "forget", "n_intervals": 10, "n_units": 8}
         for kind in ("keep", "erase") for units in ("memory", "all")],
        {"hold_steps": lambda h, s, step: float(h),
         "saturated": lambda h, s, step: 0.1 * step / 100 + 0.01 * s,
         "mean_keep": lambda h, s, step: 0.7, "log10_product": lambda h, s, step: -0.1 * h,
         "log10_product_best": lambda h, s, step: -0.05 * h,
         "log10_half": lambda h, s, step: h * np.log10(0.5)}, holds=(5, 30))
    shares = _models([{"event": "reset", "gate": "forget"}],
                     {"share": lambda h, s, step: 0.3 + (0.1 + 0.01 * s) * np.log2(h) * (step > 0)
                      + 0.01 * s}, holds=(5, 30))
    out = agg.aggregate({"keep": keep, "shares": shares}, None, SETTINGS, STATS)
    assert {"values", "by_hold", "c8"} <= set(out)
    by_hold = out["by_hold"]
    assert set(by_hold["hold"]) == {5.0, 30.0} and (by_hold["cells"] == "tested").all()
    assert {"saturated", "log10_product_keep", "log10_product_erase", "erasure_share"} <= set(
        by_hold["measure"])
    c8 = out["c8"]
    assert len(c8) == 1 and c8.iloc[0]["verdict"] == "supported"
    assert c8.iloc[0]["control"].endswith("(not run)")  # none ran: not counted
    paths = {}
    for name in ("c8", "by_hold"):
        paths[name] = str(tmp_path / f"{name}.csv")
        storage.write_csv(out[name], paths[name])
    for name, draw in figures.FIGURES.items():
        fig = draw({"by_hold": storage.read_csv(paths["by_hold"])}, SETTINGS)
        assert fig.axes, name
        figures.plots.save(fig, str(tmp_path / f"{name}.png"), str(tmp_path / f"{name}.pdf"))
    config = {"holds": {"saturation": 0.9}, "roles": {"memory_units": 0.25}}
    inputs = section.Inputs(config, {"c8": paths["c8"], "holds_by_hold": paths["by_hold"]},
                            {n: str(tmp_path / f"{n}.png") for n in figures.FIGURES})
    built = section.section(inputs)
    assert built["claims"][0]["claim"] == "C8"
    memory = " ".join(built["memory_sentences"])
    # the holds in numerical order (hold_recall@30 sorts before hold_recall@5 as text)
    assert "hold_recall, lstm (trained, step 0 in brackets; keep gate above 0.9): H = 5: " \
        "saturated 0.12 (0.02), log10 product across a hold -0.5 with no erase and -0.5 with " \
        "one (a constant 0.5: -1.5) [5 solved seeds]; H = 30:" in memory
    trend = " ".join(built["trend_sentences"])
    assert "supported (not counted)" in trend and "Per doubling of the hold" in trend


def test_no_hold_task_gives_a_placeholder_and_an_undecided_line(tmp_path):
    out = agg.aggregate({}, None, SETTINGS, STATS)
    assert out["c8"].empty and out["by_hold"].empty
    for draw in figures.FIGURES.values():
        assert draw({"by_hold": out["by_hold"]}, SETTINGS).axes
    assert section.claims(out["c8"])[0]["verdict"] == "not decided"
