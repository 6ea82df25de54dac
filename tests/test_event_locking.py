"""Claim C2: event-triggered averages per model, and the C2 verdicts across seeds."""

import numpy as np
import pandas as pd

from gateroles import stats
from gateroles.analyses.event_locking import aggregate
from gateroles.analyses.event_locking import measure as events


def test_contrast_and_alignment_recover_a_planted_dip():
    rng = np.random.default_rng(0)
    n, t, h = 50, 40, 6
    is_reset = rng.random((n, t)) < 0.1
    forget = np.full((n, t, h), 0.8) + rng.normal(0, 0.01, (n, t, h))
    forget[is_reset] -= 0.5  # the forget gate drops exactly at resets
    gates = {"forget": forget, "input": np.full((n, t, h), 0.5), "output": np.full((n, t, h), 0.5)}
    contrast, aligned = events.event_tables(gates, {"is_reset": is_reset}, {"reset": "is_reset"},
                                            "lstm", window=2)
    row = contrast[(contrast.gate == "forget")].iloc[0]
    assert abs(row.difference + 0.5) < 0.01
    assert row.cohens_d < -5
    curve = aligned[aligned.gate == "forget"].set_index("offset")["value"]
    assert curve[0] < 0.35 and curve[-2] > 0.7
    assert abs(contrast[contrast.gate == "input"].difference.iloc[0]) < 1e-12


def test_event_aligned_handles_edges_by_masking():
    signal = np.arange(10, dtype=float)[None, :]
    ev = np.zeros((1, 10), bool)
    ev[0, 0] = True
    curve = events.event_aligned(signal, ev, window=2)
    assert np.isnan(curve[0]) and np.isnan(curve[1])
    np.testing.assert_array_equal(curve[2:], [0, 1, 2])


SETTINGS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)


def contrast_table(effects_trained, solved, gate="forget", event="reset", arch="lstm"):
    rows = []
    for seed, (effect, ok) in enumerate(zip(effects_trained, solved, strict=True)):
        for step, value in ((0, 0.001 * (-1) ** seed), (300, effect)):
            rows.append({"task": "reset_recall", "arch": arch, "init": "default", "seed": seed,
                         "step": step, "final_step": 300, "gate": gate, "event": event,
                         "difference": value, "cohens_d": 10 * value, "solved": ok})
    return pd.DataFrame(rows)


def unit_table_from(contrast, share_trained=0.5):
    units = contrast[["task", "arch", "init", "seed", "step", "final_step", "gate", "event",
                      "solved"]].copy()
    spread = 0.01 * (units["seed"] % 3)  # seeds differ a little, as real ones do
    units["share_down"] = np.where(units["step"] == 0, 0.03, share_trained + spread)
    units["share_up"] = 0.02
    return units


def population(c2):
    return c2[c2["evidence"] == aggregate.POPULATION].iloc[0]


def test_c2_supported_when_the_forget_gate_drops_in_every_solved_seed():
    table = contrast_table([-0.10, -0.12, -0.08, -0.11, -0.09, +0.50], [True] * 5 + [False])
    c2 = aggregate.c2_verdicts(table, unit_table_from(table), SETTINGS)
    row = population(c2)
    assert row["verdict"] == "supported"
    assert row["n_seeds"] == 5 and row["seeds_agreeing"] == 5 and row["n_unsolved"] == 1
    assert np.isclose(row["trained"], -0.1)
    assert row["change_ci_high"] < 0 < row["initial_ci_high"]
    units = c2[c2["evidence"] == aggregate.UNITS].iloc[0]
    assert units["verdict"] == "supported" and np.isclose(units["change"], 0.47 + 0.01 * 4 / 5)
    # primary, but without a control that ran it is not counted
    assert row["test"] == "primary" and not row["counted"] and row["control_verdict"] == ""
    assert row["control"] == "lstm_nfg (forget held at 1 in training) (not run)"


def test_c2_counts_beside_a_control_that_does_not_move_and_not_beside_one_that_does():
    table = contrast_table([-0.10, -0.12, -0.08, -0.11, -0.09], [True] * 5)
    still = contrast_table([0.0] * 5, [True] * 5, arch="lstm_nfg")
    c2 = aggregate.c2_verdicts(table, unit_table_from(table), SETTINGS, still,
                               unit_table_from(still, share_trained=0.0))
    row = population(c2)
    assert row["verdict"] == "supported" and row["counted"]
    assert row["control_verdict"] == "inconclusive" and abs(row["control_change"]) < 0.001
    moving = contrast_table([-0.10, -0.12, -0.08, -0.11, -0.09], [True] * 5, arch="lstm_nfg")
    c2 = aggregate.c2_verdicts(table, unit_table_from(table), SETTINGS, moving,
                               unit_table_from(moving))
    assert population(c2)["control_verdict"] == "supported" and not population(c2)["counted"]


def test_a_removed_gate_is_measured_as_the_constant_it_is(gate_file):
    """On lstm_nfg the forget gate is absent from the gate file; the control's rows exist and
    say it does not move (difference 0, no unit responding)."""
    rng = np.random.default_rng(1)
    n, t, h = 40, 30, 4
    is_reset = (rng.random((n, t)) < 0.1).astype(np.int64)
    acts = {g: rng.random((n, t, h)).astype(np.float32)
            for g in ("input", "cell_candidate", "output", "cell", "hidden")}
    inputs = gate_file({"is_reset": is_reset}, {0: acts, 10: acts},
                       events={"reset": "is_reset"})
    from gateroles.study import Run

    tables = events.measure(inputs, Run("reset_recall", "lstm_nfg", "default", 0),
                            events.Settings(eta_window=2, unit_alpha=0.025))
    forget = tables["contrast"][tables["contrast"]["gate"] == "forget"]
    assert len(forget) == 2 and (forget["difference"] == 0).all()
    units = tables["units"][tables["units"]["gate"] == "forget"]
    assert (units["share_down"] == 0).all() and (units["share_up"] == 0).all()


def test_c2_contradicted_when_it_rises():
    table = contrast_table([0.10, 0.12, 0.08, 0.11, 0.09], [True] * 5)
    c2 = aggregate.c2_verdicts(table, unit_table_from(table, share_trained=0.0), SETTINGS)
    assert population(c2)["verdict"] == "contradicted"
    assert c2[c2["evidence"] == aggregate.UNITS].iloc[0]["verdict"] == "contradicted"


def test_fewer_solved_seeds_than_the_minimum_decide_nothing():
    table = contrast_table([-0.10, -0.12, -0.08, -0.11, +0.5], [True] * 4 + [False])
    assert population(aggregate.c2_verdicts(table, unit_table_from(table), SETTINGS))[
        "verdict"] == "insufficient seeds"


def test_unit_share_sees_opposite_units_that_the_mean_cancels():
    """Half the units rise at the event and half drop: the mean over units is ~0, but each
    unit's response is significant (the share measure is built for this)."""
    rng = np.random.default_rng(0)
    n, t, h = 60, 50, 8
    is_event = rng.random((n, t)) < 0.1
    act = 0.5 + rng.normal(0, 0.02, (n, t, h))
    act[..., :4] += 0.2 * is_event[..., None]
    act[..., 4:] -= 0.2 * is_event[..., None]
    contrast = events.event_contrast(events.population_mean(act), is_event)
    assert abs(contrast["difference"]) < 0.01
    shares = events.unit_responses(act, is_event, alpha=0.025)
    assert shares["share_up"] == 0.5 and shares["share_down"] == 0.5
    null = events.unit_responses(0.5 + rng.normal(0, 0.02, (n, t, h)), is_event, 0.025)
    assert null["share_up"] <= 0.25 and null["share_down"] <= 0.25
